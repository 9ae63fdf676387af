"""SQLite backend: one file in WAL mode, one writer thread, a few reader threads.

All database work runs on dedicated threads, never on the event loop. Writes are serialised through a
single connection and each runs in a `BEGIN IMMEDIATE` transaction; reads run on their own
connections and see a consistent snapshot. `synchronous=FULL` makes every acknowledged write durable.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from services.control.storage.base import (
    LATEST_CHECKPOINT,
    CheckpointNotFound,
    CheckpointRecord,
    LeaseRecord,
    NewCheckpoint,
    NewRememberedResponse,
    NewSession,
    Page,
    RememberedResponseNotFound,
    RememberedResponseRecord,
    SessionAlreadyExists,
    SessionEnded,
    SessionNotFound,
    SessionRecord,
    SessionState,
    Storage,
    StoredPayload,
    SweepResult,
)
from services.control.storage.migrations import load_migrations
from services.control.storage.rules import (
    acquired_lease,
    cache_scope,
    idempotency_key,
    released_lease,
    renewed_lease,
    repeated_checkpoint,
    require_active,
)
from services.control.storage.sqlite_panels import SqlitePanels
from services.control.storage.sqlite_usage import SqliteUsage

R = TypeVar("R")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

_CHECKPOINT_COLUMNS = (
    "session_id, checkpoint_id, sequence, content_type, annotations, size_bytes, sha256, create_time_us"
)


def _to_us(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


def _from_us(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def _now_us() -> int:
    return _to_us(datetime.now(UTC))


def _session_record(row: sqlite3.Row) -> SessionRecord:
    return SessionRecord(
        session_id=row["session_id"],
        display_name=row["display_name"],
        description=row["description"],
        cache_namespace=row["cache_namespace"],
        labels=json.loads(row["labels"]),
        state=SessionState(row["state"]),
        create_time=_from_us(row["create_time_us"]),
        update_time=_from_us(row["update_time_us"]),
        expire_time=None if row["expire_time_us"] is None else _from_us(row["expire_time_us"]),
        end_reason=row["end_reason"],
        checkpoint_count=row["checkpoint_count"],
        tenant=row["tenant"],
    )


def _checkpoint_record(row: sqlite3.Row, *, with_payload: bool = False) -> CheckpointRecord:
    payload = None
    if with_payload:
        payload = StoredPayload(row["encoding"], bytes(row["data"]), row["size_bytes"], row["sha256"])
    return CheckpointRecord(
        session_id=row["session_id"],
        checkpoint_id=row["checkpoint_id"],
        sequence=row["sequence"],
        content_type=row["content_type"],
        annotations=json.loads(row["annotations"]),
        size_bytes=row["size_bytes"],
        sha256=row["sha256"],
        create_time=_from_us(row["create_time_us"]),
        payload=payload,
    )


def _lease_record(row: sqlite3.Row, now_us: int) -> LeaseRecord:
    return LeaseRecord(
        session_id=row["session_id"],
        holder=row["holder"],
        expire_time=_from_us(row["expire_time_us"]),
        generation=row["generation"],
        expired=row["expire_time_us"] <= now_us,
        tenant=row["tenant"] if "tenant" in row.keys() else "",
    )


def _remembered_record(row: sqlite3.Row) -> RememberedResponseRecord:
    return RememberedResponseRecord(
        session_id=row["session_id"],
        response_id=row["response_id"],
        request_sha256=row["request_sha256"],
        create_time=_from_us(row["create_time_us"]),
        payload=StoredPayload(row["encoding"], bytes(row["data"]), row["size_bytes"], row["sha256"]),
    )


def _delete_orphaned_cache_entries(conn: sqlite3.Connection, namespaces: Iterable[tuple[str, str]]) -> int:
    """Deletes the cache entries of each `(tenant, cache_namespace)` that no session names any more."""
    deleted = 0
    for tenant, namespace in set(namespaces):
        if (
            conn.execute(
                "SELECT 1 FROM sessions WHERE cache_namespace = ? AND tenant = ? LIMIT 1", (namespace, tenant)
            ).fetchone()
            is None
        ):
            deleted += conn.execute(
                "DELETE FROM cache_entries WHERE namespace = ?", (cache_scope(tenant, namespace),)
            ).rowcount
    return deleted


def _session_row(conn: sqlite3.Connection, session_id: str, tenant: str) -> sqlite3.Row:
    """The session's row; another tenant's session is reported missing."""
    row = conn.execute("SELECT * FROM sessions WHERE session_id = ? AND tenant = ?", (session_id, tenant)).fetchone()
    if row is None:
        raise SessionNotFound(session_id)
    return row


def _lease_row(conn: sqlite3.Connection, session_id: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM leases WHERE session_id = ?", (session_id,)).fetchone()


def _write_lease(conn: sqlite3.Connection, lease: LeaseRecord, now_us: int) -> None:
    conn.execute(
        "INSERT INTO leases (session_id, holder, expire_time_us, generation, update_time_us) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (session_id) DO UPDATE SET holder = excluded.holder, "
        "expire_time_us = excluded.expire_time_us, generation = excluded.generation, "
        "update_time_us = excluded.update_time_us",
        (lease.session_id, lease.holder, _to_us(lease.expire_time), lease.generation, now_us),
    )


def _statements(script: str) -> list[str]:
    """Splits an SQL script into complete statements (executescript would commit our transaction)."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip() and not all(part.strip().startswith("--") for part in pending.splitlines() if part.strip()):
        raise ValueError(f"incomplete SQL statement: {pending.strip()[:80]!r}")
    return statements


