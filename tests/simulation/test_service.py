"""The simulation service over real gRPC, with control (SQLite) and the fake OpenAI-compatible server."""

from __future__ import annotations

import grpc
import pytest
from tinytroupe_mesh_api.common.v1 import agent_pb2, study_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2
from tinytroupe_mesh_api.simulation.v1 import simulation_pb2

from tests.rich_errors import violations
from tests.simulation.mesh import Mesh, agents_named, run_request, running_mesh, spec_named, unique_namespace

NAMES = ["Lisa Carter", "Oscar Diaz", "Marcos Lima"]
WORLD_STATE_TYPE = "application/x-protobuf; type=tinytroupe.simulation.v1.WorldState"


@pytest.fixture
async def mesh(tmp_path):
    async with running_mesh(tmp_path, latency_s=0.05) as running:
        yield running


async def collect(call) -> list[simulation_pb2.SimulationEvent]:
    return [event async for event in call]


def kinds(events) -> list[str]:
    return [event.WhichOneof("event") for event in events]


async def test_focus_group_streams_events_and_checkpoints_each_round(mesh: Mesh):
    session = await mesh.begin_session()
    events = await collect(mesh.simulation.RunSimulation(run_request(session, NAMES, rounds=3), timeout=30))

    assert kinds(events)[0] == "agent_action" and events[0].agent_action.action == study_pb2.ACTION_TYPE_STIMULUS
    assert kinds(events)[-1] == "finished"
    assert [e.round_started.round for e in events if e.HasField("round_started")] == [1, 2, 3]
    checkpointed = [e.round_checkpointed for e in events if e.HasField("round_checkpointed")]
    assert [(c.round, c.checkpoint, c.agents_succeeded, c.agents_failed) for c in checkpointed] == [
        (n, f"{session}/checkpoints/round_{n}", 3, 0) for n in (1, 2, 3)
    ]
    for round_number in (1, 2, 3):  # a round's actions come between its start and its checkpoint
        start = next(i for i, e in enumerate(events) if e.round_started.round == round_number)
        end = next(i for i, e in enumerate(events) if e.round_checkpointed.round == round_number)
        acting = {e.agent_action.agent_name for e in events[start:end] if e.HasField("agent_action")}
        assert acting == set(NAMES)

    finished = events[-1].finished
    streamed = [e.agent_action for e in events if e.HasField("agent_action")]
    assert list(finished.results.interactions) == streamed
    assert [i.sequence for i in streamed] == list(range(len(streamed)))
    assert finished.results.rounds_completed == 3 and finished.results.total_interactions == len(streamed)
    assert (finished.participants.total, finished.participants.successful, finished.participants.failed) == (3, 3, 0)
    assert finished.checkpoint == f"{session}/checkpoints/simulation_complete"
    assert finished.usage.calls == 9 == mesh.fake.stats.total_requests
    assert finished.usage.prompt_tokens > 0 and finished.usage.completion_tokens > 0
    assert [agent.name for agent in finished.agents] == NAMES
    assert all(agent.episodic_memory and agent.cognitive_state.emotions for agent in finished.agents)
    assert finished.agents[0].agent_id == "agents/0"

    listed = await mesh.control.ListCheckpoints(control_pb2.ListCheckpointsRequest(parent=session), timeout=10)
    assert [c.name.rsplit("/", 1)[1] for c in listed.checkpoints] == [
        "round_1",
        "round_2",
        "round_3",
        "simulation_complete",
    ]
    stored = await mesh.control.GetCheckpoint(
        control_pb2.GetCheckpointRequest(name=f"{session}/checkpoints/round_2"), timeout=10
    )
    assert stored.content_type == WORLD_STATE_TYPE
    world = simulation_pb2.WorldState.FromString(stored.payload)
    assert world.rounds_completed == 2
    assert world.config.rounds == 3 and world.stimulus.content.startswith("A kettle")
    assert len(world.agents) == 3 and all(agent.episodic_memory for agent in world.agents)
    assert len(world.pending_messages) > 0  # round 2's talk waits for round 3
    assert world.usage.calls == 6
    assert [i for i in world.transcript] == streamed[: len(world.transcript)]

    bodies = [record.body for record in mesh.fake.stats.requests]
    assert all(body["max_tokens"] == 256 for body in bodies)
    assert all(body["response_format"]["type"] == "json_schema" for body in bodies)


async def test_without_stream_actions_only_rounds_failures_and_result_stream(mesh: Mesh):
    session = await mesh.begin_session()
    events = await collect(
        mesh.simulation.RunSimulation(run_request(session, NAMES[:2], rounds=2, stream_actions=False), timeout=30)
    )
    assert kinds(events) == ["round_started", "round_checkpointed"] * 2 + ["finished"]
    assert events[-1].finished.results.total_interactions > 2


