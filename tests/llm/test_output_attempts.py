"""Invalid output gets fresh attempts: up to `output_attempts` answers, each a new sample (the latest
invalid answer shown to the model, a seed of its own), within the call's deadline; only a valid answer
is ever cached, so a replay makes no model call and returns the same bytes."""

from __future__ import annotations

import json

import pytest

from services.llm import InMemoryResponseCache, LLMDeadlineError, LLMInvalidOutputError
from services.llm.cache import CachedAnswer
from services.llm.client import fresh_sample
from services.runtime.config import LLMSettings
from tests.fake_llm import FakeLLMServer
from tests.llm.conftest import ClientFactory
from tests.llm.models import AgentTurn, turn_messages

SESSION = "sessions/attempts"


def test_three_answers_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert LLMSettings().output_attempts == 3
    monkeypatch.setenv("LLM_OUTPUT_ATTEMPTS", "5")
    assert LLMSettings().output_attempts == 5
    with pytest.raises(ValueError):
        LLMSettings(output_attempts=0)


def test_each_further_answer_has_a_seed_of_its_own() -> None:
    request = {"model": "m", "seed": 42, "max_tokens": 10}
    assert fresh_sample(request, 1) is request
    assert [fresh_sample(request, attempt)["seed"] for attempt in (2, 3, 4)] == [43, 44, 45]
    assert request["seed"] == 42
    unseeded = {"model": "m"}
    assert fresh_sample(unseeded, 3) == unseeded


async def test_cut_answers_get_fresh_samples_until_one_is_valid(
    fake_llm: FakeLLMServer, make_client: ClientFactory
) -> None:
    fake_llm.plan_faults("truncated", "truncated")
    client = make_client()
    messages = turn_messages("Lisa")

    turn = await client.structured(messages, AgentTurn)

    assert isinstance(turn, AgentTurn)
    first, second, third = fake_llm.stats.requests
    assert (first.outcome, second.outcome, third.outcome) == ("truncated", "truncated", "ok")
    assert [request.body["seed"] for request in (first, second, third)] == [42, 43, 44]
    assert first.body["messages"] == messages
    for retry, shown in ((second, first), (third, second)):
        # the original conversation, the latest invalid answer, the request to correct it: never nested
        assert retry.body["messages"][: len(messages)] == messages and len(retry.body["messages"]) == len(messages) + 2
        assert retry.body["messages"][-2] == {"role": "assistant", "content": shown.answer}
        assert "cut off" in retry.body["messages"][-1]["content"]
    usage = client.usage("")
    assert usage.calls == 1 and usage.model_requests == 3


async def test_a_single_attempt_fails_at_the_first_invalid_answer(
    fake_llm: FakeLLMServer, make_client: ClientFactory
) -> None:
    fake_llm.plan_faults("truncated")
    client = make_client(output_attempts=1)

    with pytest.raises(LLMInvalidOutputError, match="after 1 of 1 attempts") as raised:
        await client.structured(turn_messages("Lisa"), AgentTurn)

    assert raised.value.attempts == 1 and fake_llm.stats.total_requests == 1


async def test_more_attempts_when_the_setting_allows_them(fake_llm: FakeLLMServer, make_client: ClientFactory) -> None:
    fake_llm.plan_faults("truncated", "invalid_json", "schema_violation", "truncated")
    client = make_client(output_attempts=5)

    await client.structured(turn_messages("Lisa"), AgentTurn)

    assert [request.outcome for request in fake_llm.stats.requests][-1] == "ok"
    assert fake_llm.stats.total_requests == 5


async def test_transport_retries_inside_an_attempt_do_not_count_as_attempts(
    fake_llm: FakeLLMServer, make_client: ClientFactory
) -> None:
    fake_llm.plan_faults("truncated", "rate_limited", "server_error", "truncated", "rate_limited")
    client = make_client()

    await client.structured(turn_messages("Lisa"), AgentTurn)

    outcomes = [request.outcome for request in fake_llm.stats.requests]
    assert outcomes == ["truncated", "rate_limited", "server_error", "truncated", "rate_limited", "ok"]
    seeds = [request.body["seed"] for request in fake_llm.stats.requests]
    assert seeds == [42, 43, 43, 43, 44, 44], "a retried request is the same sample; a new attempt is a new one"


async def test_no_invalid_answer_is_ever_cached_and_a_replay_calls_no_model(
    fake_llm: FakeLLMServer, make_client: ClientFactory
) -> None:
    cache = InMemoryResponseCache()
    fake_llm.plan_faults("truncated", "invalid_json", "schema_violation")

    with pytest.raises(LLMInvalidOutputError):
        await make_client(cache=cache).structured(turn_messages("Lisa"), AgentTurn, session=SESSION)
    assert cache.entries.get(SESSION, {}) == {}

    fake_llm.plan_faults("truncated", "schema_violation")
    client = make_client(cache=cache)
    turns = [
        await client.structured(turn_messages("Lisa"), AgentTurn, session=SESSION),
        await client.structured(turn_messages("Omar"), AgentTurn, session=SESSION),
    ]
    stored = sorted(CachedAnswer.decode(value).text for value in cache.entries[SESSION].values())
    answered = [request.answer for request in fake_llm.stats.requests if request.outcome == "ok"][-2:]
    assert stored == sorted(answered), "only the valid answers are stored, byte for byte"
    assert all(AgentTurn.model_validate(json.loads(text)) for text in stored)

    requests_before_replay = fake_llm.stats.total_requests
    replaying = make_client(cache=cache)
    replayed = [
        await replaying.structured(turn_messages("Lisa"), AgentTurn, session=SESSION),
        await replaying.structured(turn_messages("Omar"), AgentTurn, session=SESSION),
    ]
    assert fake_llm.stats.total_requests == requests_before_replay
    assert [turn.model_dump_json() for turn in replayed] == [turn.model_dump_json() for turn in turns]
    assert replaying.usage(SESSION).cached_calls == 2


async def test_the_call_deadline_spans_every_attempt(fake_llm: FakeLLMServer, make_client: ClientFactory) -> None:
    fake_llm.configure(latency_s=1.0)  # the first answer fits the deadline; a second one would not
    fake_llm.plan_faults("invalid_json")
    client = make_client(timeout_s=1.6, max_retries=0)

    with pytest.raises(LLMDeadlineError):
        await client.structured(turn_messages("Lisa"), AgentTurn)

    assert fake_llm.stats.total_requests == 2