class SqliteStorage(SqlitePanels, SqliteUsage, Storage):
    """The embedded default backend: a single database file under the data directory."""

    def __init__(self, path: Path, *, busy_timeout_s: float = 10.0, reader_threads: int = 2):
        self._path = path
        self._busy_timeout_s = busy_timeout_s
        self._reader_threads = reader_threads
        self._writer_executor: ThreadPoolExecutor | None = None
        self._reader_executor: ThreadPoolExecutor | None = None
        self._writer_connection: sqlite3.Connection | None = None
        self._reader_local = threading.local()
        self._reader_connections: list[sqlite3.Connection] = []
        self._reader_connections_lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self._path

    # Plumbing

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, timeout=self._busy_timeout_s, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_s * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = FULL")
        return conn

    def _open_writer(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        conn = self._connect()
        self._enable_wal(conn)
        self._writer_connection = conn
        self._migrate(conn)

    def _enable_wal(self, conn: sqlite3.Connection) -> None:
        """Switches to WAL. The switch takes an exclusive lock without honouring busy_timeout, so
        replicas opening a new file together retry it until the busy timeout passes."""
        deadline = time.monotonic() + self._busy_timeout_s
        while True:
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                "name TEXT NOT NULL, applied_time_us INTEGER NOT NULL)"
            )
            applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
            for migration in load_migrations("sqlite"):
                if migration.version in applied:
                    continue
                for statement in _statements(migration.sql):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_time_us) VALUES (?, ?, ?)",
                    (migration.version, migration.name, _now_us()),
                )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _reader_connection(self) -> sqlite3.Connection:
        conn = getattr(self._reader_local, "connection", None)
        if conn is None:
            conn = self._connect()
            conn.execute("PRAGMA query_only = ON")
            self._reader_local.connection = conn
            with self._reader_connections_lock:
                self._reader_connections.append(conn)
        return conn

    def _in_write_transaction(self, operation: Callable[[sqlite3.Connection], R]) -> R:
        conn = self._writer_connection
        assert conn is not None, "storage is not open"
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = operation(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    def _in_read_transaction(self, operation: Callable[[sqlite3.Connection], R]) -> R:
        conn = self._reader_connection()
        conn.execute("BEGIN")
        try:
            return operation(conn)
        finally:
            conn.execute("COMMIT")

    async def _write(self, operation: Callable[[sqlite3.Connection], R]) -> R:
        if self._writer_executor is None:
            raise RuntimeError("storage is not open")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer_executor, self._in_write_transaction, operation)

    async def _read(self, operation: Callable[[sqlite3.Connection], R]) -> R:
        if self._reader_executor is None:
            raise RuntimeError("storage is not open")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._reader_executor, self._in_read_transaction, operation)

    async def open(self) -> None:
        self._writer_executor = ThreadPoolExecutor(1, thread_name_prefix="control-sqlite-writer")
        self._reader_executor = ThreadPoolExecutor(self._reader_threads, thread_name_prefix="control-sqlite-reader")
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._writer_executor, self._open_writer)

    async def close(self) -> None:
        executors = [e for e in (self._writer_executor, self._reader_executor) if e is not None]
        self._writer_executor = self._reader_executor = None
        for executor in executors:
            await asyncio.to_thread(executor.shutdown, wait=True)
        with self._reader_connections_lock:
            connections, self._reader_connections = self._reader_connections, []
        if self._writer_connection is not None:
            connections.append(self._writer_connection)
            self._writer_connection = None
        for conn in connections:
            conn.close()

    # Sessions

    async def begin_session(self, new: NewSession) -> SessionRecord:
        def operation(conn: sqlite3.Connection) -> SessionRecord:
            request_key = idempotency_key(new.tenant, new.request_id)
            if request_key:
                row = conn.execute("SELECT * FROM sessions WHERE request_id = ?", (request_key,)).fetchone()
                if row is not None:
                    return _session_record(row)
            if conn.execute("SELECT 1 FROM sessions WHERE session_id = ?", (new.session_id,)).fetchone():
                raise SessionAlreadyExists(new.session_id)
            now_us = _now_us()
            conn.execute(
                "INSERT INTO sessions (session_id, request_id, tenant, display_name, description, cache_namespace, "
                "labels, state, create_time_us, update_time_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    new.session_id,
                    request_key,
                    new.tenant,
                    new.display_name,
                    new.description,
                    new.cache_namespace,
                    json.dumps(dict(new.labels), sort_keys=True),
                    SessionState.ACTIVE.value,
                    now_us,
                    now_us,
                ),
            )
            return _session_record(_session_row(conn, new.session_id, new.tenant))

        return await self._write(operation)

    async def get_session(self, session_id: str, *, tenant: str = "") -> SessionRecord:
        return await self._read(lambda conn: _session_record(_session_row(conn, session_id, tenant)))

    async def list_sessions(
        self, *, state: SessionState | None, labels: Mapping[str, str], limit: int, after: int | None, tenant: str = ""
    ) -> Page[SessionRecord]:
        clauses, params = ["tenant = ?"], [tenant]
        if state is not None:
            clauses.append("state = ?")
            params.append(state.value)
        if after is not None:
            clauses.append("ordinal < ?")
            params.append(after)
        for key, value in labels.items():
            clauses.append(
                "EXISTS (SELECT 1 FROM json_each(sessions.labels) AS label WHERE label.key = ? AND label.value = ?)"
            )
            params.extend((key, value))
        query = f"SELECT * FROM sessions WHERE {' AND '.join(clauses)} ORDER BY ordinal DESC LIMIT ?"

        def operation(conn: sqlite3.Connection) -> Page[SessionRecord]:
            rows = conn.execute(query, (*params, limit + 1)).fetchall()
            next_cursor = rows[limit - 1]["ordinal"] if len(rows) > limit else None
            return Page([_session_record(row) for row in rows[:limit]], next_cursor)

        return await self._read(operation)

    async def end_session(
        self, session_id: str, final_state: SessionState, reason: str, retention: timedelta, *, tenant: str = ""
    ) -> SessionRecord:
        def operation(conn: sqlite3.Connection) -> SessionRecord:
            row = _session_row(conn, session_id, tenant)
            if row["state"] != SessionState.ACTIVE.value:
                return _session_record(row)
            now_us = _now_us()
            conn.execute(
                "UPDATE sessions SET state = ?, end_reason = ?, update_time_us = ?, expire_time_us = ? "
                "WHERE session_id = ?",
                (final_state.value, reason, now_us, now_us + retention // _MICROSECOND, session_id),
            )
            return _session_record(_session_row(conn, session_id, tenant))

        return await self._write(operation)

    async def reopen_session(self, session_id: str, *, tenant: str = "") -> SessionRecord:
        def operation(conn: sqlite3.Connection) -> SessionRecord:
            row = _session_row(conn, session_id, tenant)
            if row["state"] == SessionState.ACTIVE.value:
                return _session_record(row)
            if row["state"] == SessionState.ENDED.value:
                raise SessionEnded(session_id)
            conn.execute(
                "UPDATE sessions SET state = ?, end_reason = '', update_time_us = ?, expire_time_us = NULL "
                "WHERE session_id = ?",
                (SessionState.ACTIVE.value, _now_us(), session_id),
            )
            return _session_record(_session_row(conn, session_id, tenant))

        return await self._write(operation)

    async def delete_session(self, session_id: str, *, tenant: str = "") -> None:
        def operation(conn: sqlite3.Connection) -> None:
            session = _session_row(conn, session_id, tenant)
            conn.execute("DELETE FROM sessions WHERE session_id = ?", (session_id,))
            _delete_orphaned_cache_entries(conn, [(tenant, session["cache_namespace"])])

        await self._write(operation)

    async def delete_expired_sessions(self, *, limit: int) -> SweepResult:
        def operation(conn: sqlite3.Connection) -> SweepResult:
            rows = conn.execute(
                "SELECT session_id, tenant, cache_namespace FROM sessions WHERE state != 'ACTIVE' "
                "AND expire_time_us <= ? ORDER BY expire_time_us LIMIT ?",
                (_now_us(), limit),
            ).fetchall()
            session_ids = [row["session_id"] for row in rows]
            if not session_ids:
                return SweepResult(0)
            selected = json.dumps(session_ids)
            in_selected = "session_id IN (SELECT value FROM json_each(?))"
            checkpoints = conn.execute(f"SELECT count(*) FROM checkpoints WHERE {in_selected}", (selected,))
            leases = conn.execute(f"SELECT count(*) FROM leases WHERE {in_selected}", (selected,))
            checkpoint_count, lease_count = checkpoints.fetchone()[0], leases.fetchone()[0]
            conn.execute(f"DELETE FROM sessions WHERE {in_selected}", (selected,))
            entries = _delete_orphaned_cache_entries(conn, [(row["tenant"], row["cache_namespace"]) for row in rows])
            return SweepResult(len(session_ids), checkpoint_count, lease_count, session_ids, entries)

        return await self._write(operation)

    async def expire_idle_sessions(
        self, *, idle_for: timedelta, reason: str, retention: timedelta, limit: int
    ) -> list[str]:
        def operation(conn: sqlite3.Connection) -> list[str]:
            now_us = _now_us()
            idle_since_us = now_us - idle_for // _MICROSECOND
            rows = conn.execute(
                "SELECT sessions.session_id FROM sessions LEFT JOIN leases ON leases.session_id = sessions.session_id "
                "WHERE sessions.state = 'ACTIVE' AND sessions.update_time_us <= ? AND (leases.session_id IS NULL "
                "OR (leases.update_time_us <= ? AND (leases.holder = '' OR leases.expire_time_us <= ?))) "
                "ORDER BY sessions.update_time_us LIMIT ?",
                (idle_since_us, idle_since_us, now_us, limit),
            ).fetchall()
            session_ids = [row[0] for row in rows]
            conn.execute(
                "UPDATE sessions SET state = ?, end_reason = ?, update_time_us = ?, expire_time_us = ? "
                "WHERE session_id IN (SELECT value FROM json_each(?))",
                (
                    SessionState.FAILED.value,
                    reason,
                    now_us,
                    now_us + retention // _MICROSECOND,
                    json.dumps(session_ids),
                ),
            )
            return session_ids

        return await self._write(operation)

    async def delete_old_cache_entries(self, *, max_age: timedelta, limit: int) -> int:
        def operation(conn: sqlite3.Connection) -> int:
            return conn.execute(
                "DELETE FROM cache_entries WHERE (namespace, key) IN (SELECT namespace, key FROM cache_entries "
                "WHERE create_time_us < ? ORDER BY create_time_us LIMIT ?)",
                (_now_us() - max_age // _MICROSECOND, limit),
            ).rowcount

        return await self._write(operation)

    # Checkpoints

    async def create_checkpoint(self, session_id: str, new: NewCheckpoint, *, tenant: str = "") -> CheckpointRecord:
        def operation(conn: sqlite3.Connection) -> CheckpointRecord:
            session = _session_row(conn, session_id, tenant)
            existing = conn.execute(
                f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoints WHERE session_id = ? AND checkpoint_id = ?",
                (session_id, new.checkpoint_id),
            ).fetchone()
            if existing is not None:
                return repeated_checkpoint(_checkpoint_record(existing), new)
            require_active(session_id, SessionState(session["state"]))
            sequence = session["checkpoint_count"] + 1
            now_us = _now_us()
            conn.execute(
                "INSERT INTO checkpoints (session_id, checkpoint_id, sequence, content_type, annotations, "
                "size_bytes, sha256, create_time_us, encoding, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    session_id,
                    new.checkpoint_id,
                    sequence,
                    new.content_type,
                    json.dumps(dict(new.annotations), sort_keys=True),
                    new.payload.size_bytes,
                    new.payload.sha256,
                    now_us,
                    new.payload.encoding,
                    new.payload.data,
                ),
            )
            conn.execute(
                "UPDATE sessions SET checkpoint_count = ?, update_time_us = ? WHERE session_id = ?",
                (sequence, now_us, session_id),
            )
            return CheckpointRecord(
                session_id,
                new.checkpoint_id,
                sequence,
                new.content_type,
                dict(new.annotations),
                new.payload.size_bytes,
                new.payload.sha256,
                _from_us(now_us),
            )

        return await self._write(operation)

    async def list_checkpoints(
        self, session_id: str, *, limit: int, after: int | None, tenant: str = ""
    ) -> Page[CheckpointRecord]:
        def operation(conn: sqlite3.Connection) -> Page[CheckpointRecord]:
            _session_row(conn, session_id, tenant)
            rows = conn.execute(
                f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoints WHERE session_id = ? AND sequence > ? "
                "ORDER BY sequence LIMIT ?",
                (session_id, after or 0, limit + 1),
            ).fetchall()
            next_cursor = rows[limit - 1]["sequence"] if len(rows) > limit else None
            return Page([_checkpoint_record(row) for row in rows[:limit]], next_cursor)

        return await self._read(operation)

    async def get_checkpoint(self, session_id: str, checkpoint_id: str, *, tenant: str = "") -> CheckpointRecord:
        def operation(conn: sqlite3.Connection) -> CheckpointRecord:
            _session_row(conn, session_id, tenant)
            if checkpoint_id == LATEST_CHECKPOINT:
                cursor = conn.execute(
                    "SELECT * FROM checkpoints WHERE session_id = ? ORDER BY sequence DESC LIMIT 1", (session_id,)
                )
            else:
                cursor = conn.execute(
                    "SELECT * FROM checkpoints WHERE session_id = ? AND checkpoint_id = ?", (session_id, checkpoint_id)
                )
            row = cursor.fetchone()
            if row is None:
                raise CheckpointNotFound(session_id, checkpoint_id)
            return _checkpoint_record(row, with_payload=True)

        return await self._read(operation)

    # LLM cache

    async def lookup_cache_entries(self, session_id: str, keys: Sequence[str], *, tenant: str = "") -> dict[str, bytes]:
        def operation(conn: sqlite3.Connection) -> dict[str, bytes]:
            namespace = cache_scope(tenant, _session_row(conn, session_id, tenant)["cache_namespace"])
            rows = conn.execute(
                "SELECT key, value FROM cache_entries WHERE namespace = ? AND key IN (SELECT value FROM json_each(?))",
                (namespace, json.dumps(list(keys))),
            )
            return {row["key"]: bytes(row["value"]) for row in rows}

        return await self._read(operation)

    async def store_cache_entries(
        self, session_id: str, entries: Sequence[tuple[str, bytes]], *, tenant: str = ""
    ) -> int:
        def operation(conn: sqlite3.Connection) -> int:
            session = _session_row(conn, session_id, tenant)
            require_active(session_id, SessionState(session["state"]))
            namespace = cache_scope(tenant, session["cache_namespace"])
            before = conn.total_changes
            now_us = _now_us()
            conn.executemany(
                "INSERT INTO cache_entries (namespace, key, value, create_time_us) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (namespace, key) DO NOTHING",
                [(namespace, key, value, now_us) for key, value in entries],
            )
            return conn.total_changes - before

        return await self._write(operation)

    # Remembered responses

    async def remember_response(
        self, session_id: str, new: NewRememberedResponse, *, tenant: str = ""
    ) -> RememberedResponseRecord:
        def operation(conn: sqlite3.Connection) -> RememberedResponseRecord:
            session = _session_row(conn, session_id, tenant)
            existing = conn.execute(
                "SELECT * FROM remembered_responses WHERE session_id = ? AND response_id = ?",
                (session_id, new.response_id),
            ).fetchone()
            if existing is not None:
                return _remembered_record(existing)
            require_active(session_id, SessionState(session["state"]))
            now_us = _now_us()
            conn.execute(
                "INSERT INTO remembered_responses (session_id, response_id, request_sha256, size_bytes, sha256, "
                "create_time_us, encoding, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    session_id,
                    new.response_id,
                    new.request_sha256,
                    new.payload.size_bytes,
                    new.payload.sha256,
                    now_us,
                    new.payload.encoding,
                    new.payload.data,
                ),
            )
            conn.execute("UPDATE sessions SET update_time_us = ? WHERE session_id = ?", (now_us, session_id))
            return RememberedResponseRecord(
                session_id, new.response_id, new.request_sha256, _from_us(now_us), new.payload
            )

        return await self._write(operation)

    async def get_remembered_response(
        self, session_id: str, response_id: str, *, tenant: str = ""
    ) -> RememberedResponseRecord:
        def operation(conn: sqlite3.Connection) -> RememberedResponseRecord:
            _session_row(conn, session_id, tenant)
            row = conn.execute(
                "SELECT * FROM remembered_responses WHERE session_id = ? AND response_id = ?", (session_id, response_id)
            ).fetchone()
            if row is None:
                raise RememberedResponseNotFound(session_id, response_id)
            return _remembered_record(row)

        return await self._read(operation)

    # Leases

    async def acquire_lease(self, session_id: str, holder: str, ttl: timedelta, *, tenant: str = "") -> LeaseRecord:
        def operation(conn: sqlite3.Connection) -> LeaseRecord:
            require_active(session_id, SessionState(_session_row(conn, session_id, tenant)["state"]))
            now_us = _now_us()
            current = _lease_row(conn, session_id)
            lease = acquired_lease(
                None if current is None else _lease_record(current, now_us), session_id, holder, _from_us(now_us), ttl
            )
            _write_lease(conn, lease, now_us)
            return replace(lease, tenant=tenant)

        return await self._write(operation)

    async def renew_lease(self, session_id: str, holder: str, ttl: timedelta, *, tenant: str = "") -> LeaseRecord:
        def operation(conn: sqlite3.Connection) -> LeaseRecord:
            require_active(session_id, SessionState(_session_row(conn, session_id, tenant)["state"]))
            now_us = _now_us()
            current = _lease_row(conn, session_id)
            lease = renewed_lease(
                None if current is None else _lease_record(current, now_us), session_id, holder, _from_us(now_us), ttl
            )
            _write_lease(conn, lease, now_us)
            return replace(lease, tenant=tenant)

        return await self._write(operation)

    async def release_lease(self, session_id: str, holder: str, *, tenant: str = "") -> None:
        def operation(conn: sqlite3.Connection) -> None:
            _session_row(conn, session_id, tenant)
            now_us = _now_us()
            current = _lease_row(conn, session_id)
            lease = released_lease(
                None if current is None else _lease_record(current, now_us), session_id, holder, _from_us(now_us)
            )
            if lease is not None:
                _write_lease(conn, lease, now_us)

        await self._write(operation)

    async def list_leases(self, *, expired_only: bool, limit: int, after: str | None) -> Page[LeaseRecord]:
        def operation(conn: sqlite3.Connection) -> Page[LeaseRecord]:
            now_us = _now_us()
            clauses, params = ["leases.session_id > ?"], [after or ""]
            if expired_only:
                clauses.append("sessions.state = 'ACTIVE' AND leases.expire_time_us <= ?")
                params.append(now_us)
            rows = conn.execute(
                f"SELECT leases.*, sessions.tenant FROM leases JOIN sessions USING (session_id) "
                f"WHERE {' AND '.join(clauses)} ORDER BY leases.session_id LIMIT ?",
                (*params, limit + 1),
            ).fetchall()
            next_cursor = rows[limit - 1]["session_id"] if len(rows) > limit else None
            return Page([_lease_record(row, now_us) for row in rows[:limit]], next_cursor)

        return await self._read(operation)

    # Shared rate budgets

    async def update_rate_ledger(self, endpoint: str, change: Callable[[dict | None, float], tuple[dict, R]]) -> R:
        def operation(conn: sqlite3.Connection) -> R:
            row = conn.execute("SELECT state FROM rate_ledgers WHERE endpoint = ?", (endpoint,)).fetchone()
            now_us = _now_us()
            state, result = change(None if row is None else json.loads(row[0]), now_us / 1e6)
            conn.execute(
                "INSERT INTO rate_ledgers (endpoint, state, update_time_us) VALUES (?, ?, ?) "
                "ON CONFLICT (endpoint) DO UPDATE SET state = excluded.state, update_time_us = excluded.update_time_us",
                (endpoint, json.dumps(state, separators=(",", ":")), now_us),
            )
            return result

        return await self._write(operation)
