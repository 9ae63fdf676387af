"""Each request attempt has its own timeout inside the call's deadline, and optional hedging: a hung
attempt is cut, its connection dropped and the request retried, instead of spending the deadline."""

from __future__ import annotations

import asyncio
import math
import time

import pytest

from services.llm import LLMDeadlineError
from services.llm.budget import RateBudget
from services.llm.retry import LatencyWindow, attempt_cutoff, attempt_timeout_s
from services.runtime.config import LLMSettings
from tests.fake_llm import FakeLLMServer
from tests.llm.conftest import ClientFactory, counted, eventually
from tests.llm.models import AgentTurn, turn_messages


def serves_a_connection(task: asyncio.Task) -> bool:
    """The fake server's task for one open connection (the retry's, kept alive for the next request)."""
    return task.get_coro().__qualname__.startswith("RequestHandler.")


async def warm_up(client, calls: int = 20) -> None:
    """Answered calls for the latency window the hedging delay is taken from."""
    for index in range(calls):
        await client.structured(turn_messages(f"Warm {index}"), AgentTurn)


def hedge_after_10_ms(client) -> None:
    """Answers seen before, so that an attempt hedges once it has run 10 ms, however loaded the machine."""
    for _ in range(20):
        client._latencies.add(0.01)


def hedges_sent() -> float:
    return counted("hedges", outcome="won") + counted("hedges", outcome="lost")


def test_the_attempt_timeout_is_sized_to_the_answer() -> None:
    defaults = LLMSettings()
    assert attempt_timeout_s(defaults, 256) == pytest.approx(10.0 + 256 / 20.0)
    assert attempt_timeout_s(defaults, 128) < attempt_timeout_s(defaults, 256)
    assert attempt_timeout_s(defaults, 2048) == defaults.timeout_s / 2  # a retry still fits the deadline
    assert attempt_timeout_s(LLMSettings(timeout_s=10.0), 256) == 5.0
    assert attempt_timeout_s(LLMSettings(attempt_timeout_s=3.0), 4096) == 3.0
    assert attempt_timeout_s(LLMSettings(attempt_tokens_per_s=0), 512) == math.inf


def test_the_last_attempt_that_fits_gets_the_rest_of_the_deadline() -> None:
    assert attempt_cutoff(now=0.0, deadline=10.0, timeout_s=2.0, last=False) == 2.0
    assert attempt_cutoff(now=0.0, deadline=10.0, timeout_s=2.0, last=True) == 10.0
    assert attempt_cutoff(now=7.0, deadline=10.0, timeout_s=2.0, last=False) == 10.0  # no third one fits
    assert attempt_cutoff(now=0.0, deadline=10.0, timeout_s=math.inf, last=False) == 10.0


def test_the_latency_window_waits_for_enough_answers() -> None:
    window = LatencyWindow(size=100, min_samples=10)
    for duration in range(9):
        window.add(float(duration))
    assert window.quantile(0.9) is None
    window.add(9.0)
    assert window.quantile(0.9) == 8.0 and window.quantile(1.0) == 9.0 and window.quantile(0.0) == 0.0


async def test_a_hung_attempt_is_cut_and_retried(fake_llm: FakeLLMServer, make_client: ClientFactory) -> None:
    fake_llm.plan_faults("hang")
    # The retry is the last attempt: it may use the rest of the deadline, however slow the machine.
    client = make_client(attempt_timeout_s=0.5, timeout_s=10.0, max_retries=1)
    cut_before = counted("attempt_timeouts", limit="attempt")
    tasks_before = asyncio.all_tasks()

    started = time.monotonic()
    turn = await client.structured(turn_messages("Lisa"), AgentTurn)
    elapsed = time.monotonic() - started

    assert isinstance(turn, AgentTurn)
    assert elapsed >= 0.49  # the hung attempt ran until its timeout, not less
    assert [record.outcome for record in fake_llm.stats.requests] == ["hang", "ok"]
    assert counted("attempt_timeouts", limit="attempt") == cut_before + 1
    await eventually(lambda: fake_llm.stats.in_flight == 0)  # the hung connection was dropped
    left = {task for task in asyncio.all_tasks() - tasks_before if not serves_a_connection(task)}
    assert left <= {asyncio.current_task()}, "a cut attempt left a task behind"


async def test_attempts_that_always_hang_end_at_the_deadline(
    fake_llm: FakeLLMServer, make_client: ClientFactory
) -> None:
    fake_llm.configure(hang_every=1)
    # Retries alone would go on for 40 s; the backoff (at most 10 ms) fits well between an attempt's cut
    # and the deadline, so the attempt that starts too late for another one gets the rest of the deadline.
    client = make_client(attempt_timeout_s=0.4, timeout_s=2.0, max_retries=100, backoff_max_s=0.01)
    cut_by_deadline = counted("attempt_timeouts", limit="deadline")

    started = time.monotonic()
    with pytest.raises(LLMDeadlineError, match="no answer before the deadline"):
        await client.structured(turn_messages("Lisa"), AgentTurn)
    elapsed = time.monotonic() - started

    assert 1.99 <= elapsed < 10.0  # ended at the deadline, long before the retries would have
    assert fake_llm.stats.count("hang") >= 3  # cut, retried, and the last attempt took the rest
    assert counted("attempt_timeouts", limit="deadline") == cut_by_deadline + 1
    await eventually(lambda: fake_llm.stats.in_flight == 0)


