"""`troupe report` of an experiment whose arms ran study plans: each step's fields charted per arm beside
their comparison (`{step}.{field}`), and each arm's plan shown where its stimulus would be."""

from __future__ import annotations

from html import escape

from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.cli.output import arm_answers_to_csv
from services.cli.report import chart_library, render
from tests.cli.test_report import chart_count, experiment_request, experiment_result

SENTENCE = "49 EUR scores higher than 69 EUR on intent.purchase_intent: 7.60 vs 3.60, p < 0.001 (adjusted), g = -3.50."


def plan_result() -> orchestrator_pb2.ExperimentResult:
    """The price test's result as if each arm had asked its question as the step `intent` of a plan."""
    result = experiment_result()
    for arm in result.arms:
        step = arm.result.step_results.add(step="intent", index=1)
        for answer in arm.result.extracted_results.individual_results:
            moved = step.extracted_results.individual_results.add(agent_name=answer.agent_name)
            moved.fields["purchase_intent"].CopyFrom(answer.fields["purchase_intent"])
        arm.result.ClearField("extracted_results")
    comparisons = [entry for entry in result.comparisons if entry.field == "purchase_intent"]
    del result.comparisons[:]
    result.comparisons.extend(comparisons)
    result.comparisons[0].field = "intent.purchase_intent"
    result.comparisons[0].sentence = SENTENCE
    return result


def plan_request() -> orchestrator_pb2.RunExperimentRequest:
    request = experiment_request()
    request.ClearField("extraction_config")
    for arm in request.arms:
        price = arm.name.split()[0]
        arm.ClearField("stimulus")
        arm.steps.add(
            name="intent",
            stimulus=study_pb2.Stimulus(content=f"Would you subscribe at {price} EUR a month, 1 to 10?"),
            extraction_config=study_pb2.ExtractionConfig(
                fields=["purchase_intent"], fields_hints={"purchase_intent": "integer 1-10"}
            ),
        )
    return request


def test_a_plan_experiments_report_charts_each_steps_field_beside_its_comparison():
    page = render(plan_result(), plan_request(), chart_library())
    for text in (
        "<code>intent.purchase_intent</code>",
        "integer 1-10",
        escape(SENTENCE),
        "Would you subscribe at 69 EUR a month, 1 to 10?",
        'id="field-intent.purchase_intent"',
    ):
        assert text in page, text
    assert chart_count(page) == 2, "the step's number field: its distribution and its means per arm"


def test_without_the_request_the_steps_fields_are_read_from_the_arms_results():
    page = render(plan_result(), None, chart_library())
    assert escape(SENTENCE) in page and chart_count(page) == 2


def test_the_experiments_answers_have_a_column_per_step_field():
    rows = arm_answers_to_csv(plan_result()).decode().splitlines()
    assert rows[0] == "arm,agent_name,intent.purchase_intent,confidence_score"
    assert rows[1].startswith("49 EUR,49-person-0,8,")
