"""The usage ledger on SQLite: the methods `SqliteStorage` takes from `SqliteUsage` (same threads and transactions)."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from services.control.storage.base import SessionNotFound
from services.control.storage.usage import (
    USAGE_COLUMNS,
    Amounts,
    SessionLedger,
    UsageRow,
    UsageStorage,
    day_and_month,
    summed,
    zero,
)

_COLUMNS = ", ".join(USAGE_COLUMNS)
_PLACEHOLDERS = ", ".join("?" for _ in USAGE_COLUMNS)
_ADDED = ", ".join(f"{name} = {name} + excluded.{name}" for name in USAGE_COLUMNS)
_SUMS = ", ".join(f"COALESCE(SUM({name}), 0) AS {name}" for name in USAGE_COLUMNS)


def _tenant_of(conn: sqlite3.Connection, session_id: str, tenant: str) -> str:
    row = conn.execute(
        "SELECT tenant FROM sessions WHERE session_id = ? AND tenant = ?", (session_id, tenant)
    ).fetchone()
    if row is None:
        raise SessionNotFound(session_id)
    return row["tenant"]


def _amounts(row: sqlite3.Row) -> Amounts:
    return {name: row[name] for name in USAGE_COLUMNS}


def _ledger(conn: sqlite3.Connection, session_id: str, *, with_rows: bool) -> SessionLedger:
    rows: list[UsageRow] = []
    if with_rows:
        rows = [
            UsageRow(row["service"], row["model"], row["agent"], _amounts(row))
            for row in conn.execute(
                f"SELECT service, model, agent, {_COLUMNS} FROM session_usage WHERE session_id = ? "  # noqa: S608
                "ORDER BY service, model, agent",
                (session_id,),
            )
        ]
        total = summed(rows)
    else:
        found = conn.execute(
            f"SELECT {_SUMS} FROM session_usage WHERE session_id = ?",  # noqa: S608
            (session_id,),
        ).fetchone()
        total = _amounts(found) if found else zero()
    budget = conn.execute("SELECT * FROM session_budgets WHERE session_id = ?", (session_id,)).fetchone()
    return SessionLedger(
        session_id,
        total,
        budget["max_cost"] if budget else 0.0,
        budget["max_tokens"] if budget else 0,
        rows,
    )


class SqliteUsage(UsageStorage):
    """Needs the storage's `_write` (one writer, `BEGIN IMMEDIATE`) and `_read` (snapshot readers)."""

    _write: Callable[[Callable[[sqlite3.Connection], Any]], Awaitable[Any]]
    _read: Callable[[Callable[[sqlite3.Connection], Any]], Awaitable[Any]]

    async def record_usage(
        self, session_id: str, rows: Sequence[UsageRow], now: datetime, *, tenant: str = ""
    ) -> SessionLedger:
        day, month = day_and_month(now)

        def operation(conn: sqlite3.Connection) -> SessionLedger:
            owner = _tenant_of(conn, session_id, tenant)
            for row in rows:
                values = tuple(row.amounts.get(name, 0) for name in USAGE_COLUMNS)
                conn.execute(
                    f"INSERT INTO session_usage (session_id, service, model, agent, {_COLUMNS}) "  # noqa: S608
                    f"VALUES (?, ?, ?, ?, {_PLACEHOLDERS}) "
                    f"ON CONFLICT (session_id, service, model, agent) DO UPDATE SET {_ADDED}",
                    (session_id, row.service, row.model, row.agent, *values),
                )
                conn.execute(
                    f"INSERT INTO tenant_usage (tenant, day, month, model, {_COLUMNS}) "  # noqa: S608
                    f"VALUES (?, ?, ?, ?, {_PLACEHOLDERS}) "
                    f"ON CONFLICT (tenant, day, model) DO UPDATE SET {_ADDED}",
                    (owner, day, month, row.model, *values),
                )
            return _ledger(conn, session_id, with_rows=False)

        return await self._write(operation)

    async def set_usage_budget(
        self, session_id: str, max_cost: float, max_tokens: int, *, tenant: str = ""
    ) -> SessionLedger:
        def operation(conn: sqlite3.Connection) -> SessionLedger:
            _tenant_of(conn, session_id, tenant)
            conn.execute(
                "INSERT INTO session_budgets (session_id, max_cost, max_tokens) VALUES (?, ?, ?) "
                "ON CONFLICT (session_id) DO UPDATE SET max_cost = excluded.max_cost, max_tokens = excluded.max_tokens",
                (session_id, max_cost, max_tokens),
            )
            return _ledger(conn, session_id, with_rows=True)

        return await self._write(operation)

    async def get_usage_ledger(self, session_id: str, *, tenant: str = "", with_rows: bool = True) -> SessionLedger:
        def operation(conn: sqlite3.Connection) -> SessionLedger:
            _tenant_of(conn, session_id, tenant)
            return _ledger(conn, session_id, with_rows=with_rows)

        return await self._read(operation)

    async def tenant_spend(self, tenant: str, day: str, month: str) -> tuple[Amounts, Amounts]:
        def operation(conn: sqlite3.Connection) -> tuple[Amounts, Amounts]:
            today = conn.execute(
                f"SELECT {_SUMS} FROM tenant_usage WHERE tenant = ? AND day = ?",
                (tenant, day),  # noqa: S608
            ).fetchone()
            this_month = conn.execute(
                f"SELECT {_SUMS} FROM tenant_usage WHERE tenant = ? AND month = ?",
                (tenant, month),  # noqa: S608
            ).fetchone()
            return (_amounts(today) if today else zero()), (_amounts(this_month) if this_month else zero())

        return await self._read(operation)