async def test_resumed_run_equals_an_uninterrupted_one_and_replays_from_the_cache(mesh: Mesh):
    namespace = unique_namespace()
    uninterrupted_session = await mesh.begin_session(namespace)
    uninterrupted = await collect(
        mesh.simulation.RunSimulation(run_request(uninterrupted_session, NAMES, rounds=4), timeout=30)
    )
    model_calls = mesh.fake.stats.total_requests
    assert model_calls == 12

    session = await mesh.begin_session(namespace)
    async with mesh.another_simulation_server() as replica:  # a replica that dies after round 2
        call = replica.RunSimulation(run_request(session, NAMES, rounds=4), timeout=30)
        async for event in call:
            if event.round_checkpointed.round == 2:
                call.cancel()
                break
    async with mesh.another_simulation_server() as recovering:
        resumed = await collect(
            recovering.ResumeSimulation(
                simulation_pb2.ResumeSimulationRequest(
                    checkpoint=f"{session}/checkpoints/round_2", stream_actions=True
                ),
                timeout=30,
            )
        )

    assert mesh.fake.stats.total_requests == model_calls  # every round came from the cache
    assert kinds(resumed)[0] == "round_started" and resumed[0].round_started.round == 3
    assert [e.round_checkpointed.round for e in resumed if e.HasField("round_checkpointed")] == [3, 4]
    expected, got = uninterrupted[-1].finished, resumed[-1].finished
    assert list(got.results.interactions) == list(expected.results.interactions)
    assert got.results.rounds_completed == 4
    assert [a.episodic_memory for a in got.agents] == [a.episodic_memory for a in expected.agents]
    assert [a.cognitive_state for a in got.agents] == [a.cognitive_state for a in expected.agents]
    assert got.usage.calls == 0 and got.usage.cached_calls == 12
    assert got.checkpoint == f"{session}/checkpoints/simulation_complete"


async def test_worlds_with_a_checkpoint_suffix_keep_their_checkpoints_apart_also_when_resumed(mesh: Mesh):
    session = await mesh.begin_session()
    for suffix, names in (("_part_1", NAMES[:2]), ("_part_2", NAMES[2:])):
        request = run_request(session, names, rounds=2, environment=study_pb2.ENVIRONMENT_TYPE_SURVEY)
        request.checkpoint_suffix = suffix
        call = mesh.simulation.RunSimulation(request, timeout=30)
        async for event in call:
            if event.round_checkpointed.round == 1:
                assert event.round_checkpointed.checkpoint == f"{session}/checkpoints/round_1{suffix}"
                call.cancel()
                break
    resumed = await collect(
        mesh.simulation.ResumeSimulation(
            simulation_pb2.ResumeSimulationRequest(checkpoint=f"{session}/checkpoints/round_1_part_2"), timeout=30
        )
    )
    finished = resumed[-1].finished
    assert finished.checkpoint == f"{session}/checkpoints/simulation_complete_part_2"
    assert [agent.name for agent in finished.agents] == NAMES[2:]
    page = await mesh.control.ListCheckpoints(control_pb2.ListCheckpointsRequest(parent=session, page_size=100))
    ids = [checkpoint.name.rsplit("/", 1)[-1] for checkpoint in page.checkpoints]
    assert ids == ["round_1_part_1", "round_1_part_2", "round_2_part_2", "simulation_complete_part_2"]


async def test_resume_from_latest_of_a_finished_run_returns_the_same_result(mesh: Mesh):
    session = await mesh.begin_session()
    first = await collect(mesh.simulation.RunSimulation(run_request(session, NAMES[:2], rounds=1), timeout=30))
    again = await collect(
        mesh.simulation.ResumeSimulation(
            simulation_pb2.ResumeSimulationRequest(checkpoint=f"{session}/checkpoints/-latest"), timeout=30
        )
    )
    assert kinds(again) == ["finished"]
    assert again[0].finished == first[-1].finished


async def test_one_failing_agent_is_reported_and_the_others_finish(mesh: Mesh):
    mesh.fake.script(r"^You are Oscar Diaz\.", "I cannot answer in JSON, sorry.", on="system")
    session = await mesh.begin_session()
    events = await collect(mesh.simulation.RunSimulation(run_request(session, NAMES, rounds=2), timeout=30))
    failures = [e.agent_failed for e in events if e.HasField("agent_failed")]
    assert [(f.round, f.agent_name) for f in failures] == [(1, "Oscar Diaz"), (2, "Oscar Diaz")]
    assert "LLMInvalidOutputError" in failures[0].reason
    checkpointed = [e.round_checkpointed for e in events if e.HasField("round_checkpointed")]
    assert [(c.agents_succeeded, c.agents_failed) for c in checkpointed] == [(2, 1), (2, 1)]
    finished = events[-1].finished
    assert (finished.participants.total, finished.participants.successful, finished.participants.failed) == (3, 2, 1)
    assert {i.agent_name for i in finished.results.interactions if i.round > 0} == {"Lisa Carter", "Marcos Lima"}


