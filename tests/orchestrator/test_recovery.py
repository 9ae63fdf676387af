"""Studies whose runner died: claimed when their lease expires, or on demand with ResumeStudy, and
resumed from their checkpoints."""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.longrunning import operations_pb2
from google.protobuf import duration_pb2
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2
from tinytroupe_mesh_api.population.v1 import population_pb2, population_pb2_grpc

from services.common.names import checkpoint_name
from services.orchestrator.checkpoints import StudyCheckpoints
from services.runtime.clients import open_channel
from tests.orchestrator.support import Stubs, small_study

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def orphaned_study(
    stubs: Stubs, study: orchestrator_pb2.RunStudyRequest, *, holder: str | None, ttl_s: int = 1
) -> tuple[str, StudyCheckpoints]:
    """A study session as a replica leaves it when it dies right after storing the request."""
    session = await stubs.control.BeginSession(
        control_pb2.BeginSessionRequest(
            session=control_pb2.Session(
                display_name="orphan",
                labels={"kind": "study"},
                cache_namespace=study.session_config.cache_file,
            ),
            request_id=uuid.uuid4().hex,
        )
    )
    checkpoints = StudyCheckpoints(stubs.control_client, session.name)
    await checkpoints.store("study_request", study)
    if holder is not None:
        await stubs.control.AcquireLease(
            control_pb2.AcquireLeaseRequest(
                session=session.name, holder=holder, ttl=duration_pb2.Duration(seconds=ttl_s)
            )
        )
    return session.name.replace("sessions/", "operations/"), checkpoints


async def test_an_expired_lease_is_claimed_and_the_study_finished(stubs, mesh):
    operation, checkpoints = await orphaned_study(stubs, small_study(rounds=1), holder="replica-that-died")
    result = await stubs.result(operation, timeout_s=30)
    assert result.status == orchestrator_pb2.STUDY_STATUS_COMPLETED
    assert result.metadata.resumed_count == 1
    assert "resumed_1" in result.metadata.checkpoints
    resumed = await checkpoints.load("resumed_1", orchestrator_pb2.StudyResumed)
    assert resumed.runner == mesh.study_settings.replica_id and resumed.from_checkpoint == "study_request"


async def test_resume_study_claims_a_study_that_never_got_a_lease(stubs):
    operation, _ = await orphaned_study(stubs, small_study(rounds=1), holder=None)
    resumed = await stubs.orchestrator.ResumeStudy(orchestrator_pb2.ResumeStudyRequest(name=operation))
    assert resumed.name == operation
    result = await stubs.result(operation)
    assert result.metadata.resumed_count == 1 and result.simulation_results.rounds_completed == 1


async def test_resume_study_refuses_a_study_another_replica_runs(stubs):
    operation, checkpoints = await orphaned_study(stubs, small_study(rounds=1), holder="live-replica", ttl_s=60)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.orchestrator.ResumeStudy(orchestrator_pb2.ResumeStudyRequest(name=operation))
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    await stubs.control.EndSession(
        control_pb2.EndSessionRequest(
            name=checkpoints.session, final_state=control_pb2.Session.STATE_FAILED, reason="test over"
        )
    )


async def test_stored_agents_are_not_made_again(stubs, mesh):
    study = small_study(names=("Ana", "Ben"), rounds=1)
    operation, checkpoints = await orphaned_study(stubs, study, holder="replica-that-died")
    channel = open_channel(mesh.addresses.population)
    population = population_pb2_grpc.PopulationServiceStub(channel)
    zed = await population.LoadAgent(
        population_pb2.LoadAgentRequest(
            session=checkpoints.session,
            spec_json='{"type": "TinyPerson", "persona": {"name": "Zed", "age": 50}}',
        )
    )
    await channel.close()
    await checkpoints.store("agents_created", orchestrator_pb2.AgentsCreated(agents=[zed], requested=1))
    result = await stubs.result(operation, timeout_s=30)
    actors = {
        entry.agent_name
        for entry in result.simulation_results.interactions
        if entry.action != study_pb2.ACTION_TYPE_STIMULUS
    }
    assert actors == {"Zed"}
    assert [agent.agent_name for agent in result.extracted_results.individual_results] == ["Zed"]
    assert result.participants.total == 1


async def test_a_study_resumes_from_its_latest_round_and_replays_from_the_cache(stubs, mesh):
    study = small_study(rounds=3)
    reference = await stubs.result((await stubs.orchestrator.RunStudy(study)).name)
    reference_session = StudyCheckpoints(stubs.control_client, reference.session_id)

    replay = small_study(rounds=3)
    replay.CopyFrom(study)
    replay.request_id = uuid.uuid4().hex
    requests_before = mesh.fake.stats.total_requests
    operation, checkpoints = await orphaned_study(stubs, replay, holder="replica-that-died")
    for checkpoint_id in ("agents_created", "round_1", "round_2"):
        stored = await stubs.control.GetCheckpoint(
            control_pb2.GetCheckpointRequest(name=checkpoint_name(reference_session.session, checkpoint_id))
        )
        await stubs.control.CreateCheckpoint(
            control_pb2.CreateCheckpointRequest(
                parent=checkpoints.session,
                checkpoint_id=checkpoint_id,
                checkpoint=control_pb2.Checkpoint(
                    payload=stored.payload, content_type=stored.content_type, annotations=stored.annotations
                ),
            )
        )
    result = await stubs.result(operation, timeout_s=30)

    assert list(result.simulation_results.interactions) == list(reference.simulation_results.interactions)
    assert result.extracted_results == reference.extracted_results
    assert mesh.fake.stats.total_requests == requests_before, "round 3 and extraction replay from the cache"
    assert result.metadata.token_usage.cached_calls > 0
    assert result.metadata.resumed_count == 1
    resumed = await checkpoints.load("resumed_1", orchestrator_pb2.StudyResumed)
    assert resumed.from_checkpoint == "round_2"
    assert [c for c in result.metadata.checkpoints if c.startswith("round_")] == [
        "round_1",
        "round_2",
        "round_3",
    ]


async def test_watch_polls_control_for_another_replicas_study_then_follows_it_here(stubs, mesh):
    operation, _ = await orphaned_study(stubs, small_study(rounds=2), holder="replica-that-stalls", ttl_s=2)
    events = [
        event
        async for event in stubs.orchestrator.WatchStudy(orchestrator_pb2.WatchStudyRequest(name=operation), timeout=30)
    ]
    phases = [event.phase for event in events]
    assert phases[0] == orchestrator_pb2.PHASE_CREATING_AGENTS and not events[0].runner, "polled from control"
    assert phases == sorted(phases) and phases[-1] == orchestrator_pb2.PHASE_DONE
    assert mesh.study_settings.replica_id in {event.runner for event in events}, "then followed here"


async def test_cancel_ends_a_study_that_another_replica_runs(stubs):
    operation, _ = await orphaned_study(stubs, small_study(rounds=1), holder="live-replica", ttl_s=60)
    await stubs.operations.CancelOperation(operations_pb2.CancelOperationRequest(name=operation))
    cancelled = await stubs.wait(operation, timeout_s=5)
    assert cancelled.error.code == grpc.StatusCode.CANCELLED.value[0]
    session = await stubs.session(operation)
    assert session.state == control_pb2.Session.STATE_FAILED and session.end_reason == "cancelled"
