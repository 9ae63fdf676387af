"""The usage ledger on PostgreSQL: the methods `PostgresStorage` takes from `PostgresUsage` (same pool)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

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

Row = dict[str, Any]
_COLUMNS = ", ".join(USAGE_COLUMNS)
_PLACEHOLDERS = ", ".join("%s" for _ in USAGE_COLUMNS)
_SUMS = ", ".join(f"COALESCE(SUM({name}), 0) AS {name}" for name in USAGE_COLUMNS)


def _added(table: str) -> str:
    return ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in USAGE_COLUMNS)


def _amounts(row: Row) -> Amounts:
    return {name: (float(row[name]) if name.endswith("cost") else int(row[name])) for name in USAGE_COLUMNS}


async def _tenant_of(conn: AsyncConnection, session_id: str, tenant: str, *, lock: bool = False) -> str:
    query = "SELECT tenant FROM sessions WHERE session_id = %s AND tenant = %s" + (" FOR SHARE" if lock else "")
    row = await (await conn.execute(query, (session_id, tenant))).fetchone()  # type: ignore[arg-type]
    if row is None:
        raise SessionNotFound(session_id)
    return row["tenant"]


async def _ledger(conn: AsyncConnection, session_id: str, *, with_rows: bool) -> SessionLedger:
    rows: list[UsageRow] = []
    if with_rows:
        cursor = await conn.execute(
            f"SELECT service, model, agent, {_COLUMNS} FROM session_usage WHERE session_id = %s "  # type: ignore[arg-type]  # noqa: S608
            "ORDER BY service, model, agent",
            (session_id,),
        )
        rows = [UsageRow(row["service"], row["model"], row["agent"], _amounts(row)) for row in await cursor.fetchall()]
        total = summed(rows)
    else:
        found = await (
            await conn.execute(
                f"SELECT {_SUMS} FROM session_usage WHERE session_id = %s",  # type: ignore[arg-type]  # noqa: S608
                (session_id,),
            )
        ).fetchone()
        total = _amounts(found) if found else zero()
    budget = await (await conn.execute("SELECT * FROM session_budgets WHERE session_id = %s", (session_id,))).fetchone()
    return SessionLedger(
        session_id,
        total,
        float(budget["max_cost"]) if budget else 0.0,
        int(budget["max_tokens"]) if budget else 0,
        rows,
    )


class PostgresUsage(UsageStorage):
    """Needs the storage's `_transaction()` and `_connection()` from its pool."""

    _transaction: Callable[[], AbstractAsyncContextManager[AsyncConnection]]
    _connection: Callable[[], AbstractAsyncContextManager[AsyncConnection]]

    async def record_usage(
        self, session_id: str, rows: Sequence[UsageRow], now: datetime, *, tenant: str = ""
    ) -> SessionLedger:
        day, month = day_and_month(now)
        async with self._transaction() as conn:
            owner = await _tenant_of(conn, session_id, tenant, lock=True)
            for row in rows:
                values = tuple(row.amounts.get(name, 0) for name in USAGE_COLUMNS)
                await conn.execute(
                    f"INSERT INTO session_usage (session_id, service, model, agent, {_COLUMNS}) "  # type: ignore[arg-type]  # noqa: S608
                    f"VALUES (%s, %s, %s, %s, {_PLACEHOLDERS}) "
                    f"ON CONFLICT (session_id, service, model, agent) DO UPDATE SET {_added('session_usage')}",
                    (session_id, row.service, row.model, row.agent, *values),
                )
                await conn.execute(
                    f"INSERT INTO tenant_usage (tenant, day, month, model, {_COLUMNS}) "  # type: ignore[arg-type]  # noqa: S608
                    f"VALUES (%s, %s, %s, %s, {_PLACEHOLDERS}) "
                    f"ON CONFLICT (tenant, day, model) DO UPDATE SET {_added('tenant_usage')}",
                    (owner, day, month, row.model, *values),
                )
            return await _ledger(conn, session_id, with_rows=False)

    async def set_usage_budget(
        self, session_id: str, max_cost: float, max_tokens: int, *, tenant: str = ""
    ) -> SessionLedger:
        async with self._transaction() as conn:
            await _tenant_of(conn, session_id, tenant, lock=True)
            await conn.execute(
                "INSERT INTO session_budgets (session_id, max_cost, max_tokens) VALUES (%s, %s, %s) "
                "ON CONFLICT (session_id) DO UPDATE SET max_cost = excluded.max_cost, max_tokens = excluded.max_tokens",
                (session_id, max_cost, max_tokens),
            )
            return await _ledger(conn, session_id, with_rows=True)

    async def get_usage_ledger(self, session_id: str, *, tenant: str = "", with_rows: bool = True) -> SessionLedger:
        async with self._connection() as conn:
            await _tenant_of(conn, session_id, tenant)
            return await _ledger(conn, session_id, with_rows=with_rows)

    async def tenant_spend(self, tenant: str, day: str, month: str) -> tuple[Amounts, Amounts]:
        async with self._connection() as conn:
            today = await (
                await conn.execute(
                    f"SELECT {_SUMS} FROM tenant_usage WHERE tenant = %s AND day = %s",  # type: ignore[arg-type]  # noqa: S608
                    (tenant, day),
                )
            ).fetchone()
            this_month = await (
                await conn.execute(
                    f"SELECT {_SUMS} FROM tenant_usage WHERE tenant = %s AND month = %s",  # type: ignore[arg-type]  # noqa: S608
                    (tenant, month),
                )
            ).fetchone()
        return (_amounts(today) if today else zero()), (_amounts(this_month) if this_month else zero())
