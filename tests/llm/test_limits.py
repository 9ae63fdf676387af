"""The concurrency cap and the request/token budgets of the LLM client."""

from __future__ import annotations

import asyncio
import time

from services.llm.budget import RateBudget
from tests.fake_llm import FakeLLMServer
from tests.llm.conftest import ClientFactory
from tests.llm.models import AgentTurn, turn_messages


def _most_in_any_window(times: list[float], window_s: float) -> int:
    """The largest number of `times` inside any half-open window of length `window_s`."""
    ordered = sorted(times)
    most, start = 0, 0
    for end, moment in enumerate(ordered):
        while ordered[start] <= moment - window_s:
            start += 1
        most = max(most, end - start + 1)
    return most


async def test_in_flight_never_exceeds_the_cap(fake_llm: FakeLLMServer, make_client: ClientFactory) -> None:
    fake_llm.configure(latency_s=0.05)
    client = make_client(max_concurrency=4)

    await asyncio.gather(*(client.structured(turn_messages(f"Agent {index}"), AgentTurn) for index in range(24)))

    assert fake_llm.stats.peak_in_flight == 4
    assert fake_llm.stats.total_requests == 24


async def test_retries_also_respect_the_cap(fake_llm: FakeLLMServer, make_client: ClientFactory) -> None:
    fake_llm.configure(latency_s=0.02, rate_500=0.3, seed=3)
    client = make_client(max_concurrency=3, max_retries=10)

    await asyncio.gather(*(client.structured(turn_messages(f"Agent {index}"), AgentTurn) for index in range(20)))

    assert fake_llm.stats.peak_in_flight <= 3
    assert fake_llm.stats.count("ok") == 20


async def test_request_budget_holds_over_a_short_window(fake_llm: FakeLLMServer, make_client: ClientFactory) -> None:
    client = make_client(requests_per_minute=20, budget_window_s=1.0)

    started = time.monotonic()
    await asyncio.gather(*(client.structured(turn_messages(f"Agent {index}"), AgentTurn) for index in range(40)))
    elapsed = time.monotonic() - started

    assert elapsed >= 0.95
    arrivals = [record.started_at for record in fake_llm.stats.requests]
    assert len(arrivals) == 40
    assert _most_in_any_window(arrivals, 1.0) <= 20


async def test_token_budget_makes_calls_wait(fake_llm: FakeLLMServer, make_client: ClientFactory) -> None:
    # Each call is estimated at about 12 prompt tokens + 100 completion tokens: two fit per window.
    client = make_client(tokens_per_minute=250, budget_window_s=0.5, max_tokens=100)

    started = time.monotonic()
    await asyncio.gather(*(client.structured(turn_messages(f"Agent {index}"), AgentTurn) for index in range(4)))

    assert time.monotonic() - started >= 0.45
    assert fake_llm.stats.total_requests == 4


async def test_budget_settles_estimates_with_real_usage() -> None:
    budget = RateBudget(requests_per_window=100, tokens_per_window=1000, window_s=60)

    grant = await budget.acquire(900)
    assert budget.in_window() == (1, 900)
    grant.settle(120)
    assert budget.in_window() == (1, 120)
    grant.settle(500)  # settling twice changes nothing
    assert budget.in_window() == (1, 120)

    assert budget.try_acquire(800) is not None  # fits now, only because the estimate was settled


async def test_an_oversized_request_waits_for_an_empty_window_instead_of_forever() -> None:
    budget = RateBudget(requests_per_window=100, tokens_per_window=100, window_s=0.2)

    grant = await budget.acquire(50)
    answered_at = time.monotonic()
    grant.settle(50)
    async with asyncio.timeout(10.0):  # not forever
        await budget.acquire(5000)

    assert time.monotonic() - answered_at >= 0.19  # until the window was empty


async def test_a_request_in_flight_holds_its_place_until_a_window_after_its_answer() -> None:
    budget = RateBudget(requests_per_window=1, tokens_per_window=0, window_s=0.1)
    first = await budget.acquire(10)
    second = asyncio.create_task(budget.acquire(10))

    await asyncio.sleep(0.2)
    assert not second.done()  # the first request is still in flight
    answered_at = time.monotonic()
    first.settle(10)
    await second

    assert time.monotonic() - answered_at >= 0.095
