"""Validation as an interview over gRPC: questions from the expectations, answers in character, a judgement;
generated agents under `min_validation_score` are generated again once."""

from __future__ import annotations

import grpc
import pytest
from tinytroupe_mesh_api.common.v1 import agent_pb2
from tinytroupe_mesh_api.population.v1 import population_pb2

from tests.population.test_service import FIXTURES, control, fake_llm, session, spec, stub  # noqa: F401
from tests.rich_errors import violations

DEMOGRAPHICS = (FIXTURES / "populations" / "usa.json").read_text(encoding="utf-8")
JUDGE = r"You validate simulated personas for research\. You interviewed"


async def test_validate_agent_interviews_the_agent_in_character(stub, session, fake_llm):  # noqa: F811
    fake_llm.script(r"interviewing them", {"questions": ["Where do you work?", "What do you do on Sundays?"]})
    fake_llm.script(r"^You are Ana Souza\.", lambda body: {"answer": "I am an engineer in Recife."}, on="system")
    fake_llm.script(JUDGE, {"justification": "She answers as an engineer would.", "score": 0.75})
    agent = agent_pb2.Agent(
        name="Ana Souza", spec_json=spec(occupation={"title": "Engineer"}), memory_summary="We talked about bikes."
    )
    agent.episodic_memory.add(
        round=1, kind=agent_pb2.MemoryEvent.KIND_SAID, source="Ana Souza", content="Bikes are great."
    )
    response = await stub.ValidateAgent(
        population_pb2.ValidateAgentRequest(
            session=session, agent=agent, expectations="an engineer from Brazil", questions=2
        ),
        timeout=10,
    )
    assert response.score == 0.75 and response.justification == "She answers as an engineer would."
    assert [(e.question, e.answer) for e in response.interview] == [
        ("Where do you work?", "I am an engineer in Recife."),
        ("What do you do on Sundays?", "I am an engineer in Recife."),
    ]
    bodies = [record.body for record in fake_llm.stats.requests if record.body]
    answering = [body for body in bodies if body["messages"][0]["content"].startswith("You are Ana Souza.")]
    assert len(answering) == 2
    assert "Title: Engineer" in answering[0]["messages"][0]["content"]  # the whole persona
    assert "We talked about bikes.\n- you said: Bikes are great." in answering[0]["messages"][1]["content"]
    judged = next(body for body in bodies if "You interviewed" in body["messages"][0]["content"])
    assert "Q: Where do you work?\nA: I am an engineer in Recife." in judged["messages"][1]["content"]


async def test_validate_agent_checks_the_number_of_questions(stub, session):  # noqa: F811
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.ValidateAgent(
            population_pb2.ValidateAgentRequest(
                session=session, agent=agent_pb2.Agent(spec_json=spec()), expectations="x", questions=11
            ),
            timeout=10,
        )
    assert violations(error.value) == ["questions"]


async def generate(stub, session, minimum: float) -> list[population_pb2.GeneratePopulationResponse]:  # noqa: F811
    return [
        event
        async for event in stub.GeneratePopulation(
            population_pb2.GeneratePopulationRequest(
                session=session,
                demographics_json=DEMOGRAPHICS,
                count=2,
                expectations="adults living in the USA",
                min_validation_score=minimum,
            ),
            timeout=30,
        )
    ]


async def test_a_generated_agent_under_the_minimum_is_generated_again_once(stub, session, fake_llm):  # noqa: F811
    fake_llm.script(JUDGE, {"justification": "Not convincing.", "score": 0.2}, times=1)
    fake_llm.script(JUDGE, {"justification": "Convincing.", "score": 0.9})
    events = await generate(stub, session, 0.5)
    agents = [event for event in events if event.HasField("agent")]
    assert len(agents) == 2 and all(event.validation.score == 0.9 for event in agents)
    assert events[-1].summary.regenerated == 1 and events[-1].summary.failed == 0
    again = [
        record.body
        for record in fake_llm.stats.requests
        if record.body and "did not meet the expectations (Not convincing.)" in record.body["messages"][1]["content"]
    ]
    assert len(again) == 1  # the new person's prompt says why the first did not fit


async def test_a_generated_agent_still_under_the_minimum_is_a_failure_with_its_validation(stub, session, fake_llm):  # noqa: F811
    fake_llm.script(JUDGE, {"justification": "Not convincing.", "score": 0.2})
    events = await generate(stub, session, 0.5)
    failures = [event.failure for event in events if event.HasField("failure")]
    assert len(failures) == 2 and not any(event.HasField("agent") for event in events)
    for failure in failures:
        assert failure.agent_name and failure.validation.score == 0.2 and failure.validation.interview
        assert failure.reason.startswith(
            "validation score 0.20 is under the minimum (also after generating it again): Not convincing."
        )
    assert (events[-1].summary.regenerated, events[-1].summary.failed) == (2, 2)


async def test_without_a_minimum_low_scores_stay(stub, session, fake_llm):  # noqa: F811
    fake_llm.script(JUDGE, {"justification": "Not convincing.", "score": 0.2})
    events = await generate(stub, session, 0.0)
    assert sum(event.HasField("agent") for event in events) == 2 and events[-1].summary.regenerated == 0
