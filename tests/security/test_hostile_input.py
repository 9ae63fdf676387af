"""Hostile and random input through real gRPC stubs: every call ends with a clean, typed status.

Hypothesis builds adversarial messages (huge and negative numbers, garbage JSON, deeply nested JSON,
emoji, RTL marks, combining characters, NUL, 100k-character strings) and sends them to the public
methods of the six services of the in-process `mesh`. Each call must answer OK or one of the expected
client-error codes, never INTERNAL or UNKNOWN, never with a stack trace in its details; an
INVALID_ARGUMENT must carry a `google.rpc.BadRequest` naming at least one field. Afterwards the servers
still report SERVING and data written before the barrage is unchanged.
"""

from __future__ import annotations

import hashlib
import json
import uuid

import grpc
import pytest
import pytest_asyncio
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tinytroupe_mesh_api.common.v1 import agent_pb2, study_pb2
from tinytroupe_mesh_api.content.v1 import content_pb2, content_pb2_grpc
from tinytroupe_mesh_api.control.v1 import control_pb2, control_pb2_grpc
from tinytroupe_mesh_api.extraction.v1 import extraction_pb2, extraction_pb2_grpc
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2, orchestrator_pb2_grpc
from tinytroupe_mesh_api.population.v1 import population_pb2, population_pb2_grpc
from tinytroupe_mesh_api.simulation.v1 import simulation_pb2, simulation_pb2_grpc

pytestmark = pytest.mark.asyncio(loop_scope="session")

CALL_TIMEOUT_S = 20.0
CLEAN_ERRORS = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.UNAVAILABLE,
    }
)
PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- strategies -----------------------------------------------------------------------------------

EDGE_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\u200f\u202eevil\u202c",
        "\u0301\u0301\u0301e\u0301",
        "🧨" * 50,
        "👩‍👩‍👧‍👦",
        "﷽",
        "\ufeff",
        "../../etc/passwd",
        "sessions/../../x",
        "sessions/",
        "sessions//checkpoints/",
        "' OR 1=1; --",
        "%s%n%x",
        '{"a":',
        "null",
        "[]",
        "x" * 100_000,
        "é" * 100_000,
    ]
)
TEXT = st.one_of(EDGE_TEXT, st.text(max_size=300))
SHORT_TEXT = st.one_of(EDGE_TEXT.filter(lambda s: len(s) < 1000), st.text(max_size=80))
INT32 = st.one_of(st.sampled_from([-(2**31), -1, 0, 1, 2**31 - 1]), st.integers(-(2**31), 2**31 - 1))
INT64 = st.one_of(st.sampled_from([-(2**63), -1, 0, 2**63 - 1]), st.integers(-(2**63), 2**63 - 1))
ENUM = st.one_of(st.sampled_from([-1, 0, 1, 2, 3, 99, 2**31 - 1, -(2**31)]), st.integers(-(2**31), 2**31 - 1))
DOUBLE = st.floats(allow_nan=True, allow_infinity=True)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(SHORT_TEXT, children, max_size=5),
    max_leaves=30,
)


def _nested(depth: int) -> str:
    return '{"persona": ' * depth + "{}" + "}" * depth


SPEC_JSON = st.one_of(
    JSON.map(json.dumps),
    st.dictionaries(st.sampled_from(["type", "persona", "name", "age", "occupation"]), JSON, max_size=5).map(
        lambda d: json.dumps({"type": "TinyPerson", "persona": d})
    ),
    st.sampled_from(
        [
            _nested(5000),
            "[" * 10_000 + "]" * 10_000,
            '{"persona": {' * 3,
            "{}" * 1000,
            json.dumps({"type": "TinyPerson", "persona": {"name": "x" * 100_000}}),
        ]
    ),
    TEXT,
)
LABELS = st.dictionaries(SHORT_TEXT, SHORT_TEXT, max_size=4)

