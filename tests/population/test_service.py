"""The population service over real gRPC, against the fake model server and control (SQLite)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import grpc
import pytest
from tinytroupe_mesh_api.common.v1 import agent_pb2
from tinytroupe_mesh_api.population.v1 import population_pb2, population_pb2_grpc

from services.engine.fragment_library import builtin_fragment
from services.population.service import DEFINITION
from services.runtime.clients import open_channel
from services.runtime.testing import serving
from tests.fake_llm import FakeLLMServer
from tests.fixtures import TINYTROUPE_FIXTURES
from tests.rich_errors import violations
from tests.sessions import Control, refusal, running_control

FIXTURES = TINYTROUPE_FIXTURES
AGENT_FILES = sorted((FIXTURES / "agents").glob("*.agent.json"))
LATENCY = 0.05


@pytest.fixture
async def fake_llm() -> AsyncIterator[FakeLLMServer]:
    async with FakeLLMServer(latency=LATENCY) as server:
        yield server


@pytest.fixture
async def control(tmp_path) -> AsyncIterator[Control]:
    async with running_control(tmp_path / "control") as running:
        yield running


@pytest.fixture
async def stub(settings, control):
    served = control.serving(settings)
    async with serving(DEFINITION, served) as address, open_channel(address, served) as channel:
        yield population_pb2_grpc.PopulationServiceStub(channel)


@pytest.fixture
async def session(control) -> str:
    return await control.begin_session("population test")


def spec(name: str = "Ana Souza", **persona) -> str:
    return json.dumps({"type": "TinyPerson", "persona": {"name": name, "age": 34, **persona}})


async def test_every_fixture_agent_loads_and_exports_unchanged(stub, session):
    assert len(AGENT_FILES) >= 5
    ids = set()
    for path in AGENT_FILES:
        text = path.read_text(encoding="utf-8")
        agent = await stub.LoadAgent(
            population_pb2.LoadAgentRequest(session=session, spec_json=text, source=path.name, context="a focus group"),
            timeout=10,
        )
        document = json.loads(text)
        assert agent.name == document["persona"]["name"]
        assert len(agent.agent_id) == 32 and agent.agent_id not in ids
        ids.add(agent.agent_id)
        assert agent.provenance.origin == agent_pb2.Provenance.ORIGIN_SPEC
        assert (agent.provenance.source, agent.provenance.context) == (path.name, "a focus group")
        assert json.loads(agent.spec_json) == document
        exported = await stub.ExportAgent(population_pb2.ExportAgentRequest(agent=agent), timeout=10)
        assert json.loads(exported.spec_json) == document


async def test_export_with_state_adds_tinytroupe_sections(stub, session):
    agent = await stub.LoadAgent(population_pb2.LoadAgentRequest(session=session, spec_json=spec()), timeout=10)
    agent.cognitive_state.goals.append("find a cheap bike")
    agent.cognitive_state.emotions = "curious"
    agent.episodic_memory.append(
        agent_pb2.MemoryEvent(round=1, kind=agent_pb2.MemoryEvent.KIND_SAID, source="Ana Souza", content="I like it.")
    )
    agent.memory_summary = "Talked about bikes."
    plain = json.loads((await stub.ExportAgent(population_pb2.ExportAgentRequest(agent=agent))).spec_json)
    assert plain == json.loads(spec())
    full = json.loads(
        (await stub.ExportAgent(population_pb2.ExportAgentRequest(agent=agent, include_state=True))).spec_json
    )
    assert full["persona"] == plain["persona"]
    assert full["_mental_state"]["goals"] == ["find a cheap bike"]
    assert full["_mental_state"]["emotions"] == "curious"
    assert full["episodic_memory"]["summary"] == "Talked about bikes."
    assert full["episodic_memory"]["memory"][0]["content"]["content"] == "I like it."


async def test_builtin_and_custom_fragments_merge(stub, session):
    custom = json.dumps({"type": "Fragment", "persona": {"preferences": {"interests": ["cycling"]}}})
    agent = await stub.LoadAgent(
        population_pb2.LoadAgentRequest(
            session=session,
            spec_json=spec(),
            fragments=[
                population_pb2.FragmentSource(builtin=population_pb2.FRAGMENT_SKEPTIC),
                population_pb2.FragmentSource(custom_json=custom),
            ],
        ),
        timeout=10,
    )
    persona = json.loads(agent.spec_json)["persona"]
    assert list(agent.provenance.fragments) == ["skeptic", "custom[1]"]
    assert "cycling" in persona["preferences"]["interests"]
    skeptic = builtin_fragment("skeptic")["persona"]
    for key in skeptic:
        assert key in persona

    more = await stub.ApplyFragments(
        population_pb2.ApplyFragmentsRequest(
            agent=agent, fragments=[population_pb2.FragmentSource(builtin=population_pb2.FRAGMENT_BUDGET_CONSCIOUS)]
        ),
        timeout=10,
    )
    assert more.agent_id == agent.agent_id
    assert list(more.provenance.fragments) == ["skeptic", "custom[1]", "budget_conscious"]
    assert json.loads(more.spec_json)["persona"]["name"] == "Ana Souza"


async def test_list_fragments_covers_every_enum_value(stub):
    listed = await stub.ListFragments(population_pb2.ListFragmentsRequest(), timeout=10)
    expected = [v for v in population_pb2.Fragment.values() if v != population_pb2.FRAGMENT_UNSPECIFIED]
    assert [f.fragment for f in listed.fragments] == expected
    for description in listed.fragments:
        assert json.loads(description.fragment_json)["type"] == "Fragment"


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (population_pb2.LoadAgentRequest(spec_json="{not json"), "spec_json"),
        (
            population_pb2.LoadAgentRequest(spec_json=json.dumps({"type": "TinyPerson", "persona": {"age": 3}})),
            "spec_json.persona.name",
        ),
        (
            population_pb2.LoadAgentRequest(
                spec_json=spec(), fragments=[population_pb2.FragmentSource(builtin=population_pb2.FRAGMENT_UNSPECIFIED)]
            ),
            "fragments[0].builtin",
        ),
        (
            population_pb2.LoadAgentRequest(
                spec_json=spec(),
                fragments=[
                    population_pb2.FragmentSource(builtin=population_pb2.FRAGMENT_GENUINE),
                    population_pb2.FragmentSource(custom_json=json.dumps({"type": "Fragment", "persona": {"age": 70}})),
                ],
            ),
            "fragments[1]",
        ),
    ],
)
async def test_malformed_requests_name_the_field(stub, session, request_, field):
    request_.session = session
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.LoadAgent(request_, timeout=10)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(error.value)[0] == field
    if field == "fragments[1]":
        assert "persona.age" in error.value.details()


async def test_generate_population_streams_plan_agents_and_summary(stub, session, fake_llm):
    demographics = (FIXTURES / "populations" / "usa.json").read_text(encoding="utf-8")
    started = time.monotonic()
    events = [
        event
        async for event in stub.GeneratePopulation(
            population_pb2.GeneratePopulationRequest(
                session=session,
                demographics_json=demographics,
                count=20,
                context="a focus group on electric bikes",
                fragments=[population_pb2.FragmentSource(builtin=population_pb2.FRAGMENT_EARLY_ADOPTER)],
            ),
            timeout=30,
        )
    ]
    elapsed = time.monotonic() - started
    kinds = [event.WhichOneof("event") for event in events]
    assert kinds[0] == "plan" and kinds[-1] == "summary"
    assert kinds[1:-1] == ["agent"] * 20
    assert sum(entry.quantity for entry in events[0].plan.entries) == 20
    agents = [event.agent for event in events[1:-1]]
    assert len({agent.name for agent in agents}) == 20
    for agent in agents:
        assert agent.provenance.origin == agent_pb2.Provenance.ORIGIN_DEMOGRAPHICS
        assert list(agent.provenance.fragments) == ["early_adopter"]
        assert json.loads(agent.provenance.plan_entry_json)["quantity"] >= 1
        assert json.loads(agent.spec_json)["persona"]["name"] == agent.name
    summary = events[-1].summary
    assert (summary.requested, summary.generated, summary.failed) == (20, 20, 0)
    assert summary.model_calls == fake_llm.stats.total_requests >= 20
    assert elapsed < 20 * LATENCY / 2, f"not concurrent: {elapsed:.2f}s"


async def test_generate_population_validates_each_agent(stub, session):
    demographics = (FIXTURES / "populations" / "usa.json").read_text(encoding="utf-8")
    events = [
        event
        async for event in stub.GeneratePopulation(
            population_pb2.GeneratePopulationRequest(
                session=session, demographics_json=demographics, count=3, expectations="adults living in the USA"
            ),
            timeout=30,
        )
    ]
    agents = [e for e in events if e.WhichOneof("event") == "agent"]
    assert len(agents) == 3
    for event in agents:
        assert event.HasField("validation") and 0 <= event.validation.score <= 1
        assert event.validation.justification
        assert 1 <= len(event.validation.interview) <= 3  # the interview: questions and answers
    # three persons (the data gives the plan), and per person: the questions, one answer each, the judgement
    interviews = sum(2 + len(event.validation.interview) for event in agents)
    assert events[-1].summary.model_calls == 3 + interviews


async def test_failed_persons_become_failure_messages(stub, session, fake_llm):
    demographics = (FIXTURES / "populations" / "usa.json").read_text(encoding="utf-8")
    fake_llm.plan_faults(*["server_error"] * 9)  # every attempt of all three persons
    events = [
        event
        async for event in stub.GeneratePopulation(
            population_pb2.GeneratePopulationRequest(session=session, demographics_json=demographics, count=3),
            timeout=30,
        )
    ]
    kinds = [event.WhichOneof("event") for event in events]
    assert kinds == ["plan", "failure", "failure", "failure", "summary"]
    assert all(event.failure.reason.startswith("LLM") for event in events[1:-1]), events
    assert (events[-1].summary.generated, events[-1].summary.failed) == (0, 3)


@pytest.mark.parametrize(
    ("count", "demographics", "field"),
    [(0, "{}", "count"), (1001, "{}", "count"), (5, "[1, 2", "demographics_json"), (5, "", "demographics_json")],
)
async def test_generate_population_rejects_bad_requests(stub, session, count, demographics, field):
    with pytest.raises(grpc.aio.AioRpcError) as error:
        async for _ in stub.GeneratePopulation(
            population_pb2.GeneratePopulationRequest(session=session, demographics_json=demographics, count=count),
            timeout=10,
        ):
            pass
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(error.value) == [field]


async def test_validate_agent_scores(stub, session):
    agent = await stub.LoadAgent(population_pb2.LoadAgentRequest(session=session, spec_json=spec()), timeout=10)
    judged = await stub.ValidateAgent(
        population_pb2.ValidateAgentRequest(
            session=session, agent=agent, expectations="a Brazilian engineer in her thirties"
        ),
        timeout=10,
    )
    assert 0 <= judged.score <= 1 and judged.justification
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.ValidateAgent(population_pb2.ValidateAgentRequest(session=session, agent=agent), timeout=10)
    assert violations(error.value) == ["expectations"]


async def test_a_generation_with_a_request_id_is_answered_once_also_after_a_restart(
    settings, control, session, fake_llm
):
    demographics = (FIXTURES / "populations" / "usa.json").read_text(encoding="utf-8")
    request = population_pb2.GeneratePopulationRequest(
        session=session, demographics_json=demographics, count=4, context="a focus group", request_id="population-1"
    )
    served = control.serving(settings)

    async def generate(stub, generation=request):
        return [event async for event in stub.GeneratePopulation(generation, timeout=30)]

    async with serving(DEFINITION, served) as address, open_channel(address, served) as channel:
        stub = population_pb2_grpc.PopulationServiceStub(channel)
        first, duplicate = await asyncio.gather(generate(stub), generate(stub))
        assert duplicate == first and first[-1].summary.generated == 4
        model_calls = fake_llm.stats.total_requests
        assert model_calls == first[-1].summary.model_calls, "the duplicate waited for the first generation"
        assert await generate(stub) == first

    async with serving(DEFINITION, served) as address, open_channel(address, served) as channel:
        stub = population_pb2_grpc.PopulationServiceStub(channel)
        assert await generate(stub) == first  # a restarted server answers from control
        assert fake_llm.stats.total_requests == model_calls

        changed = population_pb2.GeneratePopulationRequest()
        changed.CopyFrom(request)
        changed.count = 5
        error = await refusal(stub.GeneratePopulation(changed, timeout=30))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and violations(error) == ["request_id"]

        changed.CopyFrom(request)
        changed.session = await control.begin_session("another session")
        assert (await generate(stub, changed))[-1].summary.generated == 4  # another session, another call
        assert fake_llm.stats.total_requests > model_calls


async def test_a_population_made_in_parts_keeps_the_plan_made_once(stub, session, fake_llm):
    demographics = (FIXTURES / "populations" / "usa.json").read_text(encoding="utf-8")
    request = population_pb2.GeneratePopulationRequest(
        session=session, demographics_json=demographics, count=12, context="a survey on trams"
    )
    planned = population_pb2.GeneratePopulationRequest()
    planned.CopyFrom(request)
    planned.plan_only = True
    events = [event async for event in stub.GeneratePopulation(planned, timeout=30)]
    assert [event.WhichOneof("event") for event in events] == ["plan", "summary"]
    plan = events[0].plan
    assert (events[1].summary.requested, events[1].summary.generated, events[1].summary.model_calls) == (12, 0, 0)
    assert fake_llm.stats.total_requests == 0, "the plan comes from the data's distributions"

    made = []
    for first, count in ((0, 5), (5, 7)):
        part = population_pb2.GeneratePopulationRequest()
        part.CopyFrom(request)
        part.plan.CopyFrom(plan)
        part.first_member, part.member_count = first, count
        events = [event async for event in stub.GeneratePopulation(part, timeout=30)]
        assert events[0].plan == plan
        assert events[-1].summary.requested == events[-1].summary.generated == count
        made.extend(event.agent for event in events if event.WhichOneof("event") == "agent")
    entries = [json.loads(agent.provenance.plan_entry_json)["description"] for agent in made]
    assert {description: entries.count(description) for description in entries} == {
        entry.description: entry.quantity for entry in plan.entries
    }, "the parts together make each plan entry's quantity"
    assert fake_llm.stats.total_requests >= 12


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"plan_only": True, "member_count": 2}, "plan_only"),
        ({"first_member": 4, "member_count": 3}, "member_count"),
        ({"first_member": 2}, "member_count"),
        ({"first_member": -1, "member_count": 2}, "first_member"),
        ({"plan": population_pb2.PopulationPlan(entries=[population_pb2.PlanEntry(quantity=4)])}, "plan"),
        ({"plan": population_pb2.PopulationPlan(entries=[population_pb2.PlanEntry(quantity=0)])}, "plan"),
    ],
)
async def test_parts_of_a_population_are_checked(stub, session, changes, field):
    request = population_pb2.GeneratePopulationRequest(
        session=session, demographics_json='{"title": "T", "description": "A town."}', count=5
    )
    for name, value in changes.items():
        if name == "plan":
            request.plan.CopyFrom(value)
        else:
            setattr(request, name, value)
    with pytest.raises(grpc.aio.AioRpcError) as error:
        async for _ in stub.GeneratePopulation(request, timeout=10):
            pass
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(error.value) == [field]
