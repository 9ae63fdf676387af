"""`troupe report`: one self-contained HTML page per study or experiment, its charts drawn in headless Chromium
without network access and without a single error logged."""

from __future__ import annotations

import re

import grpc
import pytest
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.cli.output import document_json
from services.cli.report import ReportError, chart_library, render
from services.cli.report.charts import NumberRange, value_bins
from services.cli.report.command import write_report
from tests.cli.headless import INSTALL_HINT, find_chromium, open_page
from tests.cli.support import NAME, Calls, StubMesh, console, operation, rpc_error

FIELDS = {
    "purchase_intent": "integer 1-10",
    "would_subscribe": "yes or no",
    "price_fairness": "one of too cheap/fair/too expensive",
    "main_doubt": "short text",
}
SAYINGS = (
    "At that price I would sign up tomorrow, the repairs being included matters to me.",
    "I am not sure I would use it every day, but it sounds fair.",
    "Too expensive for what it is; I already have a bicycle that works.",
    "ok",
)


def arm_study(name: str, people: list[str], intents: list[int], index: int) -> orchestrator_pb2.StudyResult:
    result = orchestrator_pb2.StudyResult(
        operation_id=f"operations/arm-{index}",
        session_id=f"sessions/arm-{index}",
        status=orchestrator_pb2.STUDY_STATUS_COMPLETED,
    )
    result.participants.total = result.participants.successful = len(people)
    result.metadata.start_time.FromSeconds(1_780_000_000 + index)
    result.metadata.end_time.FromSeconds(1_780_000_060 + index)
    result.metadata.quality_score = 0.8
    interactions = result.simulation_results.interactions
    interactions.add(
        round=0,
        agent_name="moderator",
        action=study_pb2.ACTION_TYPE_STIMULUS,
        content=f"PedalShare for {name} a month. Would you subscribe?",
    )
    for number, (person, intent) in enumerate(zip(people, intents, strict=True)):
        interactions.add(
            round=1,
            agent_name=person,
            action=study_pb2.ACTION_TYPE_TALK,
            sequence=number,
            content=SAYINGS[number % len(SAYINGS)],
        )
        agent = result.extracted_results.individual_results.add(agent_name=person, confidence_score=0.9)
        agent.fields["purchase_intent"].CopyFrom(
            study_pb2.FieldValue(kind=study_pb2.VALUE_KIND_NUMBER, number_value=intent, confidence=0.9)
        )
        agent.fields["would_subscribe"].CopyFrom(
            study_pb2.FieldValue(kind=study_pb2.VALUE_KIND_BOOLEAN, bool_value=intent >= 6, confidence=0.9)
        )
        agent.fields["price_fairness"].CopyFrom(
            study_pb2.FieldValue(
                kind=study_pb2.VALUE_KIND_CATEGORY, string_value="fair" if intent >= 5 else "too expensive"
            )
        )
        agent.fields["main_doubt"].CopyFrom(
            study_pb2.FieldValue(
                kind=study_pb2.VALUE_KIND_TEXT, string_value="the price" if intent < 5 else "storage at home"
            )
        )
    result.extracted_results.aggregate_statistics.add(
        field="purchase_intent",
        kind=study_pb2.VALUE_KIND_NUMBER,
        usable_count=len(people),
        total_count=len(people),
        numeric=study_pb2.NumericStatistics(
            count=len(people),
            mean=sum(intents) / len(intents),
            median=intents[0],
            std_dev=1.0,
            min=min(intents),
            max=max(intents),
            ci95_low=2,
            ci95_high=8,
        ),
    )
    return result