AGENTS = st.lists(
    st.builds(
        agent_pb2.Agent,
        agent_id=SHORT_TEXT,
        name=SHORT_TEXT,
        spec_json=SPEC_JSON,
        memory_summary=SHORT_TEXT,
        episodic_memory=st.lists(
            st.builds(agent_pb2.MemoryEvent, round=INT32, kind=ENUM, source=SHORT_TEXT, content=SHORT_TEXT), max_size=3
        ),
    ),
    max_size=4,
)
SIM_CONFIG = st.builds(
    study_pb2.SimulationConfig,
    environment_type=ENUM,
    rounds=INT32,
    enable_memory=st.booleans(),
    enable_thinking=st.booleans(),
    broadcast_mode=st.booleans(),
    max_actions_per_turn=INT32,
    turn_order=ENUM,
    max_failed_fraction=DOUBLE,
)
STIMULUS = st.builds(
    study_pb2.Stimulus,
    type=SHORT_TEXT,
    content=TEXT,
    context=SHORT_TEXT,
    target_agents=st.lists(SHORT_TEXT, max_size=3),
)
INTERACTIONS = st.lists(
    st.builds(
        study_pb2.Interaction,
        round=INT32,
        agent_name=SHORT_TEXT,
        action=ENUM,
        content=TEXT,
        target=SHORT_TEXT,
        sequence=INT32,
    ),
    max_size=5,
)
EXTRACTION_CONFIG = st.builds(
    study_pb2.ExtractionConfig,
    extract_results=st.booleans(),
    extraction_objective=TEXT,
    situation=SHORT_TEXT,
    fields=st.lists(SHORT_TEXT, max_size=40),
    fields_hints=LABELS,
    statistical_analysis=st.booleans(),
    mode=ENUM,
)
FRAGMENTS = st.lists(
    st.one_of(
        st.builds(population_pb2.FragmentSource, builtin=ENUM),
        st.builds(population_pb2.FragmentSource, custom_json=SPEC_JSON),
    ),
    max_size=3,
)


# --- helpers --------------------------------------------------------------------------------------


async def check_clean(call) -> object | None:
    """Awaits a unary call (or drains a stream); asserts it ended OK or with a clean error status."""
    try:
        if hasattr(call, "__aiter__"):
            return [message async for message in call]
        return await call
    except grpc.aio.AioRpcError as error:
        assert_clean_error(error)
        return None


def assert_clean_error(error: grpc.aio.AioRpcError) -> None:
    code = error.code()
    status = rpc_status.from_call(error)
    text = f"{code.name}: {error.details()!r}"
    assert code in CLEAN_ERRORS, f"unclean status {text}"
    assert "Traceback" not in (error.details() or ""), text
    if status is not None:
        assert "Traceback" not in status.message, text
        for detail in status.details:
            assert b"Traceback" not in detail.value, text
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        assert status is not None, f"INVALID_ARGUMENT without rich status: {text}"
        bad_requests = []
        for detail in status.details:
            if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad_request = error_details_pb2.BadRequest()
                detail.Unpack(bad_request)
                bad_requests.append(bad_request)
        assert bad_requests and any(b.field_violations for b in bad_requests), f"no BadRequest violation: {text}"


class Stubs:
    def __init__(self, mesh):
        addresses = mesh.addresses
        self.channels = {
            name: grpc.aio.insecure_channel(getattr(addresses, name))
            for name in ("control", "population", "simulation", "content", "extraction", "orchestrator")
        }
        self.control = control_pb2_grpc.SimulationControlServiceStub(self.channels["control"])
        self.population = population_pb2_grpc.PopulationServiceStub(self.channels["population"])
        self.simulation = simulation_pb2_grpc.SimulationServiceStub(self.channels["simulation"])
        self.extraction = extraction_pb2_grpc.ResultsExtractionServiceStub(self.channels["extraction"])
        self.content = content_pb2_grpc.ContentServiceStub(self.channels["content"])
        self.orchestrator = orchestrator_pb2_grpc.OrchestratorServiceStub(self.channels["orchestrator"])


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stubs(mesh):
    made = Stubs(mesh)
    yield made
    for channel in made.channels.values():
        await channel.close()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def before(stubs):
    """A session and a checkpoint written before the barrage, with the checkpoint's payload hash."""
    session = await stubs.control.BeginSession(
        control_pb2.BeginSessionRequest(
            session=control_pb2.Session(display_name="before the barrage", labels={"kind": "sentinel"})
        ),
        timeout=CALL_TIMEOUT_S,
    )
    payload = b"sentinel-" + uuid.uuid4().bytes * 64
    checkpoint = await stubs.control.CreateCheckpoint(
        control_pb2.CreateCheckpointRequest(
            parent=session.name,
            checkpoint_id="sentinel",
            checkpoint=control_pb2.Checkpoint(payload=payload, content_type="application/octet-stream"),
        ),
        timeout=CALL_TIMEOUT_S,
    )
    return session, checkpoint, hashlib.sha256(payload).hexdigest()


