"""One agent's failure in any phase is that agent's: the study goes on and ends PARTIAL, counted by phase.

Each test scripts the fake model to give unusable answers to exactly one agent's calls in one phase
(its name, or a marker only its description holds, is unique to the test), runs a whole study through
the six real servers, and checks the status, the counts per phase and the failure's record.
"""

from __future__ import annotations

import re
import uuid

import pytest
from tinytroupe_mesh_api.control.v1 import control_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from tests.orchestrator.support import Mode, small_study

pytestmark = pytest.mark.asyncio(loop_scope="session")

FailurePhase = orchestrator_pb2.FailurePhase
NOT_JSON = "I would rather not answer in JSON."


def three_people() -> tuple[str, str, str]:
    suffix = uuid.uuid4().hex[:6]
    return f"Ana{suffix}", f"Ben{suffix}", f"Cyd{suffix}"


def talkative(mesh, names) -> None:
    """Every one of `names` says something each turn, so that each has results to extract."""
    mesh.fake.script(
        rf"^You are ({'|'.join(names)})\.",
        {
            "actions": [
                {"type": "TALK", "target": "", "content": "I would buy it if it boils fast."},
                {"type": "DONE", "target": "", "content": ""},
            ]
        },
        on="system",
    )


async def run(stubs, study) -> orchestrator_pb2.StudyResult:
    operation = await stubs.orchestrator.RunStudy(study)
    return await stubs.result(operation.name, timeout_s=120)


def assert_one_failed(result: orchestrator_pb2.StudyResult, phase: int, agent_name: str = "") -> None:
    counts = result.participants
    assert result.status == orchestrator_pb2.STUDY_STATUS_PARTIAL
    assert (counts.total, counts.successful, counts.failed) == (3, 2, 1)
    by_phase = {
        FailurePhase.FAILURE_PHASE_CREATION: counts.failed_creation,
        FailurePhase.FAILURE_PHASE_VALIDATION: counts.failed_validation,
        FailurePhase.FAILURE_PHASE_SIMULATION: counts.failed_simulation,
        FailurePhase.FAILURE_PHASE_EXTRACTION: counts.failed_extraction,
    }
    assert by_phase == {key: int(key == phase) for key in by_phase}
    [failure] = result.participant_failures
    assert failure.phase == phase and failure.reason
    if agent_name:
        assert failure.agent_name == agent_name


async def test_an_agent_whose_turns_fail_leaves_the_others_to_finish(stubs, mesh):
    ana, ben, cyd = three_people()
    mesh.fake.script(rf"^You are {ben}\.", NOT_JSON, on="system")
    result = await run(stubs, small_study(names=(ana, ben, cyd)))
    assert_one_failed(result, FailurePhase.FAILURE_PHASE_SIMULATION, ben)
    assert {entry.agent_name for entry in result.extracted_results.individual_results} == {ana, cyd}


async def test_an_agent_whose_extraction_fails_counts_as_failed_and_lowers_the_quality(stubs, mesh):
    ana, ben, cyd = three_people()
    talkative(mesh, (ana, ben, cyd))
    mesh.fake.script(rf"Extract the fields for {ben}\.", NOT_JSON)
    result = await run(stubs, small_study(names=(ana, ben, cyd)))
    assert_one_failed(result, FailurePhase.FAILURE_PHASE_EXTRACTION, ben)
    [failed] = [entry for entry in result.extracted_results.individual_results if entry.agent_name == ben]
    assert failed.failure_reason
    assert result.extracted_results.statistical_analysis.quality_metrics.failure_rate == pytest.approx(1 / 3)


async def test_an_agent_whose_validation_fails_leaves_the_study(stubs, mesh):
    ana, ben, cyd = three_people()
    mesh.fake.script(rf"You validate simulated personas(?s:.*){ben}", NOT_JSON)
    study = small_study(names=(ana, ben, cyd))
    study.participants.expectations = "Adults who drink tea every day."
    result = await run(stubs, study)
    assert_one_failed(result, FailurePhase.FAILURE_PHASE_VALIDATION, ben)
    assert {validation.agent_name for validation in result.validations} == {ana, cyd}
    assert ben not in {entry.agent_name for entry in result.simulation_results.interactions}


