"""Panels on SQLite: the methods `SqliteStorage` takes from `SqlitePanels` (same threads and transactions)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

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

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _now_us() -> int:
    return (datetime.now(UTC) - _EPOCH) // timedelta(microseconds=1)


def _from_us(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def _panel_record(row: sqlite3.Row) -> PanelRecord:
    return PanelRecord(
        panel_id=row["panel_id"],
        display_name=row["display_name"],
        description=row["description"],
        labels=json.loads(row["labels"]),
        member_count=row["member_count"],
        study_count=row["study_count"],
        create_time=_from_us(row["create_time_us"]),
        update_time=_from_us(row["update_time_us"]),
        version=row["version"],
        payload=StoredPayload(row["encoding"], bytes(row["data"]), row["size_bytes"], row["sha256"]),
        tenant=row["tenant"],
    )


def _panel_row(conn: sqlite3.Connection, panel_id: str, tenant: str) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM panels WHERE tenant = ? AND panel_id = ?", (tenant, panel_id)).fetchone()
    if row is None:
        raise PanelNotFound(panel_id)
    return row


class SqlitePanels(PanelStorage):
    """Needs the storage's `_write` (one writer, `BEGIN IMMEDIATE`) and `_read` (snapshot readers)."""

    _write: Callable[[Callable[[sqlite3.Connection], Any]], Awaitable[Any]]
    _read: Callable[[Callable[[sqlite3.Connection], Any]], Awaitable[Any]]

    async def create_panel(self, new: NewPanel) -> PanelRecord:
        def operation(conn: sqlite3.Connection) -> PanelRecord:
            if conn.execute(
                "SELECT 1 FROM panels WHERE tenant = ? AND panel_id = ?", (new.tenant, new.panel_id)
            ).fetchone():
                raise PanelAlreadyExists(new.panel_id)
            now_us = _now_us()
            members = new.members
            conn.execute(
                "INSERT INTO panels (tenant, panel_id, display_name, description, labels, member_count, study_count, "
                "version, create_time_us, update_time_us, size_bytes, sha256, encoding, data) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)",
                (
                    new.tenant,
                    new.panel_id,
                    new.display_name,
                    new.description,
                    json.dumps(dict(new.labels), sort_keys=True),
                    members.member_count,
                    members.study_count,
                    now_us,
                    now_us,
                    members.payload.size_bytes,
                    members.payload.sha256,
                    members.payload.encoding,
                    members.payload.data,
                ),
            )
            return _panel_record(_panel_row(conn, new.panel_id, new.tenant))

        return await self._write(operation)

    async def get_panel(self, panel_id: str, *, tenant: str = "") -> PanelRecord:
        return await self._read(lambda conn: _panel_record(_panel_row(conn, panel_id, tenant)))

    async def list_panels(self, *, limit: int, after: int | None, tenant: str = "") -> Page[PanelRecord]:
        def operation(conn: sqlite3.Connection) -> Page[PanelRecord]:
            rows = conn.execute(
                "SELECT * FROM panels WHERE tenant = ? AND ordinal < ? ORDER BY ordinal DESC LIMIT ?",
                (tenant, after if after is not None else 2**63 - 1, limit + 1),
            ).fetchall()
            next_cursor = rows[limit - 1]["ordinal"] if len(rows) > limit else None
            return Page([_panel_record(row) for row in rows[:limit]], next_cursor)

        return await self._read(operation)

    async def delete_panel(self, panel_id: str, *, tenant: str = "") -> None:
        def operation(conn: sqlite3.Connection) -> None:
            if not conn.execute("DELETE FROM panels WHERE tenant = ? AND panel_id = ?", (tenant, panel_id)).rowcount:
                raise PanelNotFound(panel_id)

        await self._write(operation)

    async def replace_panel_members(
        self, panel_id: str, members: PanelMembers, *, expected_version: int, tenant: str = ""
    ) -> PanelRecord:
        def operation(conn: sqlite3.Connection) -> PanelRecord:
            changed = conn.execute(
                "UPDATE panels SET member_count = ?, study_count = ?, version = version + 1, update_time_us = ?, "
                "size_bytes = ?, sha256 = ?, encoding = ?, data = ? WHERE tenant = ? AND panel_id = ? AND version = ?",
                (
                    members.member_count,
                    members.study_count,
                    _now_us(),
                    members.payload.size_bytes,
                    members.payload.sha256,
                    members.payload.encoding,
                    members.payload.data,
                    tenant,
                    panel_id,
                    expected_version,
                ),
            ).rowcount
            if not changed:
                raise PanelChanged(panel_id)
            return _panel_record(_panel_row(conn, panel_id, tenant))

        return await self._write(operation)