# --- control --------------------------------------------------------------------------------------


@PROPERTY
@given(
    session=st.builds(
        control_pb2.Session,
        name=SHORT_TEXT,
        display_name=TEXT,
        description=TEXT,
        cache_namespace=SHORT_TEXT,
        labels=LABELS,
    ),
    request_id=SHORT_TEXT,
    session_id=SHORT_TEXT,
)
async def test_begin_session(stubs, before, session, request_id, session_id):
    await check_clean(
        stubs.control.BeginSession(
            control_pb2.BeginSessionRequest(session=session, request_id=request_id, session_id=session_id),
            timeout=CALL_TIMEOUT_S,
        )
    )


@PROPERTY
@given(name=TEXT)
async def test_get_session_and_checkpoint(stubs, before, name):
    await check_clean(stubs.control.GetSession(control_pb2.GetSessionRequest(name=name), timeout=CALL_TIMEOUT_S))
    await check_clean(stubs.control.GetCheckpoint(control_pb2.GetCheckpointRequest(name=name), timeout=CALL_TIMEOUT_S))
    await check_clean(
        stubs.control.GetCheckpoint(
            control_pb2.GetCheckpointRequest(name=f"{before[0].name}/checkpoints/{name}"), timeout=CALL_TIMEOUT_S
        )
    )


@PROPERTY
@given(
    page_size=INT32,
    page_token=st.one_of(TEXT, st.binary(max_size=64).map(lambda b: b.hex())),
    state=ENUM,
    labels=LABELS,
)
async def test_list_sessions(stubs, before, page_size, page_token, state, labels):
    await check_clean(
        stubs.control.ListSessions(
            control_pb2.ListSessionsRequest(page_size=page_size, page_token=page_token, state=state, labels=labels),
            timeout=CALL_TIMEOUT_S,
        )
    )
    await check_clean(
        stubs.control.ListCheckpoints(
            control_pb2.ListCheckpointsRequest(parent=before[0].name, page_size=page_size, page_token=page_token),
            timeout=CALL_TIMEOUT_S,
        )
    )


@PROPERTY
@given(
    parent_kind=st.sampled_from(["fresh", "random"]),
    parent=SHORT_TEXT,
    checkpoint_id=SHORT_TEXT,
    payload=st.one_of(st.binary(max_size=2048), st.sampled_from([b"", b"\x00" * 100_000])),
    content_type=SHORT_TEXT,
    annotations=LABELS,
    request_id=SHORT_TEXT,
)
async def test_create_checkpoint(
    stubs, before, parent_kind, parent, checkpoint_id, payload, content_type, annotations, request_id
):
    if parent_kind == "fresh":
        parent = (
            await stubs.control.BeginSession(
                control_pb2.BeginSessionRequest(session=control_pb2.Session(display_name="hostile")),
                timeout=CALL_TIMEOUT_S,
            )
        ).name
    await check_clean(
        stubs.control.CreateCheckpoint(
            control_pb2.CreateCheckpointRequest(
                parent=parent,
                checkpoint_id=checkpoint_id,
                request_id=request_id,
                checkpoint=control_pb2.Checkpoint(payload=payload, content_type=content_type, annotations=annotations),
            ),
            timeout=CALL_TIMEOUT_S,
        )
    )


