"""Structured output: the response_format forms, the lenient parse and the repair of an invalid answer
(tests/llm/test_output_attempts.py covers the further attempts)."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, Field

from services.llm import LLMInvalidOutputError
from services.llm.structured import grammar_friendly_schema, lenient_json, validate_answer
from tests.fake_llm import FakeLLMServer
from tests.llm.conftest import ClientFactory
from tests.llm.models import AgentTurn, Person, turn_messages


async def test_json_schema_form(fake_llm: FakeLLMServer, make_client: ClientFactory) -> None:
    client = make_client(response_format="json_schema")

    turn = await client.structured(turn_messages("Lisa"), AgentTurn)

    assert 1 <= len(turn.actions) <= 3
    sent = fake_llm.stats.requests[0].body
    assert sent is not None
    assert sent["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "AgentTurn", "schema": AgentTurn.model_json_schema(), "strict": False},
    }
    assert sent["messages"] == turn_messages("Lisa")
    assert sent["seed"] == 42 and sent["max_tokens"] == 512


async def test_json_object_schema_form_enumerates_bounded_integers(
    fake_llm: FakeLLMServer, make_client: ClientFactory
) -> None:
    client = make_client(response_format="json_object_schema")

    person = await client.structured(turn_messages("a generator"), Person, max_tokens=64, temperature=0.1)

    assert 18 <= person.age <= 90
    sent = fake_llm.stats.requests[0].body
    assert sent is not None
    assert sent["response_format"]["type"] == "json_object"
    assert sent["response_format"]["schema"]["properties"]["age"]["enum"] == list(range(18, 91))
    assert sent["max_tokens"] == 64 and sent["temperature"] == 0.1


async def test_json_object_form_puts_the_schema_in_the_system_prompt(
    fake_llm: FakeLLMServer, make_client: ClientFactory
) -> None:
    client = make_client(response_format="json_object")

    turn = await client.structured(turn_messages("Lisa"), AgentTurn)

    assert isinstance(turn, AgentTurn)
    sent = fake_llm.stats.requests[0].body
    assert sent is not None
    assert sent["response_format"] == {"type": "json_object"}
    system = sent["messages"][0]["content"]
    assert (
        system.startswith("You are Lisa") and json.dumps(AgentTurn.model_json_schema(), separators=(",", ":")) in system
    )


async def test_invalid_json_is_repaired_by_a_new_sample(fake_llm: FakeLLMServer, make_client: ClientFactory) -> None:
    fake_llm.plan_faults("invalid_json")
    client = make_client()

    turn = await client.structured(turn_messages("Lisa"), AgentTurn)

    assert isinstance(turn, AgentTurn)
    first, repair = fake_llm.stats.requests
    assert first.outcome == "invalid_json" and repair.outcome == "ok"
    assert repair.body is not None
    assert repair.body["messages"][-2] == {"role": "assistant", "content": first.answer}
    assert "not valid JSON" in repair.body["messages"][-1]["content"]
    assert repair.body["seed"] == 43, "the repair is a sample of its own"
    assert client.usage("").model_requests == 2 and client.usage("").calls == 1


async def test_schema_violation_is_repaired(fake_llm: FakeLLMServer, make_client: ClientFactory) -> None:
    fake_llm.plan_faults("schema_violation")
    client = make_client()

    await client.structured(turn_messages("Lisa"), AgentTurn)

    repair = fake_llm.stats.requests[1].body
    assert repair is not None and "actions: Field required" in repair["messages"][-1]["content"]


async def test_truncated_answer_asks_for_a_shorter_one(fake_llm: FakeLLMServer, make_client: ClientFactory) -> None:
    fake_llm.plan_faults("truncated")
    client = make_client()

    await client.structured(turn_messages("Lisa"), AgentTurn)

    repair = fake_llm.stats.requests[1].body
    assert repair is not None and "cut off" in repair["messages"][-1]["content"]


async def test_still_invalid_after_every_attempt_is_reported_with_the_raw_text(
    fake_llm: FakeLLMServer, make_client: ClientFactory
) -> None:
    fake_llm.plan_faults("invalid_json", "truncated", "schema_violation")
    client = make_client()

    with pytest.raises(LLMInvalidOutputError, match="AgentTurn: after 3 of 3 attempts") as raised:
        await client.structured(turn_messages("Lisa"), AgentTurn, label="agent_turn")

    assert raised.value.raw_text == '{"unexpected_field": [1, 2, 3]}'
    assert "actions" in raised.value.validation_error
    assert raised.value.attempts == 3
    assert fake_llm.stats.total_requests == 3


async def test_fenced_json_with_trailing_commas_needs_no_repair(
    fake_llm: FakeLLMServer, make_client: ClientFactory
) -> None:
    fake_llm.plan_faults("fenced")
    client = make_client()

    turn = await client.structured(turn_messages("Lisa"), AgentTurn)

    assert isinstance(turn, AgentTurn)
    assert fake_llm.stats.total_requests == 1


def test_lenient_json_recovers_what_the_model_meant() -> None:
    assert lenient_json('Here you go:\n```json\n{"a": [1, 2,], "b": {"c": "x}",},}\n```') == {
        "a": [1, 2],
        "b": {"c": "x}"},
    }
    assert lenient_json('Sure! {"a": "line one\nline two"} Hope this helps {"b": 1}') == {"a": "line one\nline two"}
    assert lenient_json('{"text": "a, ]", "n": 1,}') == {"text": "a, ]", "n": 1}
    with pytest.raises(ValueError):
        lenient_json('{"a": 1')
    with pytest.raises(ValueError):
        lenient_json("no json here")


def test_validate_answer_keeps_clean_text_and_normalises_repaired_text() -> None:
    class Small(BaseModel):
        name: str
        score: int = Field(ge=0)

    clean = '{"name": "Ana", "score": 3}'
    assert validate_answer(clean, Small) == (Small(name="Ana", score=3), clean)
    instance, text = validate_answer('```json\n{"name": "Ana", "score": 3,}\n```', Small)
    assert instance == Small(name="Ana", score=3) and text == '{"name":"Ana","score":3}'
    with pytest.raises(ValueError, match="score"):
        validate_answer('{"name": "Ana", "score": -1}', Small)


def test_grammar_friendly_schema_leaves_the_original_alone() -> None:
    schema = {
        "type": "object",
        "properties": {
            "rating": {"type": "integer", "minimum": 1, "maximum": 5},
            "count": {"type": "integer", "minimum": 0},
            "year": {"type": "integer", "minimum": 0, "maximum": 3000},
            "items": {
                "type": "array",
                "items": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 3},
            },
        },
    }
    original = json.dumps(schema)

    friendly = grammar_friendly_schema(schema)

    assert friendly["properties"]["rating"]["enum"] == [1, 2, 3, 4, 5]
    assert "enum" not in friendly["properties"]["count"]
    assert "enum" not in friendly["properties"]["year"]
    assert friendly["properties"]["items"]["items"]["enum"] == [1, 2]
    assert json.dumps(schema) == original
