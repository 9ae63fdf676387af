"""The usage ledger in storage: model usage by session (service, model, agent), session budgets, and each
tenant's usage by UTC day, which outlives the sessions."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

USAGE_COLUMNS: tuple[str, ...] = (
    "calls",
    "cached_calls",
    "prompt_tokens",
    "completion_tokens",
    "cost",
    "unpriced_calls",
    "reasoning_tokens",
    "cached_prompt_tokens",
    "saved_tokens",
    "saved_cost",
    "model_requests",
)
"""The summed figures, named as in `tinytroupe.common.v1.TokenUsage` and as the tables' columns."""

Amounts = dict[str, float]


def zero() -> Amounts:
    return dict.fromkeys(USAGE_COLUMNS, 0)


def add(total: Amounts, more: Mapping[str, float]) -> Amounts:
    for name in USAGE_COLUMNS:
        total[name] += more.get(name, 0)
    return total


@dataclass(frozen=True)
class UsageRow:
    service: str
    model: str
    agent: str
    amounts: Amounts


@dataclass(frozen=True)
class SessionLedger:
    session_id: str
    total: Amounts
    max_cost: float = 0.0
    max_tokens: int = 0
    rows: list[UsageRow] = field(default_factory=list)

    @property
    def exhausted(self) -> bool:
        """Whether the budget is spent: its tokens or its cost reached."""
        tokens = self.total["prompt_tokens"] + self.total["completion_tokens"]
        return (self.max_tokens > 0 and tokens >= self.max_tokens) or (
            self.max_cost > 0 and self.total["cost"] >= self.max_cost
        )


def day_and_month(moment: datetime) -> tuple[str, str]:
    """`YYYY-MM-DD` and `YYYY-MM` of a UTC moment."""
    return moment.strftime("%Y-%m-%d"), moment.strftime("%Y-%m")


def summed(rows: Sequence[UsageRow]) -> Amounts:
    total = zero()
    for row in rows:
        add(total, row.amounts)
    return total


class UsageStorage(abc.ABC):
    """The ledger's methods of a storage backend."""

    @abc.abstractmethod
    async def record_usage(
        self, session_id: str, rows: Sequence[UsageRow], now: datetime, *, tenant: str = ""
    ) -> SessionLedger:
        """Adds the rows to the session's ledger and to its tenant's day; returns the session's ledger
        (its rows left out). NOT_FOUND (SessionNotFound) for another tenant's session."""

    @abc.abstractmethod
    async def set_usage_budget(
        self, session_id: str, max_cost: float, max_tokens: int, *, tenant: str = ""
    ) -> SessionLedger: ...

    @abc.abstractmethod
    async def get_usage_ledger(self, session_id: str, *, tenant: str = "", with_rows: bool = True) -> SessionLedger:
        """The session's ledger; its rows by service, model and agent only `with_rows`."""

    @abc.abstractmethod
    async def tenant_spend(self, tenant: str, day: str, month: str) -> tuple[Amounts, Amounts]:
        """The tenant's usage on `day` and in `month`."""
