"""Blinded options through the real servers: each participant reads the options unnamed in an order of
their own, and their `Option N` reaches extraction as the option's name."""

from __future__ import annotations

import re
import uuid

import grpc
import pytest
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.engine.simulation.blinding import StimulusOption, option_order
from tests.orchestrator.support import small_study
from tests.rich_errors import field_violations

pytestmark = pytest.mark.asyncio(loop_scope="session")

SEED = 17
OPTIONS = [
    study_pb2.StimulusOption(name="plan-cheap", description="The solar kettle for 49 EUR."),
    study_pb2.StimulusOption(name="plan-dear", description="The solar kettle for 69 EUR, with a thermos."),
]


def blinded_survey(names: tuple[str, ...]) -> orchestrator_pb2.RunStudyRequest:
    study = small_study(names, rounds=1, environment=study_pb2.ENVIRONMENT_TYPE_SURVEY)
    study.stimulus.CopyFrom(
        study_pb2.Stimulus(
            type="offer",
            content="Which of these would you buy?",
            options=OPTIONS,
            blind_options=True,
            blinding_seed=SEED,
        )
    )
    study.extraction_config.CopyFrom(
        study_pb2.ExtractionConfig(
            extract_results=True,
            extraction_objective="Which option each participant chose.",
            fields=["choice"],
            fields_hints={"choice": "one of plan-cheap/plan-dear"},
        )
    )
    return study


def first_seen(name: str) -> str:
    order = option_order([StimulusOption(name=option.name) for option in OPTIONS], SEED, name)
    return OPTIONS[order[0]].name


async def test_blinded_options_are_shown_in_each_participants_order_and_mapped_back_before_extraction(stubs, mesh):
    suffix = uuid.uuid4().hex[:6]
    names = tuple(f"B{index}x{suffix}" for index in range(8))
    seen_by: dict[str, str] = {}
    extracted_from: dict[str, str] = {}

    def choose_the_first(body: dict) -> dict:
        text = "\n".join(str(message.get("content", "")) for message in body["messages"])
        name = re.search(rf"You are (B\d+x{suffix})\.", text)[1]
        seen_by[name] = text
        return {
            "actions": [
                {"type": "TALK", "target": "", "content": "I would buy Option 1."},
                {"type": "DONE", "target": "", "content": ""},
            ]
        }

    def extract_choice(body: dict) -> dict:
        text = "\n".join(str(message.get("content", "")) for message in body["messages"])
        name = re.search(rf"Extract the fields for (B\d+x{suffix})", text)[1]
        extracted_from[name] = text
        choice = re.search(rf"^{name}: I would buy (.+?)\.$", text, re.MULTILINE)[1]
        return {"choice": {"value": choice, "evidence": "", "confidence": 0.9}}

    mesh.fake.script(rf"^You are B\d+x{suffix}\.", choose_the_first, on="system")
    mesh.fake.script(rf"(?s)Extract the fields for B\d+x{suffix}", extract_choice, merge=False)
    assert {first_seen(name) for name in names} == {"plan-cheap", "plan-dear"}, "both orders are drawn"

    operation = await stubs.orchestrator.RunStudy(blinded_survey(names))
    result = await stubs.result(operation.name, timeout_s=120)

    assert result.status == orchestrator_pb2.STUDY_STATUS_COMPLETED
    for name in names:
        prompt = seen_by[name]
        assert "plan-cheap" not in prompt and "plan-dear" not in prompt
        shown = re.findall(r"Option (\d): (.*?)(?=\s+Option \d:|\n|$)", prompt)
        expected_first = next(option.description for option in OPTIONS if option.name == first_seen(name))
        assert shown[0] == ("1", expected_first) and shown[1][0] == "2"
        assert f"{name}: I would buy {first_seen(name)}." in extracted_from[name]
        assert "I would buy Option 1" not in extracted_from[name]
    choices = {
        entry.agent_name: entry.fields["choice"].string_value for entry in result.extracted_results.individual_results
    }
    assert choices == {name: first_seen(name) for name in names}
    said = [
        entry.content
        for entry in result.simulation_results.interactions
        if entry.agent_name in names and entry.action == study_pb2.ACTION_TYPE_TALK
    ]
    assert said and all(content == "I would buy Option 1." for content in said), "the transcript keeps what was said"


@pytest.mark.parametrize(
    "change, field",
    [
        (
            lambda study: study.simulation_config.__setattr__(
                "environment_type", study_pb2.ENVIRONMENT_TYPE_FOCUS_GROUP
            ),
            "stimulus.blind_options",
        ),
        (lambda study: study.stimulus.options.pop(), "stimulus.blind_options"),
        (lambda study: study.stimulus.options.add(name=" Plan-Cheap "), "stimulus.options[2].name"),
        (lambda study: study.stimulus.options.add(name=""), "stimulus.options[2].name"),
    ],
)
async def test_a_study_with_options_that_cannot_be_blinded_is_refused(stubs, mesh, change, field):
    study = blinded_survey(("Ana", "Ben"))
    change(study)
    requests_before = mesh.fake.stats.total_requests
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stubs.orchestrator.RunStudy(study)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in field_violations(refused.value)
    assert mesh.fake.stats.total_requests == requests_before


async def test_an_experiment_arm_with_blinded_options_in_a_focus_group_is_refused(stubs):
    study = blinded_survey(("Ana", "Ben"))
    request = orchestrator_pb2.RunExperimentRequest(
        participants=study.participants,
        simulation_config=study_pb2.SimulationConfig(environment_type=study_pb2.ENVIRONMENT_TYPE_FOCUS_GROUP, rounds=1),
        extraction_config=study.extraction_config,
        arms=[
            orchestrator_pb2.ExperimentArm(name="A", stimulus=study.stimulus),
            orchestrator_pb2.ExperimentArm(name="B", stimulus=study.stimulus),
        ],
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stubs.orchestrator.RunExperiment(request)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert {"arms[0].stimulus.blind_options", "arms[1].stimulus.blind_options"} <= set(field_violations(refused.value))
