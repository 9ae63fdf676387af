"""Whole studies through the six real servers (in this process) against the fake LLM server."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from google.longrunning import operations_pb2
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2
from tinytroupe_mesh_api.population.v1 import population_pb2

from services.orchestrator.checkpoints import StudyCheckpoints
from tests.orchestrator.support import example, small_study
from tests.rich_errors import field_violations

pytestmark = pytest.mark.asyncio(loop_scope="session")

Phase = orchestrator_pb2.Phase


@pytest.mark.parametrize(
    "study_file, expected_agents",
    [
        ("focus_group.json", 3),  # from_agent, focus group
        ("survey.yaml", 5),  # from_demographics, survey
        ("interview.json", 3),  # from_population, interview
        ("custom_personas.yaml", 2),  # custom descriptions, focus group
    ],
)
async def test_a_study_runs_end_to_end(stubs, mesh, study_file, expected_agents):
    study = example(study_file)
    requests_before = mesh.fake.stats.total_requests
    operation = await stubs.orchestrator.RunStudy(study)
    assert operation.name.startswith("operations/")
    result = await stubs.result(operation.name)

    assert result.operation_id == operation.name
    assert result.session_id == operation.name.replace("operations/", "sessions/")
    assert result.status == orchestrator_pb2.STUDY_STATUS_COMPLETED
    assert (result.participants.total, result.participants.successful, result.participants.failed) == (
        expected_agents,
        expected_agents,
        0,
    )
    rounds = study.simulation_config.rounds
    assert result.simulation_results.rounds_completed == rounds
    transcript = result.simulation_results.interactions
    assert result.simulation_results.total_interactions == len(transcript)
    actors = {entry.agent_name for entry in transcript if entry.action != study_pb2.ACTION_TYPE_STIMULUS}
    actors.discard("moderator")
    assert 1 <= len(actors) <= expected_agents
    assert {entry.round for entry in transcript} >= set(range(1, rounds + 1))

    extracted = result.extracted_results
    fields = list(study.extraction_config.fields)
    assert len(extracted.individual_results) == expected_agents
    assert actors <= {agent.agent_name for agent in extracted.individual_results}
    assert all(set(agent.fields) == set(fields) for agent in extracted.individual_results)
    assert [statistics.field for statistics in extracted.aggregate_statistics] == fields
    speakers = {entry.agent_name for entry in transcript if entry.action == study_pb2.ACTION_TYPE_TALK}
    speakers.discard("moderator")
    # Only what an agent said is evidence: an agent that only thought or was done gives no values.
    assert extracted.statistical_analysis.sample_size <= len(speakers)
    assert (extracted.statistical_analysis.sample_size > 0) == bool(speakers)
    for agent in extracted.individual_results:
        if agent.agent_name not in speakers:
            assert all(value.problem.startswith("missing") for value in agent.fields.values())
    assert 0.0 <= result.metadata.quality_score <= 1.0
    assert result.metadata.quality_score == extracted.statistical_analysis.quality_metrics.score

    metadata = result.metadata
    assert metadata.cache_file == study.session_config.cache_file
    assert metadata.checkpoints[:2] == ["study_request", "agents_created"]
    assert [f"round_{n}" for n in range(1, rounds + 1)] == [c for c in metadata.checkpoints if c.startswith("round_")]
    assert metadata.checkpoints[-2:] == ["simulation_complete", "operation_complete"]
    assert metadata.execution_time.ToNanoseconds() > 0 and metadata.resumed_count == 0
    model_requests = mesh.fake.stats.total_requests - requests_before
    assert metadata.token_usage.calls >= expected_agents * rounds
    assert metadata.token_usage.calls <= model_requests
    assert metadata.token_usage.prompt_tokens > 0 and metadata.token_usage.completion_tokens > 0

    session = await stubs.session(operation.name)
    assert session.state == control_pb2.Session.STATE_ENDED
    assert session.labels["kind"] == "study"
    assert await stubs.checkpoint_ids(operation.name) == list(metadata.checkpoints)


async def test_the_same_request_id_returns_the_same_operation(stubs, mesh):
    study = small_study(rounds=1)
    first, second = await asyncio.gather(stubs.orchestrator.RunStudy(study), stubs.orchestrator.RunStudy(study))
    assert first.name == second.name
    await stubs.result(first.name)
    requests_after_first = mesh.fake.stats.total_requests
    again = await stubs.orchestrator.RunStudy(study)
    assert again.name == first.name and again.done
    assert mesh.fake.stats.total_requests == requests_after_first
    sessions = await stubs.control.ListSessions(
        control_pb2.ListSessionsRequest(page_size=1000, labels={"kind": "study"})
    )
    assert [s.name for s in sessions.sessions].count(first.name.replace("operations/", "sessions/")) == 1


async def test_the_same_request_id_with_another_request_is_refused(stubs):
    study = small_study(rounds=1)
    await stubs.orchestrator.RunStudy(study)
    study.stimulus.content = "Something else entirely?"
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.orchestrator.RunStudy(study)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "request_id" in field_violations(raised.value)


async def test_invalid_requests_name_their_fields(stubs):
    study = small_study()
    study.participants.specifications[1] = '{"type": "TinyPerson", "persona": '
    study.simulation_config.rounds = 0
    study.stimulus.content = " "
    del study.extraction_config.fields[:]
    study.extraction_config.fields_hints.clear()
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.orchestrator.RunStudy(study)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(raised.value)) == {
        "participants.specifications[1]",
        "simulation_config.rounds",
        "stimulus.content",
        "extraction_config.fields",
    }

    count = small_study()
    count.participants.mode = orchestrator_pb2.Participants.MODE_FROM_DEMOGRAPHICS
    count.participants.specifications[:] = ['{"title": "Town", "content": {}}']
    count.participants.count = 1001
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.orchestrator.RunStudy(count)
    assert set(field_violations(raised.value)) == {"participants.count"}


async def test_watch_streams_every_phase_until_done(stubs):
    study = small_study(rounds=3)
    operation = await stubs.orchestrator.RunStudy(study)
    events = [
        event
        async for event in stubs.orchestrator.WatchStudy(
            orchestrator_pb2.WatchStudyRequest(name=operation.name), timeout=60
        )
    ]
    phases = [event.phase for event in events]
    assert phases == sorted(phases), "phases only move forward"
    assert phases[-1] == Phase.PHASE_DONE and phases.count(Phase.PHASE_DONE) == 1
    assert {Phase.PHASE_SIMULATING, Phase.PHASE_EXTRACTING} <= set(phases)
    simulating = [event for event in events if event.phase == Phase.PHASE_SIMULATING]
    assert {event.round for event in simulating} >= {1, 2, 3}
    assert all(event.rounds_total == 3 and event.agents_total == 2 for event in simulating)
    assert max(event.agents_done for event in simulating) == 2
    assert all(event.operation == operation.name for event in events)

    after = [
        event
        async for event in stubs.orchestrator.WatchStudy(
            orchestrator_pb2.WatchStudyRequest(name=operation.name), timeout=10
        )
    ]
    assert [event.phase for event in after] == [Phase.PHASE_DONE]
    done = await stubs.operations.GetOperation(operations_pb2.GetOperationRequest(name=operation.name))
    progress = orchestrator_pb2.StudyProgress()
    assert done.done and done.metadata.Unpack(progress) and progress.phase == Phase.PHASE_DONE


async def test_cancel_stops_the_model_calls_and_fails_the_session(stubs, mesh):
    study = small_study(rounds=30)
    operation = await stubs.orchestrator.RunStudy(study)
    async for event in stubs.orchestrator.WatchStudy(
        orchestrator_pb2.WatchStudyRequest(name=operation.name), timeout=30
    ):
        if event.phase == Phase.PHASE_SIMULATING and event.round >= 2:
            break
    await stubs.operations.CancelOperation(operations_pb2.CancelOperationRequest(name=operation.name))
    requests_at_cancel = mesh.fake.stats.total_requests
    cancelled = await stubs.wait(operation.name, timeout_s=10)
    assert cancelled.error.code == grpc.StatusCode.CANCELLED.value[0]
    session = await stubs.session(operation.name)
    assert session.state == control_pb2.Session.STATE_FAILED and session.end_reason == "cancelled"
    await asyncio.sleep(0.3)
    assert mesh.fake.stats.total_requests == requests_at_cancel, "no model call after the cancellation"
    assert mesh.fake.stats.in_flight == 0
    checkpoints = await stubs.checkpoint_ids(operation.name)
    assert "operation_complete" not in checkpoints and "round_30" not in checkpoints


async def test_operations_list_get_and_delete(stubs):
    names = [(await stubs.orchestrator.RunStudy(small_study(rounds=1))).name for _ in range(3)]
    for name in names:
        await stubs.result(name)
    first_page = await stubs.operations.ListOperations(
        operations_pb2.ListOperationsRequest(name="operations", page_size=2)
    )
    assert len(first_page.operations) == 2 and first_page.next_page_token
    assert [operation.name for operation in first_page.operations] == names[::-1][:2], "newest first"
    assert all(operation.done and operation.HasField("response") for operation in first_page.operations)
    second_page = await stubs.operations.ListOperations(
        operations_pb2.ListOperationsRequest(name="operations", page_size=2, page_token=first_page.next_page_token)
    )
    assert names[0] in [operation.name for operation in second_page.operations]
    running = await stubs.operations.ListOperations(
        operations_pb2.ListOperationsRequest(name="operations", filter="done=false", page_size=1000)
    )
    assert not set(names) & {operation.name for operation in running.operations}

    await stubs.operations.DeleteOperation(operations_pb2.DeleteOperationRequest(name=names[0]))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.operations.GetOperation(operations_pb2.GetOperationRequest(name=names[0]))
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.operations.GetOperation(operations_pb2.GetOperationRequest(name="studies/x"))
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_running_study_cannot_be_deleted(stubs):
    operation = await stubs.orchestrator.RunStudy(small_study(rounds=30))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.operations.DeleteOperation(operations_pb2.DeleteOperationRequest(name=operation.name))
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    await stubs.operations.CancelOperation(operations_pb2.CancelOperationRequest(name=operation.name))


async def test_wait_returns_at_its_timeout_while_the_study_runs(stubs):
    operation = await stubs.orchestrator.RunStudy(small_study(rounds=30))
    request = operations_pb2.WaitOperationRequest(name=operation.name)
    request.timeout.FromMilliseconds(200)
    started = asyncio.get_running_loop().time()
    waited = await stubs.operations.WaitOperation(request)
    assert not waited.done and 0.15 <= asyncio.get_running_loop().time() - started < 2
    await stubs.operations.CancelOperation(operations_pb2.CancelOperationRequest(name=operation.name))


async def test_a_failing_model_fails_the_study_and_keeps_the_error(stubs, mesh):
    mesh.fake.configure(rate_500=1.0)
    try:
        operation = await stubs.orchestrator.RunStudy(small_study(rounds=1))
        failed = await stubs.wait(operation.name)
    finally:
        mesh.fake.configure(rate_500=0.0)
    assert failed.error.code != 0 and failed.error.message
    session = await stubs.session(operation.name)
    assert session.state == control_pb2.Session.STATE_FAILED
    assert "study_failed" in await stubs.checkpoint_ids(operation.name)


async def test_fragments_are_merged_and_expectations_validated(stubs):
    study = small_study(names=("Ana", "Ben"), rounds=1)
    study.participants.fragments.add(builtin=population_pb2.FRAGMENT_SKEPTIC)
    study.participants.expectations = "A curious teacher in their forties."
    result = await stubs.result((await stubs.orchestrator.RunStudy(study)).name)
    assert sorted(validation.agent_name for validation in result.validations) == ["Ana", "Ben"]
    assert all(0.0 <= validation.score <= 1.0 for validation in result.validations)
    created = await StudyCheckpoints(stubs.control_client, result.session_id).load(
        "agents_created", orchestrator_pb2.AgentsCreated
    )
    assert all(agent.provenance.fragments for agent in created.agents)