async def test_too_many_failures_abort_the_run(mesh: Mesh):
    mesh.fake.script(r"^You are (Oscar Diaz|Marcos Lima)\.", "no JSON here", on="system")
    session = await mesh.begin_session()
    call = mesh.simulation.RunSimulation(run_request(session, NAMES, rounds=2), timeout=30)
    events = []
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        async for event in call:
            events.append(event)
    assert failure.value.code() == grpc.StatusCode.ABORTED
    assert "2 of 3 agents failed in round 1" in failure.value.details()
    assert len([e for e in events if e.HasField("agent_failed")]) == 2
    listed = await mesh.control.ListCheckpoints(control_pb2.ListCheckpointsRequest(parent=session), timeout=10)
    assert not listed.checkpoints


async def test_the_agents_of_a_round_act_concurrently(mesh: Mesh):
    """All of a round's turns are in flight together, so a round costs one model latency (its wall time is
    measured by bench/simulation_bench.py, not asserted here: a busy machine must not fail the suite)."""
    mesh.fake.configure(latency_s=0.3)
    names = [f"Person {index}" for index in range(24)]
    session = await mesh.begin_session()
    events = await collect(
        mesh.simulation.RunSimulation(run_request(session, names, rounds=2, stream_actions=False), timeout=30)
    )
    assert events[-1].finished.participants.successful == 24
    assert mesh.fake.stats.peak_in_flight == 24


async def rejected(mesh: Mesh, request) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await collect(mesh.simulation.RunSimulation(request, timeout=10))
    return failure.value


async def test_bad_requests_name_their_fields(mesh: Mesh):
    session = await mesh.begin_session()
    cases = []

    request = run_request(session, NAMES)
    del request.agents[:]
    cases.append((request, "agents"))

    request = run_request(session, [*NAMES, "lisa carter"])
    cases.append((request, "agents[3].name"))

    request = run_request(session, NAMES)
    request.agents[1].spec_json = '{"type": "TinyPerson", "persona": '
    cases.append((request, "agents[1].spec_json"))

    request = run_request(session, NAMES)
    request.agents[2].spec_json = '{"type": "TinyPerson", "persona": {"age": 3}}'
    cases.append((request, "agents[2].spec_json.persona.name"))

    for rounds in (0, 51):
        cases.append((run_request(session, NAMES, rounds=rounds), "config.rounds"))
    cases.append(
        (run_request(session, NAMES, environment=study_pb2.ENVIRONMENT_TYPE_UNSPECIFIED), "config.environment_type")
    )

    request = run_request(session, NAMES)
    request.stimulus.content = "  "
    cases.append((request, "stimulus.content"))

    request = run_request(session, NAMES)
    request.stimulus.target_agents.extend(["Lisa Carter", "Nobody"])
    cases.append((request, "stimulus.target_agents[1]"))

    cases.append((run_request("", NAMES), "session"))
    cases.append((run_request(session, NAMES, max_actions_per_turn=11), "config.max_actions_per_turn"))
    cases.append((run_request(session, NAMES, max_failed_fraction=1.5), "config.max_failed_fraction"))

    request = run_request(session, NAMES)
    request.checkpoint_suffix = "_Part/1"
    cases.append((request, "checkpoint_suffix"))

    for request, field in cases:
        error = await rejected(mesh, request)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, field
        assert violations(error)[0] == field, (field, violations(error))
    assert mesh.fake.stats.total_requests == 0


async def test_unknown_session_and_checkpoint_are_not_found(mesh: Mesh):
    error = await rejected(mesh, run_request("sessions/no-such-session", NAMES))
    assert error.code() == grpc.StatusCode.NOT_FOUND

    session = await mesh.begin_session()
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await collect(
            mesh.simulation.ResumeSimulation(
                simulation_pb2.ResumeSimulationRequest(checkpoint=f"{session}/checkpoints/round_7"), timeout=10
            )
        )
    assert failure.value.code() == grpc.StatusCode.NOT_FOUND

    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await collect(
            mesh.simulation.ResumeSimulation(simulation_pb2.ResumeSimulationRequest(checkpoint="round_7"), timeout=10)
        )
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT and violations(failure.value) == ["checkpoint"]