@PROPERTY
@given(
    session=st.one_of(SHORT_TEXT, st.just("")),
    use_real=st.booleans(),
    keys=st.lists(st.one_of(SHORT_TEXT, st.just("k" * 300)), max_size=10),
    values=st.lists(st.binary(max_size=256), max_size=10),
)
async def test_cache_entries(stubs, before, session, use_real, keys, values):
    target = before[0].name if use_real else session
    entries = [control_pb2.CacheEntry(key=key, value=value) for key, value in zip(keys, values, strict=False)]
    await check_clean(
        stubs.control.StoreCacheEntries(
            control_pb2.StoreCacheEntriesRequest(session=target, entries=entries), timeout=CALL_TIMEOUT_S
        )
    )
    await check_clean(
        stubs.control.LookupCacheEntries(
            control_pb2.LookupCacheEntriesRequest(session=target, keys=keys), timeout=CALL_TIMEOUT_S
        )
    )


@PROPERTY
@given(
    session=SHORT_TEXT,
    holder=SHORT_TEXT,
    nanos=INT32,
    use_real=st.booleans(),
    seconds=st.one_of(st.sampled_from([-(2**63), -1, 0, 1, 3600, 3601]), st.integers(-(2**63), 10**9)),
)
async def test_acquire_lease(stubs, before, session, holder, seconds, nanos, use_real):
    # Never the sentinel session: a lease there would not change it, but keep it untouched anyway.
    if use_real:
        session = (
            await stubs.control.BeginSession(
                control_pb2.BeginSessionRequest(session=control_pb2.Session(display_name="lease target")),
                timeout=CALL_TIMEOUT_S,
            )
        ).name
    ttl = duration_pb2.Duration(seconds=seconds, nanos=nanos)
    await check_clean(
        stubs.control.AcquireLease(
            control_pb2.AcquireLeaseRequest(session=session, holder=holder, ttl=ttl), timeout=CALL_TIMEOUT_S
        )
    )
    await check_clean(
        stubs.control.RenewLease(
            control_pb2.RenewLeaseRequest(session=session, holder=holder, ttl=ttl), timeout=CALL_TIMEOUT_S
        )
    )


@pytest.mark.parametrize("method", ["AcquireLease", "RenewLease"])
async def test_lease_ttl_beyond_timedelta_range(stubs, before, method):
    session = (
        await stubs.control.BeginSession(
            control_pb2.BeginSessionRequest(session=control_pb2.Session(display_name="lease overflow")),
            timeout=CALL_TIMEOUT_S,
        )
    ).name
    request_type = getattr(control_pb2, f"{method}Request")
    ttl = duration_pb2.Duration(seconds=2**63 - 1)
    await check_clean(
        getattr(stubs.control, method)(request_type(session=session, holder="h", ttl=ttl), timeout=CALL_TIMEOUT_S)
    )


# --- population -----------------------------------------------------------------------------------


@PROPERTY
@given(spec_json=SPEC_JSON, fragments=FRAGMENTS, source=SHORT_TEXT, context=TEXT, session=SHORT_TEXT)
async def test_load_agent(stubs, before, spec_json, fragments, source, context, session):
    await check_clean(
        stubs.population.LoadAgent(
            population_pb2.LoadAgentRequest(
                session=session, spec_json=spec_json, fragments=fragments, source=source, context=context
            ),
            timeout=CALL_TIMEOUT_S,
        )
    )


@PROPERTY
@given(
    demographics=st.one_of(SPEC_JSON, JSON.map(lambda d: json.dumps({"title": "x", "content": d}))),
    count=st.one_of(st.sampled_from([-(2**31), -1, 0, 1001, 2**31 - 1]), st.integers(-(2**31), 0)),
    context=SHORT_TEXT,
    particularities=SHORT_TEXT,
    fragments=FRAGMENTS,
)
async def test_generate_population(stubs, before, demographics, count, context, particularities, fragments):
    # Counts that would pass (1 to 1000) start real generation; the barrage keeps to hostile counts.
    await check_clean(
        stubs.population.GeneratePopulation(
            population_pb2.GeneratePopulationRequest(
                demographics_json=demographics,
                count=count,
                context=context,
                particularities=particularities,
                fragments=fragments,
            ),
            timeout=CALL_TIMEOUT_S,
        )
    )