async def test_the_last_attempt_may_use_the_rest_of_the_deadline(
    fake_llm: FakeLLMServer, make_client: ClientFactory
) -> None:
    """A slow but working endpoint: the first attempt is cut at its timeout, the last one waits."""
    fake_llm.configure(latency_s=0.4)
    client = make_client(attempt_timeout_s=0.2, timeout_s=3.0, max_retries=1)

    await client.structured(turn_messages("Lisa"), AgentTurn)

    assert [record.outcome for record in fake_llm.stats.requests] == ["cancelled", "ok"]


async def test_the_fake_hangs_every_kth_request(fake_llm: FakeLLMServer, make_client: ClientFactory) -> None:
    fake_llm.configure(hang_every=4)
    client = make_client(attempt_timeout_s=0.5, max_concurrency=1)  # an answer is never that slow

    await asyncio.gather(*(client.structured(turn_messages(f"Agent {index}"), AgentTurn) for index in range(10)))

    outcomes = [record.outcome for record in fake_llm.stats.requests]
    assert len(outcomes) == 13 and outcomes.count("ok") == 10
    assert [index for index, outcome in enumerate(outcomes, 1) if outcome == "hang"] == [4, 8, 12]


async def test_a_hedge_answers_for_a_hung_attempt(fake_llm: FakeLLMServer, make_client: ClientFactory) -> None:
    fake_llm.configure(latency_s=0.01)
    client = make_client(hedge_quantile=0.9, attempt_timeout_s=3.0)
    await warm_up(client)
    won_before = counted("hedges", outcome="won")
    cut_before = counted("attempt_timeouts", limit="attempt")
    fake_llm.plan_faults("hang")

    await client.structured(turn_messages("Lisa"), AgentTurn)

    assert [record.outcome for record in fake_llm.stats.requests[-2:]] == ["hang", "ok"]
    assert counted("hedges", outcome="won") == won_before + 1
    assert counted("attempt_timeouts", limit="attempt") == cut_before, "the hedge answered, not a retry"
    await eventually(lambda: fake_llm.stats.in_flight == 0)  # the hung first attempt was cancelled


async def test_no_hedge_beyond_the_concurrency_cap(fake_llm: FakeLLMServer, make_client: ClientFactory) -> None:
    """The hung attempt and its retry (50 ms, the last attempt) each outlast the 10 ms hedging delay; the
    one slot is theirs, so neither may hedge."""
    fake_llm.configure(latency_s=0.05)
    client = make_client(hedge_quantile=0.9, attempt_timeout_s=1.0, max_retries=1, max_concurrency=1)
    hedge_after_10_ms(client)
    skipped_before, sent_before = counted("hedges", outcome="skipped"), hedges_sent()
    fake_llm.plan_faults("hang")

    await client.structured(turn_messages("Lisa"), AgentTurn)

    assert [record.outcome for record in fake_llm.stats.requests] == ["hang", "ok"]  # cut and retried
    assert fake_llm.stats.peak_in_flight == 1
    assert counted("hedges", outcome="skipped") == skipped_before + 2
    assert hedges_sent() == sent_before


async def test_no_hedge_beyond_the_rate_budget(fake_llm: FakeLLMServer, make_client: ClientFactory) -> None:
    """As above, with the window holding one request: the attempt in flight."""
    fake_llm.configure(latency_s=0.05)
    client = make_client(
        hedge_quantile=0.9, attempt_timeout_s=1.0, max_retries=1, requests_per_minute=1, budget_window_s=0.5
    )
    hedge_after_10_ms(client)
    skipped_before, sent_before = counted("hedges", outcome="skipped"), hedges_sent()
    fake_llm.plan_faults("hang")

    await client.structured(turn_messages("Lisa"), AgentTurn)

    assert [record.outcome for record in fake_llm.stats.requests] == ["hang", "ok"]
    assert fake_llm.stats.peak_in_flight == 1
    assert counted("hedges", outcome="skipped") == skipped_before + 2
    assert hedges_sent() == sent_before


async def test_try_acquire_never_waits_and_admits_only_what_fits() -> None:
    budget = RateBudget(requests_per_window=2, tokens_per_window=100, window_s=60)

    first = budget.try_acquire(40)
    assert first is not None and budget.try_acquire(80) is None  # the tokens do not fit
    assert budget.try_acquire(40) is not None
    assert budget.try_acquire(1) is None  # the requests do not fit
    first.settle(10)
    assert budget.in_window() == (2, 50)
    assert RateBudget(0, 0, 60).try_acquire(10**9) is not None