async def test_an_unusable_grounded_persona_is_one_participant_not_the_study(stubs, mesh):
    marker = f"Zorblax{uuid.uuid4().hex[:8]}"
    mesh.fake.script(marker, NOT_JSON)
    study = small_study()
    del study.participants.specifications[:]
    study.participants.mode = Mode.MODE_CUSTOM
    study.participants.specifications.extend(
        [
            "A retired train driver from Lyon who bakes bread on Sundays.",
            f"A marine biologist who studies the {marker} reef.",
            "A nurse on night shifts in Porto who saves for a house.",
        ]
    )
    result = await run(stubs, study)
    assert_one_failed(result, FailurePhase.FAILURE_PHASE_CREATION)
    assert result.participant_failures[0].index == 1


async def test_a_study_in_which_every_agent_fails_fails(stubs, mesh):
    ana, ben, cyd = three_people()
    mesh.fake.script(rf"You validate simulated personas(?s:.*)({ana}|{ben}|{cyd})", NOT_JSON)
    study = small_study(names=(ana, ben, cyd))
    study.participants.expectations = "Adults who drink tea every day."
    operation = await stubs.orchestrator.RunStudy(study)
    finished = await stubs.wait(operation.name, timeout_s=120)
    assert finished.HasField("error")
    assert "no participant" in finished.error.message


async def test_a_study_in_which_more_than_the_allowed_share_fails_fails(stubs, mesh):
    ana, ben, cyd = three_people()
    mesh.fake.script(rf"You validate simulated personas(?s:.*)({ana}|{ben})", NOT_JSON)
    study = small_study(names=(ana, ben, cyd))
    study.participants.expectations = "Adults who drink tea every day."
    operation = await stubs.orchestrator.RunStudy(study)
    finished = await stubs.wait(operation.name, timeout_s=120)
    assert finished.HasField("error")
    assert "max_failed_fraction" in finished.error.message


async def test_a_failed_study_is_retried_from_its_last_checkpoint_without_running_finished_phases(stubs, mesh):
    ana, ben, cyd = three_people()
    names = (ana, ben, cyd)
    talkative(mesh, names)
    outage = mesh.fake.script(rf"Extract the fields for ({ana}|{ben}|{cyd})\.", NOT_JSON)
    operation = await stubs.orchestrator.RunStudy(small_study(names=names))
    failed = await stubs.wait(operation.name, timeout_s=120)
    assert "every participant failed" in failed.error.message

    mesh.fake.scripts.remove(outage)  # the model works again
    turns_before = count_turns(mesh, names)
    await stubs.orchestrator.ResumeStudy(orchestrator_pb2.ResumeStudyRequest(name=operation.name))
    result = await stubs.result(operation.name, timeout_s=120)

    assert result.status == orchestrator_pb2.STUDY_STATUS_COMPLETED
    assert result.metadata.retried_count == 1
    assert count_turns(mesh, names) == turns_before, "the finished simulation is not run again"
    ids = await stubs.checkpoint_ids(operation.name)
    assert ids.index("study_failed") < ids.index("retried_1") < ids.index("operation_complete")
    assert (await stubs.session(operation.name)).state == control_pb2.Session.STATE_ENDED


async def test_resuming_a_completed_study_returns_it_as_it_is(stubs):
    operation = await stubs.orchestrator.RunStudy(small_study())
    result = await stubs.result(operation.name, timeout_s=120)
    again = await stubs.orchestrator.ResumeStudy(orchestrator_pb2.ResumeStudyRequest(name=operation.name))
    assert again.done and again.response == (await stubs.wait(operation.name)).response
    assert result.metadata.retried_count == 0
    assert not any(name.startswith("retried_") for name in await stubs.checkpoint_ids(operation.name))


def count_turns(mesh, names) -> int:
    pattern = re.compile(rf"^You are ({'|'.join(names)})\.")
    return sum(
        1
        for record in mesh.fake.stats.requests
        if record.body
        and any(
            pattern.match(str(message.get("content", "")))
            for message in record.body.get("messages", [])
            if message.get("role") == "system"
        )
    )