def experiment_result() -> orchestrator_pb2.ExperimentResult:
    result = orchestrator_pb2.ExperimentResult(
        operation=NAME,
        session=NAME.replace("operations/", "sessions/"),
        design=orchestrator_pb2.EXPERIMENT_DESIGN_BETWEEN_SUBJECTS,
        seed=49,
    )
    for index, (name, intents) in enumerate((("49 EUR", [8, 9, 7, 8, 6]), ("69 EUR", [3, 4, 2, 5, 4]))):
        people = [f"{name[:2]}-person-{number}" for number in range(5)]
        result.arms.add(
            name=name,
            study_operation=f"operations/arm-{index}",
            participants=people,
            result=arm_study(name, people, intents, index),
        )
    result.comparisons.add(
        field="purchase_intent",
        test="welch_t",
        statistic=-6.1,
        p_value=0.0003,
        p_value_adjusted=0.0009,
        rank_test="mann_whitney_u",
        rank_statistic=0.0,
        rank_p_value=0.008,
        effect_size_name="hedges_g",
        effect_size=-3.5,
        difference=-4.0,
        ci95_low=-5.5,
        ci95_high=-2.5,
        sample_size_per_arm_for_80_power=3,
        significant=True,
        sentence="49 EUR scores higher than 69 EUR on purchase_intent: 7.60 vs 3.60, p < 0.001 (adjusted), g = -3.50.",
        arms=[
            orchestrator_pb2.ArmSummary(arm="49 EUR", count=5, mean=7.6, std_dev=1.14),
            orchestrator_pb2.ArmSummary(arm="69 EUR", count=5, mean=3.6, std_dev=1.14),
        ],
    )
    result.comparisons.add(
        field="would_subscribe",
        test="fisher_exact",
        p_value=0.048,
        p_value_adjusted=0.096,
        effect_size_name="cramers_v",
        effect_size=0.82,
        sample_size_per_arm_for_80_power=6,
        sentence="The answers to would_subscribe do not differ significantly across arms.",
        arms=[
            orchestrator_pb2.ArmSummary(
                arm="49 EUR",
                count=5,
                categories=[
                    study_pb2.CategoryCount(value="yes", count=5, share=1.0),
                    study_pb2.CategoryCount(value="no"),
                ],
            ),
            orchestrator_pb2.ArmSummary(
                arm="69 EUR",
                count=5,
                categories=[
                    study_pb2.CategoryCount(value="yes"),
                    study_pb2.CategoryCount(value="no", count=5, share=1.0),
                ],
            ),
        ],
    )
    result.comparisons.add(
        field="price_fairness",
        test="chi_square",
        p_value=0.01,
        p_value_adjusted=0.03,
        effect_size_name="cramers_v",
        effect_size=0.7,
        significant=True,
        sentence="They differ.",
    )
    result.comparisons.add(field="main_doubt", skipped_reason="a text field has no test")
    return result


def experiment_request() -> orchestrator_pb2.RunExperimentRequest:
    request = orchestrator_pb2.RunExperimentRequest(
        session_config=orchestrator_pb2.SessionConfig(session_name="PedalShare price test"),
        participants=orchestrator_pb2.Participants(
            mode=orchestrator_pb2.Participants.MODE_FROM_DEMOGRAPHICS,
            count=10,
            context="a survey",
            specifications=["{}"],
            specification_sources=["../populations/portside.json"],
        ),
        simulation_config=study_pb2.SimulationConfig(environment_type=study_pb2.ENVIRONMENT_TYPE_SURVEY, rounds=1),
        extraction_config=study_pb2.ExtractionConfig(fields=list(FIELDS), fields_hints=FIELDS),
        design=orchestrator_pb2.EXPERIMENT_DESIGN_BETWEEN_SUBJECTS,
        seed=49,
    )
    for price in ("49", "69"):
        request.arms.add(
            name=f"{price} EUR",
            stimulus=study_pb2.Stimulus(
                type="product_concept",
                content=f"PedalShare: an e-bike for {price} EUR a month <b>no tags</b>",
                context="A short survey.",
            ),
        )
    return request


def study_result() -> orchestrator_pb2.StudyResult:
    result = arm_study("49 EUR", [f"person-{number}" for number in range(6)], [8, 9, 7, 3, 6, 10], 0)
    result.operation_id, result.session_id = NAME, NAME.replace("operations/", "sessions/")
    result.simulation_results.rounds_completed = 1
    counts = result.extracted_results.aggregate_statistics.add(
        field="would_subscribe", kind=study_pb2.VALUE_KIND_BOOLEAN, usable_count=6, total_count=6
    )
    counts.counts.add(value="yes", count=5, share=5 / 6)
    counts.counts.add(value="no", count=1, share=1 / 6)
    return result


def chart_count(page: str) -> int:
    return len(re.findall(r"<canvas id=", page))


def test_an_experiment_report_shows_the_request_the_charts_the_tests_and_quotes():
    page = render(experiment_result(), experiment_request(), chart_library())
    for text in (
        "Experiment: PedalShare price test",
        "What was asked",
        "from demographics",
        "49 EUR",
        "69 EUR",
        "PedalShare: an e-bike for 69 EUR a month &lt;b&gt;no tags&lt;/b&gt;",
        "integer 1-10",
        "Welch&#x27;s t-test",
        "Hedges&#x27; g = -3.50",
        "-4.00 [-5.50, -2.50]",
        "What participants said",
        "At that price I would sign up tomorrow",
        "not compared: a text field has no test",
        "the price",
        "Chart.js v4.6.1",
        "MIT",
    ):
        assert text in page, text
    # purchase_intent: distribution and means; would_subscribe and price_fairness: shares; main_doubt: a table.
    assert chart_count(page) == 4
    assert "<b>no tags</b>" not in page, "caller text is escaped"
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), "nothing is fetched from the network"


