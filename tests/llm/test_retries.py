"""Retries, backoff, Retry-After and deadlines of the LLM client against the fake server."""

from __future__ import annotations

import asyncio
import time
from email.utils import formatdate
from typing import Any

import pytest

from services.llm import LLMDeadlineError, LLMRequestError, LLMUnavailableError
from services.llm.retry import backoff_delay, parse_retry_after
from tests.fake_llm import FakeLLMServer
from tests.llm.conftest import ClientFactory, eventually
from tests.llm.models import AgentTurn, turn_messages


async def test_recovers_from_30_percent_429_and_10_percent_500(
    fake_llm: FakeLLMServer, make_client: ClientFactory
) -> None:
    fake_llm.configure(rate_429=0.3, rate_500=0.1, retry_after_s=0.01, seed=7, latency_s=0.01)
    client = make_client(max_retries=8)

    turns = await asyncio.gather(
        *(client.structured(turn_messages(f"Agent {index}"), AgentTurn) for index in range(40))
    )

    assert len(turns) == 40 and all(isinstance(turn, AgentTurn) for turn in turns)
    stats = fake_llm.stats
    assert stats.count("rate_limited") >= 5 and stats.count("server_error") >= 1
    assert stats.count("ok") == 40
    assert stats.total_requests == 40 + stats.count("rate_limited") + stats.count("server_error")
    assert client.usage("").model_requests == 40


async def test_a_hanging_request_is_cut_by_the_deadline(fake_llm: FakeLLMServer, make_client: ClientFactory) -> None:
    fake_llm.configure(hang_every=1)
    client = make_client(timeout_s=0.3)

    started = time.monotonic()
    with pytest.raises(LLMDeadlineError):
        await client.structured(turn_messages("Lisa"), AgentTurn)
    elapsed = time.monotonic() - started

    assert 0.29 <= elapsed < 3.0  # ended at the deadline
    await eventually(lambda: fake_llm.stats.in_flight == 0)  # the fake notices the dropped connection


async def test_deadline_covers_the_retries(fake_llm: FakeLLMServer, make_client: ClientFactory) -> None:
    fake_llm.configure(rate_429=1.0, retry_after_s=0.2)
    client = make_client(timeout_s=0.5, max_retries=50)  # the retries alone would take 10 s

    started = time.monotonic()
    with pytest.raises(LLMDeadlineError, match="HTTP 429"):
        await client.structured(turn_messages("Lisa"), AgentTurn)

    assert time.monotonic() - started < 3.0
    assert 2 <= fake_llm.stats.total_requests <= 3


async def test_no_retry_on_400(fake_llm: FakeLLMServer, make_client: ClientFactory) -> None:
    fake_llm.plan_faults("bad_request")
    client = make_client()

    with pytest.raises(LLMRequestError) as raised:
        await client.structured(turn_messages("Lisa"), AgentTurn)

    assert raised.value.status_code == 400
    assert fake_llm.stats.total_requests == 1


async def test_retries_exhausted_raise_unavailable(fake_llm: FakeLLMServer, make_client: ClientFactory) -> None:
    fake_llm.configure(rate_500=1.0)
    client = make_client(max_retries=2)

    with pytest.raises(LLMUnavailableError, match="after 3 attempts"):
        await client.structured(turn_messages("Lisa"), AgentTurn)

    assert fake_llm.stats.count("server_error") == 3


async def test_connection_refused_is_unavailable(make_client: ClientFactory, unused_tcp_port: int) -> None:
    client = make_client(base_url=f"http://127.0.0.1:{unused_tcp_port}/v1", max_retries=1)

    with pytest.raises(LLMUnavailableError, match="after 2 attempts"):
        await client.structured(turn_messages("Lisa"), AgentTurn)


@pytest.mark.parametrize("header_format", ["seconds", "ms"])
async def test_retry_after_is_honoured(fake_llm: FakeLLMServer, make_client: ClientFactory, header_format: str) -> None:
    fake_llm.configure(retry_after_s=0.3, retry_after_format=header_format)
    fake_llm.plan_faults("rate_limited")
    client = make_client(backoff_base_s=0.001, backoff_max_s=0.001)

    await client.structured(turn_messages("Lisa"), AgentTurn)

    first, second = fake_llm.stats.requests
    assert first.outcome == "rate_limited" and second.outcome == "ok"
    assert second.started_at - first.started_at >= 0.29


async def test_backoff_without_retry_after_stays_within_its_cap(
    fake_llm: FakeLLMServer, make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_llm.configure(retry_after_s=None)
    fake_llm.plan_faults("rate_limited", "server_error", "rate_limited")
    client = make_client(backoff_base_s=0.02, backoff_max_s=0.05)
    delays: list[float] = []

    def recorded_backoff(*args: Any) -> float:
        delays.append(backoff_delay(*args))
        return delays[-1]

    monkeypatch.setattr("services.llm.client.backoff_delay", recorded_backoff)

    await client.structured(turn_messages("Lisa"), AgentTurn)

    assert len(delays) == 3 and all(0.0 <= delay <= 0.05 for delay in delays)  # 20, 40, 80 ms capped at 50
    assert [record.outcome for record in fake_llm.stats.requests] == [
        "rate_limited", "server_error", "rate_limited", "ok",
    ]  # fmt: skip


async def test_a_rejected_response_format_is_not_retried(fake_llm: FakeLLMServer, make_client: ClientFactory) -> None:
    fake_llm.configure(reject_json_schema=True)
    client = make_client(response_format="json_schema")

    with pytest.raises(LLMRequestError, match="LLM_RESPONSE_FORMAT"):
        await client.structured(turn_messages("Lisa"), AgentTurn)

    assert fake_llm.stats.total_requests == 1


def test_parse_retry_after_forms() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after({"retry-after-ms": "250"}) == 0.25
    assert parse_retry_after({"Retry-After": "2"}) == 2.0
    assert parse_retry_after({"retry-after": "0.5", "retry-after-ms": "100"}) == 0.1
    assert parse_retry_after({"Retry-After": formatdate(now + 30, usegmt=True)}, now=now) == pytest.approx(30, abs=1)
    assert parse_retry_after({"Retry-After": formatdate(now - 30, usegmt=True)}, now=now) == 0.0
    assert parse_retry_after({"Retry-After": "soon"}) is None
    assert parse_retry_after({}) is None
