"""Experiments through the six real servers: arms as child studies, compared with statistical tests.

The fake model is scripted to rate the product by the arm's stimulus (a marker only that arm's
stimulus holds), so a difference between the arms is there to be found, or not.
"""

from __future__ import annotations

import re
import uuid

import grpc
import pytest
from google.longrunning import operations_pb2
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from tests.orchestrator.support import Mode, agent_spec
from tests.rich_errors import field_violations

pytestmark = pytest.mark.asyncio(loop_scope="session")

Design = orchestrator_pb2.ExperimentDesign


def experiment(names: list[str], markers: list[str], design: int) -> orchestrator_pb2.RunExperimentRequest:
    return orchestrator_pb2.RunExperimentRequest(
        request_id=uuid.uuid4().hex,
        session_config=orchestrator_pb2.SessionConfig(
            session_name="price test", cache_file=f"test-{uuid.uuid4().hex[:12]}"
        ),
        participants=orchestrator_pb2.Participants(
            mode=Mode.MODE_FROM_AGENT, specifications=[agent_spec(name) for name in names]
        ),
        simulation_config=study_pb2.SimulationConfig(
            environment_type=study_pb2.ENVIRONMENT_TYPE_SURVEY, rounds=1, max_actions_per_turn=2
        ),
        extraction_config=study_pb2.ExtractionConfig(
            extraction_objective="How much each participant likes the offer.",
            fields=["rating", "would_buy"],
            fields_hints={"rating": "integer 1-10", "would_buy": "yes or no"},
            statistical_analysis=True,
        ),
        arms=[
            orchestrator_pb2.ExperimentArm(
                name=f"arm {index}",
                stimulus=study_pb2.Stimulus(type="offer", content=f"A solar kettle for {marker}. Would you buy it?"),
            )
            for index, marker in enumerate(markers)
        ],
        design=design,
        seed=7,
    )


def rate_by_arm(fake, ratings: dict[str, tuple[int, ...]]) -> None:
    """Extraction answers: per marker, the ratings of participants P0, P1, ... (cycled)."""

    def answer(body: dict) -> dict:
        text = "\n".join(str(message.get("content", "")) for message in body["messages"])
        marker = next(marker for marker in ratings if marker in text)
        participant = int(re.search(r"Extract the fields for P(\d+)x", text)[1])
        value = ratings[marker][participant % len(ratings[marker])]
        return {
            "rating": {"value": value, "evidence": "", "confidence": 0.9},
            "would_buy": {"value": "yes" if value >= 6 else "no", "evidence": "", "confidence": 0.9},
        }

    pattern = "|".join(map(re.escape, ratings))
    fake.script(rf"(?s)({pattern}).*Extract the fields for", answer, merge=False)


def people(fake, count: int) -> list[str]:
    """Participants who all say something (so that each has values to extract)."""
    suffix = uuid.uuid4().hex[:5]
    fake.script(
        rf"^You are P\d+x{suffix}\.",
        {
            "actions": [
                {"type": "TALK", "target": "", "content": "Here is what I think of the offer."},
                {"type": "DONE", "target": "", "content": ""},
            ]
        },
        on="system",
    )
    return [f"P{index}x{suffix}" for index in range(count)]


async def run(stubs, request) -> orchestrator_pb2.ExperimentResult:
    operation = await stubs.orchestrator.RunExperiment(request)
    assert operation.name.startswith("operations/")
    finished = await stubs.wait(operation.name, timeout_s=180)
    assert not finished.HasField("error"), finished.error
    result = orchestrator_pb2.ExperimentResult()
    assert finished.response.Unpack(result)
    return result


def comparison(result: orchestrator_pb2.ExperimentResult, field: str) -> orchestrator_pb2.FieldComparison:
    return next(entry for entry in result.comparisons if entry.field == field)


async def test_a_between_subjects_experiment_finds_the_difference_between_its_arms(stubs, mesh):
    cheap, dear = f"49-EUR-{uuid.uuid4().hex[:6]}", f"69-EUR-{uuid.uuid4().hex[:6]}"
    rate_by_arm(mesh.fake, {cheap: (8, 9, 9, 8, 7), dear: (3, 4, 2, 4, 3)})
    names = people(mesh.fake, 12)
    result = await run(stubs, experiment(names, [cheap, dear], Design.EXPERIMENT_DESIGN_BETWEEN_SUBJECTS))

    assert [arm.name for arm in result.arms] == ["arm 0", "arm 1"]
    assert sorted(name for arm in result.arms for name in arm.participants) == sorted(names)
    assert [len(arm.participants) for arm in result.arms] == [6, 6]
    assert all(arm.result.status == orchestrator_pb2.STUDY_STATUS_COMPLETED for arm in result.arms)
    assert result.seed == 7
    rating = comparison(result, "rating")
    assert rating.test == "welch_t" and rating.p_value < 0.05 and rating.significant
    assert rating.difference < 0 and rating.ci95_high < 0
    assert "arm 0 scores higher than arm 1" in rating.sentence
    would_buy = comparison(result, "would_buy")
    assert would_buy.test in ("chi_square", "fisher_exact") and would_buy.p_value < 0.05
    assert [category.value for category in would_buy.arms[0].categories] == ["yes", "no"]