def test_a_report_without_the_request_reads_what_it_can_from_the_result():
    result = experiment_result()
    result.arm_orders.update({"a": "49 EUR, 69 EUR", "b": "69 EUR, 49 EUR", "c": "49 EUR, 69 EUR"})
    page = render(result, None, chart_library())
    assert "in these orders: 49 EUR, 69 EUR (2); 69 EUR, 49 EUR (1)." in page
    assert "The request itself was not found" in page
    assert "PedalShare for 69 EUR a month. Would you subscribe?" in page, "the stimulus, from the transcript"
    assert "Experiment 3f6c1d2e" in page
    assert chart_count(page) == 4, "the fields' kinds come from the values"


def test_a_study_report_has_its_own_statistics_instead_of_tests():
    page = render(study_result(), None, chart_library())
    assert "Study 3f6c1d2e" in page and "Statistics" in page and "Tests</h2>" not in page
    assert "6 of 6 participants" in page and "95 % CI [2.00, 8.00]" in page
    assert chart_count(page) == 4


def test_bins_are_values_for_short_integer_scales_and_round_ranges_otherwise():
    assert value_bins([3, 4], NumberRange(integer=True, minimum=1, maximum=5))[0] == ["1", "2", "3", "4", "5"]
    labels, edges = value_bins([12.5, 199.0], NumberRange(minimum=0, maximum=200))
    assert labels[0] == "0–20" and labels[-1] == "180–200" and len(edges) == 11


def test_a_missing_chart_library_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setenv("CHARTJS_BUNDLE", str(tmp_path / "missing.js"))
    with pytest.raises(ReportError, match="make setup"):
        chart_library()


async def test_report_writes_the_page_beside_the_results_with_the_saved_request(tmp_path):
    folder = tmp_path / NAME.removeprefix("operations/")
    folder.mkdir()
    (folder / "request.json").write_text(document_json(experiment_request()))
    mesh = StubMesh(operations=Calls(GetOperation=_answer(operation(done=True, result=experiment_result()))))
    output = console()
    path = await write_report(mesh, output, NAME, tmp_path)
    assert path == folder / "report.html"
    assert "Experiment: PedalShare price test" in path.read_text()
    assert f"report of {NAME} in {path}" in " ".join(output.export_text().split())


async def test_report_refuses_a_running_operation_and_reads_result_json_when_the_mesh_is_away(tmp_path):
    running = StubMesh(operations=Calls(GetOperation=_answer(operation(done=False))))
    with pytest.raises(ReportError, match="still running"):
        await write_report(running, console(), NAME, tmp_path)
    folder = tmp_path / NAME.removeprefix("operations/")
    folder.mkdir()
    (folder / "result.json").write_text(document_json(study_result()))
    away = StubMesh(
        operations=Calls(GetOperation=_raise(rpc_error(grpc.StatusCode.UNAVAILABLE))),
        control=Calls(GetCheckpoint=_raise(rpc_error(grpc.StatusCode.UNAVAILABLE))),
    )
    output = console()
    path = await write_report(away, output, NAME, tmp_path)
    assert "Study 3f6c1d2e" in path.read_text()
    assert "the mesh is not answering" in output.export_text()


async def test_the_reports_draw_every_chart_in_headless_chromium_without_errors(tmp_path):
    chromium = find_chromium()
    if chromium is None:
        pytest.skip(f"no Chromium to render the report in: {INSTALL_HINT}")
    pages = {
        "experiment.html": render(experiment_result(), experiment_request(), chart_library()),
        "study.html": render(study_result(), None, chart_library()),
    }
    for name, text in pages.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        loaded = await open_page(chromium, path)
        assert loaded.errors == [], (name, loaded.errors)
        assert loaded.requests == [path.resolve().as_uri()], "the page fetches nothing else"
        assert loaded.charts_drawn == str(chart_count(text)), name
        assert len(loaded.canvases) == chart_count(text)
        for canvas in loaded.canvases:
            assert canvas["width"] > 100 and canvas["height"] > 100, (name, canvas)
            assert canvas["painted"] > 0.02 * canvas["width"] * canvas["height"], (name, canvas)


def _answer(value):
    async def call(request):
        return value

    return call


def _raise(error):
    async def call(request):
        raise error

    return call


def test_quotes_name_the_blinded_options_as_extraction_reads_them():
    from services.cli.report.content import quotes
    from services.engine.simulation.blinding import StimulusOption, option_order

    stimulus = study_pb2.Stimulus(
        content="Which kettle?",
        options=[study_pb2.StimulusOption(name="basic"), study_pb2.StimulusOption(name="eco")],
        blind_options=True,
        blinding_seed=4,
    )
    result = orchestrator_pb2.StudyResult()
    result.simulation_results.interactions.add(
        round=1, agent_name="Ana", action=study_pb2.ACTION_TYPE_TALK, content="I take Option 2, it saves power."
    )
    second = ["basic", "eco"][option_order([StimulusOption(name="basic"), StimulusOption(name="eco")], 4, "Ana")[1]]
    assert [quote.text for quote in quotes(result, stimulus)] == [f"I take {second}, it saves power."]
    assert [quote.text for quote in quotes(result)] == ["I take Option 2, it saves power."]