async def test_a_checkpoint_of_something_else_cannot_be_resumed(mesh: Mesh):
    session = await mesh.begin_session()
    await mesh.control.CreateCheckpoint(
        control_pb2.CreateCheckpointRequest(
            parent=session,
            checkpoint_id="agents_created",
            checkpoint=control_pb2.Checkpoint(payload=b"[]", content_type="application/json"),
        ),
        timeout=10,
    )
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await collect(
            mesh.simulation.ResumeSimulation(
                simulation_pb2.ResumeSimulationRequest(checkpoint=f"{session}/checkpoints/agents_created"), timeout=10
            )
        )
    assert failure.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "not a simulation's world state" in failure.value.details()


async def test_an_ended_session_takes_no_simulation(mesh: Mesh):
    session = await mesh.begin_session()
    await mesh.control.EndSession(control_pb2.EndSessionRequest(name=session), timeout=10)
    error = await rejected(mesh, run_request(session, NAMES))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_agents_keep_their_identity_and_provenance(mesh: Mesh):
    session = await mesh.begin_session()
    request = run_request(session, NAMES[:1], rounds=1, environment=study_pb2.ENVIRONMENT_TYPE_SURVEY)
    request.agents[0].provenance.CopyFrom(
        agent_pb2.Provenance(origin=agent_pb2.Provenance.ORIGIN_SPEC, source="Lisa.agent.json")
    )
    events = await collect(mesh.simulation.RunSimulation(request, timeout=30))
    agent = events[-1].finished.agents[0]
    assert agent.provenance.source == "Lisa.agent.json" and agent.spec_json == spec_named("Lisa Carter")
    assert agent.name == "Lisa Carter" and agent.agent_id == "agents/0"
    assert agents_named("x")[0].spec_json != agent.spec_json


async def test_replaying_a_finished_run_from_an_older_checkpoint_reuses_its_checkpoints(mesh: Mesh):
    session = await mesh.begin_session()
    first = await collect(mesh.simulation.RunSimulation(run_request(session, NAMES, rounds=3), timeout=30))
    model_calls = mesh.fake.stats.total_requests
    async with mesh.another_simulation_server() as replica:
        replayed = await collect(
            replica.ResumeSimulation(
                simulation_pb2.ResumeSimulationRequest(checkpoint=f"{session}/checkpoints/round_1"), timeout=30
            )
        )
    assert mesh.fake.stats.total_requests == model_calls
    assert [e.round_checkpointed.checkpoint for e in replayed if e.HasField("round_checkpointed")] == [
        f"{session}/checkpoints/round_2",
        f"{session}/checkpoints/round_3",
    ]
    assert replayed[-1].finished.results == first[-1].finished.results
    listed = await mesh.control.ListCheckpoints(control_pb2.ListCheckpointsRequest(parent=session), timeout=10)
    assert len(listed.checkpoints) == 4  # the stored checkpoints were kept, not duplicated
    stored = await mesh.control.GetCheckpoint(
        control_pb2.GetCheckpointRequest(name=f"{session}/checkpoints/round_2"), timeout=10
    )
    usage = simulation_pb2.WorldState.FromString(stored.payload).usage
    assert (usage.calls, usage.cached_calls) == (6, 0)  # the original run's, although the replay's differs
    assert (replayed[-1].finished.usage.calls, replayed[-1].finished.usage.cached_calls) == (3, 6)


async def test_a_finished_run_with_a_request_id_is_answered_from_its_final_world(mesh: Mesh):
    session = await mesh.begin_session()
    request = run_request(session, NAMES, rounds=2)
    request.request_id = "simulation-1"
    first = await collect(mesh.simulation.RunSimulation(request, timeout=30))
    model_calls = mesh.fake.stats.total_requests
    assert kinds(first)[-1] == "finished" and model_calls == 6

    assert await collect(mesh.simulation.RunSimulation(request, timeout=30)) == [first[-1]]
    async with mesh.another_simulation_server() as replica:  # another replica, or the same one restarted
        assert await collect(replica.RunSimulation(request, timeout=30)) == [first[-1]]
        changed = simulation_pb2.RunSimulationRequest()
        changed.CopyFrom(request)
        changed.config.rounds = 3
        error = await rejected_by(replica, changed)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and violations(error) == ["request_id"]
    assert mesh.fake.stats.total_requests == model_calls

    listed = await mesh.control.ListCheckpoints(control_pb2.ListCheckpointsRequest(parent=session), timeout=10)
    assert [c.name.rsplit("/", 1)[1] for c in listed.checkpoints] == ["round_1", "round_2", "simulation_complete"]


async def rejected_by(simulation, request: simulation_pb2.RunSimulationRequest) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await collect(simulation.RunSimulation(request, timeout=10))
    return failure.value
