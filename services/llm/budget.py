"""The process-wide request and token budget: calls wait for room instead of failing.

Both budgets are sliding windows over `budget_window_s` (a minute in production): a request is
admitted only while the window ending now holds fewer than `requests_per_minute` requests and fewer
than `tokens_per_minute` tokens, so no window of that length ever holds more than the budget.
Tokens are estimated before a call and settled with the real usage after it.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable


class _Entry:
    __slots__ = ("admitted_at", "amount", "expired")

    def __init__(self, admitted_at: float, amount: float) -> None:
        self.admitted_at = admitted_at
        self.amount = amount
        self.expired = False


class _Window:
    """Admissions within the last `length_s` seconds and their summed amount."""

    def __init__(self, limit: float, length_s: float) -> None:
        self.limit = limit
        self.length_s = length_s
        self.entries: deque[_Entry] = deque()
        self.total = 0.0

    @property
    def unlimited(self) -> bool:
        return self.limit <= 0

    def prune(self, now: float) -> None:
        horizon = now - self.length_s
        while self.entries and self.entries[0].admitted_at <= horizon:
            entry = self.entries.popleft()
            entry.expired = True
            self.total -= entry.amount

    def wait_for(self, amount: float, now: float) -> float:
        """Seconds until `amount` fits (0 when it fits now). An amount larger than the whole limit
        fits once the window is empty, so one oversized call cannot block forever."""
        if self.unlimited or self.total + amount <= self.limit or not self.entries:
            return 0.0
        excess = self.total + amount - self.limit
        freed = 0.0
        for entry in self.entries:
            freed += entry.amount
            if freed >= excess:
                return entry.admitted_at + self.length_s - now
        return self.entries[-1].admitted_at + self.length_s - now

    def admit(self, amount: float, now: float) -> _Entry | None:
        if self.unlimited:
            return None
        entry = _Entry(now, amount)
        self.entries.append(entry)
        self.total += amount
        return entry


class BudgetGrant:
    """One admitted request; `settle` replaces its token estimate with the real usage."""

    def __init__(self, budget: RateBudget, token_entry: _Entry | None) -> None:
        self._budget = budget
        self._token_entry = token_entry

    def settle(self, actual_tokens: int) -> None:
        entry = self._token_entry
        if entry is None:
            return
        self._token_entry = None
        self._budget._settle(entry, float(actual_tokens))


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

    async def acquire(self, estimated_tokens: int) -> BudgetGrant:
        """Waits until one more request of `estimated_tokens` fits both budgets, then admits it.
        Waiters are admitted in arrival order."""
        if self._requests.unlimited and self._tokens.unlimited:
            return BudgetGrant(self, None)
        async with self._lock:
            while True:
                now = self._clock()
                self._requests.prune(now)
                self._tokens.prune(now)
                wait_s = max(self._requests.wait_for(1.0, now), self._tokens.wait_for(estimated_tokens, now))
                if wait_s <= 0:
                    self._requests.admit(1.0, now)
                    return BudgetGrant(self, self._tokens.admit(float(estimated_tokens), now))
                await asyncio.sleep(wait_s + 1e-4)

    def _settle(self, entry: _Entry, actual_tokens: float) -> None:
        if not entry.expired:
            self._tokens.total += actual_tokens - entry.amount
            entry.amount = actual_tokens

    def in_window(self) -> tuple[int, float]:
        """Requests and tokens counted in the window ending now."""
        now = self._clock()
        self._requests.prune(now)
        self._tokens.prune(now)
        return len(self._requests.entries), self._tokens.total
