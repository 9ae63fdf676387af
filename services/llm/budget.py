"""The process-wide request and token budget: calls wait for room instead of failing.

Both budgets are sliding windows over `budget_window_s` (a minute in production). A request occupies
its window from admission until `budget_window_s` after its answer came back, so however long the
network takes, no window of that length at the provider sees more than `requests_per_minute`
requests or `tokens_per_minute` tokens. Tokens are estimated at admission and settled with the
real usage when the answer arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol


class _Entry:
    __slots__ = ("amount", "done_at")

    def __init__(self, amount: float) -> None:
        self.amount = amount
        self.done_at: float | None = None


class _Window:
    """Requests in flight plus those answered within the last `length_s` seconds."""

    def __init__(self, limit: float, length_s: float) -> None:
        self.limit = limit
        self.length_s = length_s
        self.answered: deque[_Entry] = deque()
        self.total = 0.0
        self.count = 0

    @property
    def unlimited(self) -> bool:
        return self.limit <= 0

    def prune(self, now: float) -> None:
        horizon = now - self.length_s
        while self.answered and self.answered[0].done_at <= horizon:  # type: ignore[operator]
            self.total -= self.answered.popleft().amount
            self.count -= 1

    def wait_for(self, amount: float, now: float) -> float | None:
        """Seconds until `amount` fits: 0 when it fits now, None when requests in flight must be
        answered first. An amount larger than the whole limit fits once the window is empty, so one
        oversized call cannot wait forever."""
        if self.unlimited or self.total + amount <= self.limit or self.count == 0:
            return 0.0
        excess = self.total + amount - self.limit
        freed = 0.0
        for entry in self.answered:
            freed += entry.amount
            if freed >= excess:
                return entry.done_at + self.length_s - now  # type: ignore[operator]
        if self.count == len(self.answered):  # nothing in flight: wait for the window to empty
            return self.answered[-1].done_at + self.length_s - now  # type: ignore[operator]
        return None

    def admit(self, amount: float) -> _Entry:
        self.total += amount
        self.count += 1
        return _Entry(amount)

    def answer(self, entry: _Entry, amount: float, now: float) -> None:
        self.total += amount - entry.amount
        entry.amount = amount
        entry.done_at = now
        self.answered.append(entry)


class BudgetGrant:
    """One admitted request. `settle` (exactly once, also on failure) records when its answer came
    and what it really cost."""

    def __init__(self, budget: RateBudget, request: _Entry | None, tokens: _Entry | None) -> None:
        self._budget = budget
        self._request = request
        self._tokens = tokens
        self.settled = False

    def settle(self, actual_tokens: int | None = None) -> None:
        """`actual_tokens` None keeps the estimate (the usage is unknown, e.g. after a cancellation)."""
        if self.settled:
            return
        self.settled = True
        self._budget._answered(self._request, self._tokens, actual_tokens)


class RateBudget:
    """Requests-per-window and tokens-per-window budgets shared by every call of a client."""

    def __init__(
        self,
        requests_per_window: float,
        tokens_per_window: float,
        window_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._requests = _Window(requests_per_window, window_s)
        self._tokens = _Window(tokens_per_window, window_s)
        self._clock = clock
        self._lock = asyncio.Lock()
        self._answers = asyncio.Event()
        self._paused_until = 0.0

    def pause(self, seconds: float) -> None:
        """The endpoint asked to slow down (429 with Retry-After): no call is admitted for `seconds`."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    async def aclose(self) -> None:
        """Nothing to give back (a shared budget settles its grants here)."""

    async def acquire(self, estimated_tokens: int) -> BudgetGrant:
        """Waits until one more request of `estimated_tokens` fits both budgets, then admits it.
        Waiters are admitted in arrival order."""
        if self._requests.unlimited and self._tokens.unlimited:
            return BudgetGrant(self, None, None)
        async with self._lock:
            while True:
                now = self._clock()
                if now < self._paused_until:
                    await asyncio.sleep(self._paused_until - now)
                    continue
                self._requests.prune(now)
                self._tokens.prune(now)
                waits = [self._requests.wait_for(1.0, now), self._tokens.wait_for(estimated_tokens, now)]
                if waits == [0.0, 0.0]:
                    return self._admit(estimated_tokens)
                timeout = None if None in waits else max(wait for wait in waits if wait is not None) + 1e-4
                self._answers.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._answers.wait(), timeout)

    def try_acquire(self, estimated_tokens: int) -> BudgetGrant | None:
        """Admits one more request only if it fits both budgets now and no caller is waiting; never
        waits (for optional requests such as hedges)."""
        if self._requests.unlimited and self._tokens.unlimited:
            return BudgetGrant(self, None, None)
        now = self._clock()
        if self._lock.locked() or now < self._paused_until:
            return None
        self._requests.prune(now)
        self._tokens.prune(now)
        if self._requests.wait_for(1.0, now) != 0.0 or self._tokens.wait_for(estimated_tokens, now) != 0.0:
            return None
        return self._admit(estimated_tokens)

    def _admit(self, estimated_tokens: int) -> BudgetGrant:
        return BudgetGrant(
            self,
            None if self._requests.unlimited else self._requests.admit(1.0),
            None if self._tokens.unlimited else self._tokens.admit(float(estimated_tokens)),
        )

    def _answered(self, request: _Entry | None, tokens: _Entry | None, actual_tokens: int | None) -> None:
        now = self._clock()
        if request is not None:
            self._requests.answer(request, 1.0, now)
        if tokens is not None:
            self._tokens.answer(tokens, tokens.amount if actual_tokens is None else float(actual_tokens), now)
        self._answers.set()

    def in_window(self) -> tuple[int, float]:
        """Requests and tokens counted now (in flight or answered within the window)."""
        now = self._clock()
        self._requests.prune(now)
        self._tokens.prune(now)
        return self._requests.count, self._tokens.total


class Budget(Protocol):
    """What the LLM client needs of a rate budget: this process's `RateBudget`, or one shared by every
    replica (`services.common.shared_rate_budget.SharedRateBudget`)."""

    async def acquire(self, estimated_tokens: int) -> BudgetGrant: ...

    def try_acquire(self, estimated_tokens: int) -> BudgetGrant | None: ...

    def pause(self, seconds: float) -> None: ...

    async def aclose(self) -> None: ...