async def test_arms_that_answer_alike_show_no_significant_difference(stubs, mesh):
    first, second = f"A-{uuid.uuid4().hex[:6]}", f"B-{uuid.uuid4().hex[:6]}"
    rate_by_arm(mesh.fake, {first: (5, 7, 6), second: (6, 5, 7)})
    result = await run(
        stubs, experiment(people(mesh.fake, 12), [first, second], Design.EXPERIMENT_DESIGN_BETWEEN_SUBJECTS)
    )
    rating = comparison(result, "rating")
    assert not rating.significant and rating.p_value_adjusted >= 0.05
    assert rating.sentence.startswith("No significant difference")


async def test_a_within_subjects_experiment_gives_everyone_every_arm_and_pairs_the_answers(stubs, mesh):
    low, high = f"L-{uuid.uuid4().hex[:6]}", f"H-{uuid.uuid4().hex[:6]}"
    rate_by_arm(mesh.fake, {low: (2, 3, 2, 4, 3, 2), high: (8, 9, 9, 8, 9, 7)})
    names = people(mesh.fake, 6)
    result = await run(stubs, experiment(names, [low, high], Design.EXPERIMENT_DESIGN_WITHIN_SUBJECTS))
    assert all(sorted(arm.participants) == sorted(names) for arm in result.arms)
    assert sorted(result.arm_orders) == sorted(names)
    assert {order for order in result.arm_orders.values()} == {"arm 0, arm 1", "arm 1, arm 0"}
    rating = comparison(result, "rating")
    assert rating.test == "paired_t" and rating.difference > 0 and rating.p_value < 0.05


async def test_an_experiment_needs_two_arms_with_distinct_names(stubs, mesh):
    request = experiment(people(mesh.fake, 4), ["x", "y"], Design.EXPERIMENT_DESIGN_BETWEEN_SUBJECTS)
    request.arms[1].name = "ARM 0"
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.orchestrator.RunExperiment(request)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "arms[1].name" in field_violations(raised.value)
    del request.arms[1:]
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.orchestrator.RunExperiment(request)
    assert "arms" in field_violations(raised.value)


async def test_the_same_request_id_returns_the_same_experiment(stubs, mesh):
    first, second = f"S-{uuid.uuid4().hex[:6]}", f"T-{uuid.uuid4().hex[:6]}"
    rate_by_arm(mesh.fake, {first: (5, 7, 6), second: (6, 5, 7)})
    request = experiment(people(mesh.fake, 4), [first, second], Design.EXPERIMENT_DESIGN_BETWEEN_SUBJECTS)
    started = await stubs.orchestrator.RunExperiment(request)
    again = await stubs.orchestrator.RunExperiment(request)
    assert again.name == started.name
    finished = await stubs.wait(started.name, timeout_s=180)
    result = orchestrator_pb2.ExperimentResult()
    assert finished.response.Unpack(result) and len(result.arms) == 2
    arm_sessions = {arm.result.session_id for arm in result.arms}
    assert len(arm_sessions) == 2 and started.name.removeprefix("operations/") not in arm_sessions


async def test_experiments_are_listed_with_their_filter(stubs, mesh):
    first, second = f"U-{uuid.uuid4().hex[:6]}", f"V-{uuid.uuid4().hex[:6]}"
    rate_by_arm(mesh.fake, {first: (5, 7, 6), second: (6, 5, 7)})
    request = experiment(people(mesh.fake, 4), [first, second], Design.EXPERIMENT_DESIGN_BETWEEN_SUBJECTS)
    started = await stubs.orchestrator.RunExperiment(request)
    await stubs.wait(started.name, timeout_s=180)
    listed = await stubs.operations.ListOperations(
        operations_pb2.ListOperationsRequest(name="operations", filter="kind=experiment AND done=true", page_size=1000)
    )
    assert started.name in {operation.name for operation in listed.operations}
    studies = await stubs.operations.ListOperations(
        operations_pb2.ListOperationsRequest(name="operations", page_size=1000)
    )
    assert started.name not in {operation.name for operation in studies.operations}
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.operations.ListOperations(
            operations_pb2.ListOperationsRequest(name="operations", filter="kind=panel")
        )
    assert "filter" in field_violations(raised.value)