@PROPERTY
@given(demographics=st.one_of(TEXT, JSON.map(json.dumps)))
async def test_generate_population_garbage_demographics_with_a_valid_count(stubs, before, demographics):
    await check_clean(
        stubs.population.GeneratePopulation(
            population_pb2.GeneratePopulationRequest(demographics_json=demographics, count=1), timeout=CALL_TIMEOUT_S
        )
    )


@PROPERTY
@given(
    agent=AGENTS.map(lambda agents: agents[0] if agents else agent_pb2.Agent()),
    fragments=FRAGMENTS,
    include_state=st.booleans(),
    expectations=TEXT,
    session=SHORT_TEXT,
)
async def test_agent_methods(stubs, before, agent, fragments, include_state, expectations, session):
    await check_clean(
        stubs.population.ApplyFragments(
            population_pb2.ApplyFragmentsRequest(agent=agent, fragments=fragments), timeout=CALL_TIMEOUT_S
        )
    )
    await check_clean(
        stubs.population.ExportAgent(
            population_pb2.ExportAgentRequest(agent=agent, include_state=include_state), timeout=CALL_TIMEOUT_S
        )
    )
    await check_clean(
        stubs.population.ValidateAgent(
            population_pb2.ValidateAgentRequest(session=session, agent=agent, expectations=expectations),
            timeout=CALL_TIMEOUT_S,
        )
    )


# --- content --------------------------------------------------------------------------------------

SOURCES = st.lists(
    st.one_of(
        st.builds(
            content_pb2.GroundingSource,
            name=SHORT_TEXT,
            text=TEXT,
            mime_type=st.sampled_from(["", "text/plain", "text/markdown", "application/pdf", "x/y"]),
        ),
        st.builds(
            content_pb2.GroundingSource,
            name=SHORT_TEXT,
            pdf=st.one_of(st.binary(max_size=2000), st.just(b"%PDF-1.7\n" + b"\x00" * 5000)),
            mime_type=st.sampled_from(["", "application/pdf", "text/plain"]),
        ),
    ),
    max_size=3,
)


@PROPERTY
@given(sources=SOURCES, fragments=FRAGMENTS, context=TEXT, session=SHORT_TEXT)
async def test_create_grounded_persona(stubs, before, sources, fragments, context, session):
    await check_clean(
        stubs.content.CreateGroundedPersona(
            content_pb2.CreateGroundedPersonaRequest(
                session=session, sources=sources, fragments=fragments, context=context
            ),
            timeout=CALL_TIMEOUT_S,
        )
    )


@PROPERTY
@given(
    content=TEXT,
    requirements=TEXT,
    agent=AGENTS.map(lambda agents: agents[0] if agents else agent_pb2.Agent()),
    instructions=TEXT,
    session=SHORT_TEXT,
)
async def test_enrich_and_generate_documents(stubs, before, content, requirements, agent, instructions, session):
    await check_clean(
        stubs.content.EnrichContent(
            content_pb2.EnrichContentRequest(session=session, content=content, requirements=requirements),
            timeout=CALL_TIMEOUT_S,
        )
    )
    await check_clean(
        stubs.content.GenerateDocument(
            content_pb2.GenerateDocumentRequest(session=session, agent=agent, instructions=instructions),
            timeout=CALL_TIMEOUT_S,
        )
    )


# --- simulation and extraction --------------------------------------------------------------------


@PROPERTY
@given(session=SHORT_TEXT, agents=AGENTS, config=SIM_CONFIG, stimulus=STIMULUS, request_id=SHORT_TEXT)
async def test_run_simulation(stubs, before, session, agents, config, stimulus, request_id):
    # Sessions are random names (NOT_FOUND unless validation fails first): real runs with
    # hostile agents take minutes of model calls on two cores.
    await check_clean(
        stubs.simulation.RunSimulation(
            simulation_pb2.RunSimulationRequest(
                session=session, agents=agents, config=config, stimulus=stimulus, request_id=request_id
            ),
            timeout=CALL_TIMEOUT_S,
        )
    )


