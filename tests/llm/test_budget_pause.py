"""A 429 with Retry-After pauses the whole process's budget: every call waits, not only the one that got it."""

from __future__ import annotations

import asyncio
import time

from services.llm.budget import RateBudget
from tests.llm.conftest import counted, eventually
from tests.llm.models import Person


async def test_a_paused_budget_admits_nothing_until_the_pause_passes():
    budget = RateBudget(100, 0, 60.0)
    budget.pause(0.3)
    assert budget.try_acquire(10) is None
    started = time.monotonic()
    grant = await budget.acquire(10)
    assert time.monotonic() - started >= 0.25
    grant.settle(10)
    assert budget.try_acquire(10) is not None


async def test_a_429_with_retry_after_holds_back_the_clients_other_calls(fake_llm, make_client):
    fake_llm.configure(retry_after_s=0.4)
    fake_llm.plan_faults("rate_limited")
    client = make_client(requests_per_minute=1000)
    messages = [{"role": "user", "content": "Describe a person."}]
    limited_before = counted("requests", outcome="rate_limited")
    first = asyncio.create_task(client.structured(messages, Person))
    await eventually(lambda: counted("requests", outcome="rate_limited") > limited_before)  # read and paused
    await client.structured([{"role": "user", "content": "Describe another person."}], Person)
    await first
    limited, *answered = fake_llm.stats.requests
    second = [record for record in answered if "another person" in str(record.body)]
    assert limited.outcome == "rate_limited" and len(second) == 1
    # The pause began when the client read the 429, after the fake sent it.
    assert second[0].started_at - limited.finished_at >= 0.39, "the second call waited for the pause"
