"""Panels on PostgreSQL: the methods `PostgresStorage` takes from `PostgresPanels` (same pool)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC
from typing import Any

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from services.control.storage.base import Page, StoredPayload
from services.control.storage.panels import (
    NewPanel,
    PanelAlreadyExists,
    PanelChanged,
    PanelMembers,
    PanelNotFound,
    PanelRecord,
    PanelStorage,
)

Row = dict[str, Any]


def _panel_record(row: Row) -> PanelRecord:
    return PanelRecord(
        panel_id=row["panel_id"],
        display_name=row["display_name"],
        description=row["description"],
        labels=dict(row["labels"]),
        member_count=row["member_count"],
        study_count=row["study_count"],
        create_time=row["create_time"].astimezone(UTC),
        update_time=row["update_time"].astimezone(UTC),
        version=row["version"],
        payload=StoredPayload(row["encoding"], bytes(row["data"]), row["size_bytes"], row["sha256"]),
        tenant=row["tenant"],
    )


async def _fetch_one(conn: AsyncConnection, query: str, params: tuple) -> Row | None:
    """One row, read in binary so that `data` comes back as bytes."""
    cursor = conn.cursor(binary=True)
    await cursor.execute(query, params)  # type: ignore[arg-type]  # fixed queries of this module
    return await cursor.fetchone()


class PostgresPanels(PanelStorage):
    """Needs the storage's `_transaction()` and `_connection()` from its pool."""

    _transaction: Callable[[], AbstractAsyncContextManager[AsyncConnection]]
    _connection: Callable[[], AbstractAsyncContextManager[AsyncConnection]]

    async def create_panel(self, new: NewPanel) -> PanelRecord:
        members = new.members
        async with self._transaction() as conn:
            row = await _fetch_one(
                conn,
                "INSERT INTO panels (tenant, panel_id, display_name, description, labels, member_count, study_count, "
                "version, create_time, update_time, size_bytes, sha256, encoding, data) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, 1, now(), now(), %s, %s, %s, %b) "
                "ON CONFLICT DO NOTHING RETURNING *",
                (
                    new.tenant,
                    new.panel_id,
                    new.display_name,
                    new.description,
                    Jsonb(dict(new.labels)),
                    members.member_count,
                    members.study_count,
                    members.payload.size_bytes,
                    members.payload.sha256,
                    members.payload.encoding,
                    members.payload.data,
                ),
            )
        if row is None:
            raise PanelAlreadyExists(new.panel_id)
        return _panel_record(row)

    async def get_panel(self, panel_id: str, *, tenant: str = "") -> PanelRecord:
        async with self._connection() as conn:
            row = await _fetch_one(conn, "SELECT * FROM panels WHERE tenant = %s AND panel_id = %s", (tenant, panel_id))
        if row is None:
            raise PanelNotFound(panel_id)
        return _panel_record(row)

    async def list_panels(self, *, limit: int, after: int | None, tenant: str = "") -> Page[PanelRecord]:
        async with self._connection() as conn:
            cursor = conn.cursor(binary=True)
            await cursor.execute(
                "SELECT * FROM panels WHERE tenant = %s AND ordinal < %s ORDER BY ordinal DESC LIMIT %s",
                (tenant, after if after is not None else 2**63 - 1, limit + 1),
            )
            rows = await cursor.fetchall()
        next_cursor = rows[limit - 1]["ordinal"] if len(rows) > limit else None
        return Page([_panel_record(row) for row in rows[:limit]], next_cursor)

    async def delete_panel(self, panel_id: str, *, tenant: str = "") -> None:
        async with self._transaction() as conn:
            cursor = await conn.execute("DELETE FROM panels WHERE tenant = %s AND panel_id = %s", (tenant, panel_id))
            if not cursor.rowcount:
                raise PanelNotFound(panel_id)

    async def replace_panel_members(
        self, panel_id: str, members: PanelMembers, *, expected_version: int, tenant: str = ""
    ) -> PanelRecord:
        async with self._transaction() as conn:
            row = await _fetch_one(
                conn,
                "UPDATE panels SET member_count = %s, study_count = %s, version = version + 1, update_time = now(), "
                "size_bytes = %s, sha256 = %s, encoding = %s, data = %b "
                "WHERE tenant = %s AND panel_id = %s AND version = %s RETURNING *",
                (
                    members.member_count,
                    members.study_count,
                    members.payload.size_bytes,
                    members.payload.sha256,
                    members.payload.encoding,
                    members.payload.data,
                    tenant,
                    panel_id,
                    expected_version,
                ),
            )
        if row is None:
            raise PanelChanged(panel_id)
        return _panel_record(row)