@PROPERTY
@given(checkpoint=TEXT)
async def test_resume_simulation(stubs, before, checkpoint):
    await check_clean(
        stubs.simulation.ResumeSimulation(
            simulation_pb2.ResumeSimulationRequest(checkpoint=checkpoint), timeout=CALL_TIMEOUT_S
        )
    )


@PROPERTY
@given(
    agents=AGENTS,
    transcript=INTERACTIONS,
    config=EXTRACTION_CONFIG,
    failed=st.lists(SHORT_TEXT, max_size=3),
    session=SHORT_TEXT,
    request_id=SHORT_TEXT,
)
async def test_extract_results(stubs, before, agents, transcript, config, failed, session, request_id):
    await check_clean(
        stubs.extraction.ExtractResults(
            extraction_pb2.ExtractResultsRequest(
                session=session,
                agents=agents,
                transcript=transcript,
                config=config,
                failed_agents=failed,
                request_id=request_id,
            ),
            timeout=CALL_TIMEOUT_S,
        )
    )


# --- orchestrator ---------------------------------------------------------------------------------


@PROPERTY
@given(
    mode=ENUM,
    specifications=st.lists(SPEC_JSON, max_size=3),
    count=st.sampled_from([-(2**31), -1, 0, 1001, 2**31 - 1]),
    context=TEXT,
    fragments=FRAGMENTS,
    session_config=st.builds(
        orchestrator_pb2.SessionConfig, session_name=SHORT_TEXT, description=TEXT, cache_file=SHORT_TEXT, labels=LABELS
    ),
    simulation_config=SIM_CONFIG,
    stimulus=STIMULUS,
    extraction_config=EXTRACTION_CONFIG,
    request_id=SHORT_TEXT,
)
async def test_run_study(
    stubs,
    before,
    mode,
    specifications,
    count,
    context,
    fragments,
    session_config,
    simulation_config,
    stimulus,
    extraction_config,
    request_id,
):
    # `count` is always out of range, so no study this property sends can start running.
    await check_clean(
        stubs.orchestrator.RunStudy(
            orchestrator_pb2.RunStudyRequest(
                request_id=request_id,
                session_config=session_config,
                participants=orchestrator_pb2.Participants(
                    mode=mode, specifications=specifications, count=count, context=context, fragments=fragments
                ),
                simulation_config=simulation_config,
                stimulus=stimulus,
                extraction_config=extraction_config,
            ),
            timeout=CALL_TIMEOUT_S,
        )
    )


@PROPERTY
@given(name=TEXT)
async def test_watch_and_resume_study(stubs, before, name):
    await check_clean(
        stubs.orchestrator.WatchStudy(orchestrator_pb2.WatchStudyRequest(name=name), timeout=CALL_TIMEOUT_S)
    )
    await check_clean(
        stubs.orchestrator.ResumeStudy(orchestrator_pb2.ResumeStudyRequest(name=name), timeout=CALL_TIMEOUT_S)
    )


# --- afterwards -----------------------------------------------------------------------------------


async def test_zz_servers_still_serve_and_earlier_data_is_unchanged(stubs, before):
    for name, channel in stubs.channels.items():
        reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=CALL_TIMEOUT_S)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING, name

    session, checkpoint, digest = before
    now = await stubs.control.GetSession(control_pb2.GetSessionRequest(name=session.name), timeout=CALL_TIMEOUT_S)
    assert (now.display_name, dict(now.labels), now.state) == (
        "before the barrage",
        {"kind": "sentinel"},
        control_pb2.Session.STATE_ACTIVE,
    )
    assert now.create_time == session.create_time
    stored = await stubs.control.GetCheckpoint(
        control_pb2.GetCheckpointRequest(name=checkpoint.name), timeout=CALL_TIMEOUT_S
    )
    assert hashlib.sha256(stored.payload).hexdigest() == digest == stored.sha256 == checkpoint.sha256
    assert stored.sequence == checkpoint.sequence
    listed = await stubs.control.ListCheckpoints(
        control_pb2.ListCheckpointsRequest(parent=session.name), timeout=CALL_TIMEOUT_S
    )
    assert [c.name for c in listed.checkpoints] == [checkpoint.name]
