"""A study plan's extraction: one call per agent for every step's fields, each step reading its own part."""

from __future__ import annotations

import json

import pytest
from tinytroupe_mesh_api.common.v1 import agent_pb2, study_pb2
from tinytroupe_mesh_api.extraction.v1 import extraction_pb2

from services.extraction.results import extracted_results
from services.extraction.steps import StepExtractor, batches
from services.extraction.validation import plan_step_extraction
from services.runtime.errors import InvalidArgument

NAMES = ["Ana", "Ben"]
TALK = study_pb2.ACTION_TYPE_TALK
ASKED = study_pb2.ACTION_TYPE_STIMULUS


class RecordingLLM:
    """Answers every field with the number of its step's heading in the prompt, and records the calls."""

    def __init__(self) -> None:
        self.calls: list[list[dict[str, str]]] = []

    async def structured(self, messages, output_model, **options):
        self.calls.append(messages)
        prompt = messages[-1]["content"]
        answer = {}
        for field in output_model.model_fields.values():
            step = field.alias.split(".", 1)[0]
            answer[field.alias] = {
                "value": 4 if step == "q1" else "yes",
                "evidence": "I like it" if step == "q1" else "yes please",
                "confidence": 0.9 if f"Step {step}:" in prompt else 0.1,
            }
        return output_model.model_validate(answer)


def agent(name: str) -> agent_pb2.Agent:
    return agent_pb2.Agent(name=name, spec_json=json.dumps({"type": "TinyPerson", "persona": {"name": name}}))


def interaction(step: int, round_: int, name: str, action, content: str, sequence: int) -> study_pb2.Interaction:
    return study_pb2.Interaction(
        step=step, round=round_, agent_name=name, action=action, content=content, sequence=sequence
    )


def request(**changes) -> extraction_pb2.ExtractResultsRequest:
    transcript = [
        interaction(1, 0, "moderator", ASKED, "Rate it from 1 to 5.", 0),
        interaction(1, 1, "Ana", TALK, "I like it, a 4.", 1),
        interaction(1, 1, "Ben", TALK, "I like it too.", 2),
        interaction(2, 1, "moderator", ASKED, "Would you buy it?", 3),
        interaction(2, 2, "Ana", TALK, "Oh yes please.", 4),
    ]
    steps = [
        extraction_pb2.StepExtraction(
            step=1,
            name="q1",
            config=study_pb2.ExtractionConfig(
                fields=["rating"], fields_hints={"rating": "integer 1-5"}, statistical_analysis=True
            ),
        ),
        extraction_pb2.StepExtraction(
            step=2, name="q2", config=study_pb2.ExtractionConfig(fields=["buy"], fields_hints={"buy": "yes or no"})
        ),
    ]
    built = extraction_pb2.ExtractResultsRequest(
        session="sessions/s", agents=[agent(name) for name in NAMES], transcript=transcript, steps=steps
    )
    for name, value in changes.items():
        field = getattr(built, name)
        del field[:]
        field.extend(value)
    return built


async def test_each_agent_is_asked_once_for_every_steps_fields_each_step_reading_its_own_part():
    steps = plan_step_extraction(request())
    assert [len(step.plan.transcript) for step in steps] == [3, 2]
    llm = RecordingLLM()
    raws = await StepExtractor(llm).extract(steps)

    assert len(llm.calls) == 2, "one call per agent for both steps"
    prompt = next(call[-1]["content"] for call in llm.calls if call[-1]["content"].endswith("for Ana."))
    assert "- q1.rating: integer 1-5" in prompt and "- q2.buy:" in prompt
    assert prompt.index("Step q1:") < prompt.index("Rate it from 1 to 5.") < prompt.index("Step q2:")
    assert prompt.index("Step q2:") < prompt.index("Would you buy it?")
    assert [raw.agent_name for raw in raws["q1"]] == NAMES and [raw.agent_name for raw in raws["q2"]] == NAMES

    first = extracted_results(steps[0].plan, raws["q1"])
    second = extracted_results(steps[1].plan, raws["q2"])
    assert [result.fields["rating"].number_value for result in first.individual_results] == [4, 4]
    assert [item.field for item in first.aggregate_statistics] == ["rating"]
    ana, ben = second.individual_results
    assert ana.fields["buy"].bool_value is True
    assert not ben.fields["buy"].WhichOneof("value") and ben.failure_reason == ""


def test_steps_go_in_calls_of_at_most_32_fields():
    config = study_pb2.ExtractionConfig(fields=[f"f{index}" for index in range(20)])
    built = request(steps=[extraction_pb2.StepExtraction(step=n, name=f"s{n}", config=config) for n in (1, 2, 3)])
    assert [[step.name for step in batch] for batch in batches(plan_step_extraction(built))] == [["s1"], ["s2"], ["s3"]]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda built: built.steps[1].__setattr__("name", "Q1"), "steps[1].name"),
        (lambda built: built.steps[0].__setattr__("name", "a b"), "steps[0].name"),
        (lambda built: built.steps[0].__setattr__("step", 0), "steps[0].step"),
        (
            lambda built: built.steps[1].config.fields_hints.__setitem__("buy", "banana"),
            "steps[1].config.fields_hints[buy]",
        ),
        (
            lambda built: built.steps[0].config.__setattr__("mode", study_pb2.ExtractionConfig.MODE_WORLD),
            "steps[0].config.mode",
        ),
        (lambda built: built.config.fields.append("x"), "config"),
    ],
)
def test_a_bad_step_is_refused_naming_its_field(change, field):
    built = request()
    change(built)
    with pytest.raises(InvalidArgument) as raised:
        plan_step_extraction(built)
    assert field in dict(raised.value.violations)


def test_csv_export_has_one_row_per_participant_and_a_column_per_step_and_field():
    from services.extraction.export import plan_to_json, to_csv

    def answers(**fields) -> study_pb2.AgentResult:
        result = study_pb2.AgentResult(agent_name=fields.pop("who"), confidence_score=fields.pop("confidence"))
        for name, value in fields.items():
            result.fields[name].CopyFrom(
                study_pb2.FieldValue(kind=study_pb2.VALUE_KIND_BOOLEAN, bool_value=value, confidence=0.9)
                if isinstance(value, bool)
                else study_pb2.FieldValue(kind=study_pb2.VALUE_KIND_NUMBER, number_value=value, confidence=0.9)
            )
        return result

    study = study_pb2.ExtractedResults(individual_results=[answers(who="Ana", confidence=0.8, overall=7)])
    steps = [
        study_pb2.StepResults(
            step="q1",
            index=1,
            extracted_results=study_pb2.ExtractedResults(
                individual_results=[
                    answers(who="Ana", confidence=0.9, rating=4),
                    answers(who="Ben", confidence=0.5, rating=2),
                ]
            ),
        ),
        study_pb2.StepResults(
            step="q2",
            index=2,
            extracted_results=study_pb2.ExtractedResults(
                individual_results=[answers(who="Ben", confidence=0.7, buy=True)]
            ),
        ),
    ]
    rows = to_csv(study, step_results=steps).decode().splitlines()
    assert rows == [
        "agent_name,overall,q1.rating,q2.buy,confidence_score",
        "Ana,7,4,,0.8",
        "Ben,,2,yes,0.6",
    ]
    document = json.loads(plan_to_json(study, steps))
    assert [step["step"] for step in document["step_results"]] == ["q1", "q2"]
    assert document["results"]["individual_results"][0]["agent_name"] == "Ana"
