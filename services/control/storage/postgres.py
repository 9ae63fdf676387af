"""PostgreSQL backend for several control replicas: psycopg 3 async with a connection pool.

Every write runs in one transaction that first locks the session's row, so checkpoints of a session
get gap-free sequence numbers and no write races an EndSession. Times come from the database's
clock, the one clock all replicas share.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

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
from services.control.storage.postgres_panels import PostgresPanels
from services.control.storage.postgres_usage import PostgresUsage
from services.control.storage.rules import (
    acquired_lease,
    cache_scope,
    idempotency_key,
    released_lease,
    renewed_lease,
    repeated_checkpoint,
    require_active,
)

R = TypeVar("R")

Row = dict[str, Any]

MIGRATION_LOCK_NAME = "tinytroupe-control-migrations"
_CHECKPOINT_COLUMNS = "session_id, checkpoint_id, sequence, content_type, annotations, size_bytes, sha256, create_time"


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _session_record(row: Row) -> SessionRecord:
    return SessionRecord(
        session_id=row["session_id"],
        display_name=row["display_name"],
        description=row["description"],
        cache_namespace=row["cache_namespace"],
        labels=dict(row["labels"]),
        state=SessionState(row["state"]),
        create_time=_utc(row["create_time"]),
        update_time=_utc(row["update_time"]),
        expire_time=None if row["expire_time"] is None else _utc(row["expire_time"]),
        end_reason=row["end_reason"],
        checkpoint_count=row["checkpoint_count"],
        tenant=row["tenant"],
    )


def _checkpoint_record(row: Row, *, with_payload: bool = False) -> CheckpointRecord:
    payload = None
    if with_payload:
        payload = StoredPayload(row["encoding"], bytes(row["data"]), row["size_bytes"], row["sha256"])
    return CheckpointRecord(
        session_id=row["session_id"],
        checkpoint_id=row["checkpoint_id"],
        sequence=row["sequence"],
        content_type=row["content_type"],
        annotations=dict(row["annotations"]),
        size_bytes=row["size_bytes"],
        sha256=row["sha256"],
        create_time=_utc(row["create_time"]),
        payload=payload,
    )


def _lease_record(row: Row, now: datetime) -> LeaseRecord:
    return LeaseRecord(
        session_id=row["session_id"],
        holder=row["holder"],
        expire_time=_utc(row["expire_time"]),
        generation=row["generation"],
        expired=row["expire_time"] <= now,
        tenant=row.get("tenant", ""),
    )


def _remembered_record(row: Row) -> RememberedResponseRecord:
    return RememberedResponseRecord(
        session_id=row["session_id"],
        response_id=row["response_id"],
        request_sha256=row["request_sha256"],
        create_time=_utc(row["create_time"]),
        payload=StoredPayload(row["encoding"], bytes(row["data"]), row["size_bytes"], row["sha256"]),
    )


async def _delete_orphaned_cache_entries(conn: AsyncConnection, namespaces: Iterable[tuple[str, str]]) -> int:
    """Deletes the cache entries of each `(tenant, cache_namespace)` that no session names any more."""
    candidates = set(namespaces)
    if not candidates:
        return 0
    tenants, names = [tenant for tenant, _ in candidates], [namespace for _, namespace in candidates]
    cursor = await conn.execute(
        "SELECT DISTINCT tenant, cache_namespace FROM sessions WHERE (cache_namespace, tenant) IN "
        "(SELECT candidate.namespace, candidate.tenant FROM unnest(%s::text[], %s::text[]) "
        "AS candidate (tenant, namespace))",
        (tenants, names),
    )
    still_named = {(row["tenant"], row["cache_namespace"]) for row in await cursor.fetchall()}
    orphaned = [cache_scope(tenant, namespace) for tenant, namespace in candidates - still_named]
    if not orphaned:
        return 0
    cursor = await conn.execute("DELETE FROM cache_entries WHERE namespace = ANY(%s)", (orphaned,))
    return cursor.rowcount


async def _session_row(conn: AsyncConnection, session_id: str, tenant: str, *, lock: str = "") -> Row:
    """The session's row with the database's `now`; `lock` (`FOR UPDATE`, `FOR SHARE`) holds it until commit.
    Another tenant's session is reported missing."""
    cursor = await conn.execute(
        f"SELECT *, now() AS db_now FROM sessions WHERE session_id = %s AND tenant = %s {lock}", (session_id, tenant)
    )
    row = await cursor.fetchone()
    if row is None:
        raise SessionNotFound(session_id)
    return row


async def _current_lease(conn: AsyncConnection, session_id: str, now: datetime) -> LeaseRecord | None:
    row = await (await conn.execute("SELECT * FROM leases WHERE session_id = %s", (session_id,))).fetchone()
    return None if row is None else _lease_record(row, now)


async def _write_lease(conn: AsyncConnection, lease: LeaseRecord) -> None:
    await conn.execute(
        "INSERT INTO leases (session_id, holder, expire_time, generation, update_time) "
        "VALUES (%s, %s, %s, %s, now()) ON CONFLICT (session_id) DO UPDATE SET holder = excluded.holder, "
        "expire_time = excluded.expire_time, generation = excluded.generation, update_time = now()",
        (lease.session_id, lease.holder, lease.expire_time, lease.generation),
    )


class PostgresStorage(PostgresPanels, PostgresUsage, Storage):
    """The backend for replicated deployments: a PostgreSQL database named by `DATABASE_URL`."""

    def __init__(self, conninfo: str, *, min_connections: int = 1, max_connections: int = 10):
        self._pool = AsyncConnectionPool(
            conninfo,
            min_size=min_connections,
            max_size=max_connections,
            open=False,
            kwargs={"autocommit": True, "row_factory": dict_row},
            configure=self._configure,
            check=AsyncConnectionPool.check_connection,
            name="control",
        )

    @staticmethod
    async def _configure(conn: AsyncConnection) -> None:
        await conn.execute("SET TIME ZONE 'UTC'")

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self._pool.connection() as conn, conn.transaction():
            yield conn

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection]:
        async with self._pool.connection() as conn:
            yield conn

    async def open(self) -> None:
        await self._pool.open(wait=True)
        await self._migrate()

    async def _migrate(self) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s || coalesce(current_schema(), '')))", (MIGRATION_LOCK_NAME,)
            )
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
                "name text NOT NULL, applied_time timestamptz NOT NULL DEFAULT now())"
            )
            rows = await (await conn.execute("SELECT version FROM schema_migrations")).fetchall()
            applied = {row["version"] for row in rows}
            for migration in load_migrations("postgres"):
                if migration.version in applied:
                    continue
                await conn.execute(migration.sql)  # type: ignore[arg-type]  # trusted, packaged script
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (migration.version, migration.name)
                )

    async def close(self) -> None:
        await self._pool.close()

    # Sessions

    async def begin_session(self, new: NewSession) -> SessionRecord:
        request_key = idempotency_key(new.tenant, new.request_id)
        async with self._transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO sessions (session_id, request_id, tenant, display_name, description, cache_namespace, "
                "labels, state, create_time, update_time) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, now(), now()) "
                "ON CONFLICT DO NOTHING RETURNING *",
                (
                    new.session_id,
                    request_key,
                    new.tenant,
                    new.display_name,
                    new.description,
                    new.cache_namespace,
                    Jsonb(dict(new.labels)),
                    SessionState.ACTIVE.value,
                ),
            )
            row = await cursor.fetchone()
            if row is not None:
                return _session_record(row)
            if request_key:
                cursor = await conn.execute("SELECT * FROM sessions WHERE request_id = %s", (request_key,))
                if (row := await cursor.fetchone()) is not None:
                    return _session_record(row)
            raise SessionAlreadyExists(new.session_id)

    async def get_session(self, session_id: str, *, tenant: str = "") -> SessionRecord:
        async with self._connection() as conn:
            cursor = await conn.execute(
                "SELECT * FROM sessions WHERE session_id = %s AND tenant = %s", (session_id, tenant)
            )
            row = await cursor.fetchone()
        if row is None:
            raise SessionNotFound(session_id)
        return _session_record(row)

    async def list_sessions(
        self, *, state: SessionState | None, labels: Mapping[str, str], limit: int, after: int | None, tenant: str = ""
    ) -> Page[SessionRecord]:
        clauses, params = ["tenant = %s"], [tenant]
        if state is not None:
            clauses.append("state = %s")
            params.append(state.value)
        if after is not None:
            clauses.append("ordinal < %s")
            params.append(after)
        if labels:
            clauses.append("labels @> %s")
            params.append(Jsonb(dict(labels)))
        where = " AND ".join(clauses)
        async with self._connection() as conn:
            cursor = await conn.execute(
                f"SELECT * FROM sessions WHERE {where} ORDER BY ordinal DESC LIMIT %s", (*params, limit + 1)
            )
            rows = await cursor.fetchall()
        next_cursor = rows[limit - 1]["ordinal"] if len(rows) > limit else None
        return Page([_session_record(row) for row in rows[:limit]], next_cursor)

    async def end_session(
        self, session_id: str, final_state: SessionState, reason: str, retention: timedelta, *, tenant: str = ""
    ) -> SessionRecord:
        async with self._transaction() as conn:
            row = await _session_row(conn, session_id, tenant, lock="FOR UPDATE")
            if row["state"] != SessionState.ACTIVE.value:
                return _session_record(row)
            cursor = await conn.execute(
                "UPDATE sessions SET state = %s, end_reason = %s, update_time = now(), "
                "expire_time = now() + %s WHERE session_id = %s RETURNING *",
                (final_state.value, reason, retention, session_id),
            )
            return _session_record(await cursor.fetchone())

    async def reopen_session(self, session_id: str, *, tenant: str = "") -> SessionRecord:
        async with self._transaction() as conn:
            row = await _session_row(conn, session_id, tenant, lock="FOR UPDATE")
            if row["state"] == SessionState.ACTIVE.value:
                return _session_record(row)
            if row["state"] == SessionState.ENDED.value:
                raise SessionEnded(session_id)
            cursor = await conn.execute(
                "UPDATE sessions SET state = %s, end_reason = '', update_time = now(), expire_time = NULL "
                "WHERE session_id = %s RETURNING *",
                (SessionState.ACTIVE.value, session_id),
            )
            return _session_record(await cursor.fetchone())

    async def delete_session(self, session_id: str, *, tenant: str = "") -> None:
        async with self._transaction() as conn:
            cursor = await conn.execute(
                "DELETE FROM sessions WHERE session_id = %s AND tenant = %s RETURNING cache_namespace",
                (session_id, tenant),
            )
            row = await cursor.fetchone()
            if row is None:
                raise SessionNotFound(session_id)
            await _delete_orphaned_cache_entries(conn, [(tenant, row["cache_namespace"])])

    async def delete_expired_sessions(self, *, limit: int) -> SweepResult:
        async with self._transaction() as conn:
            cursor = await conn.execute(
                "SELECT session_id, tenant, cache_namespace FROM sessions WHERE state <> 'ACTIVE' "
                "AND expire_time <= now() ORDER BY expire_time LIMIT %s FOR UPDATE SKIP LOCKED",
                (limit,),
            )
            rows = await cursor.fetchall()
            session_ids = [row["session_id"] for row in rows]
            if not session_ids:
                return SweepResult(0)
            counts = await (
                await conn.execute(
                    "SELECT (SELECT count(*) FROM checkpoints WHERE session_id = ANY(%(ids)s)) AS checkpoints, "
                    "(SELECT count(*) FROM leases WHERE session_id = ANY(%(ids)s)) AS leases",
                    {"ids": session_ids},
                )
            ).fetchone()
            await conn.execute("DELETE FROM sessions WHERE session_id = ANY(%s)", (session_ids,))
            entries = await _delete_orphaned_cache_entries(
                conn, [(row["tenant"], row["cache_namespace"]) for row in rows]
            )
        return SweepResult(len(session_ids), counts["checkpoints"], counts["leases"], session_ids, entries)

    async def expire_idle_sessions(
        self, *, idle_for: timedelta, reason: str, retention: timedelta, limit: int
    ) -> list[str]:
        async with self._transaction() as conn:
            cursor = await conn.execute(
                "WITH idle AS (SELECT sessions.session_id FROM sessions "
                "LEFT JOIN leases ON leases.session_id = sessions.session_id "
                "WHERE sessions.state = 'ACTIVE' AND sessions.update_time <= now() - %(idle)s "
                "AND (leases.session_id IS NULL OR (leases.update_time <= now() - %(idle)s "
                "AND (leases.holder = '' OR leases.expire_time <= now()))) "
                "ORDER BY sessions.update_time LIMIT %(limit)s FOR UPDATE OF sessions SKIP LOCKED) "
                "UPDATE sessions SET state = %(state)s, end_reason = %(reason)s, update_time = now(), "
                "expire_time = now() + %(retention)s WHERE session_id IN (SELECT session_id FROM idle) "
                "RETURNING session_id",
                {
                    "idle": idle_for,
                    "limit": limit,
                    "state": SessionState.FAILED.value,
                    "reason": reason,
                    "retention": retention,
                },
            )
            return [row["session_id"] for row in await cursor.fetchall()]

    async def delete_old_cache_entries(self, *, max_age: timedelta, limit: int) -> int:
        async with self._transaction() as conn:
            cursor = await conn.execute(
                "DELETE FROM cache_entries WHERE (namespace, key) IN (SELECT namespace, key FROM cache_entries "
                "WHERE create_time < now() - %s ORDER BY create_time LIMIT %s FOR UPDATE SKIP LOCKED)",
                (max_age, limit),
            )
            return cursor.rowcount

    # Checkpoints

    async def create_checkpoint(self, session_id: str, new: NewCheckpoint, *, tenant: str = "") -> CheckpointRecord:
        async with self._transaction() as conn:
            session = await _session_row(conn, session_id, tenant, lock="FOR UPDATE")
            cursor = await conn.execute(
                f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoints WHERE session_id = %s AND checkpoint_id = %s",
                (session_id, new.checkpoint_id),
            )
            if (existing := await cursor.fetchone()) is not None:
                return repeated_checkpoint(_checkpoint_record(existing), new)
            require_active(session_id, SessionState(session["state"]))
            sequence = session["checkpoint_count"] + 1
            cursor = await conn.execute(
                "INSERT INTO checkpoints (session_id, checkpoint_id, sequence, content_type, annotations, "
                "size_bytes, sha256, create_time, encoding, data) "
                f"VALUES (%s, %s, %s, %s, %s, %s, %s, now(), %s, %b) RETURNING {_CHECKPOINT_COLUMNS}",
                (
                    session_id,
                    new.checkpoint_id,
                    sequence,
                    new.content_type,
                    Jsonb(dict(new.annotations)),
                    new.payload.size_bytes,
                    new.payload.sha256,
                    new.payload.encoding,
                    new.payload.data,
                ),
            )
            record = _checkpoint_record(await cursor.fetchone())
            await conn.execute(
                "UPDATE sessions SET checkpoint_count = %s, update_time = now() WHERE session_id = %s",
                (sequence, session_id),
            )
            return record

    async def list_checkpoints(
        self, session_id: str, *, limit: int, after: int | None, tenant: str = ""
    ) -> Page[CheckpointRecord]:
        async with self._transaction() as conn:
            await _session_row(conn, session_id, tenant)
            cursor = await conn.execute(
                f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoints WHERE session_id = %s AND sequence > %s "
                "ORDER BY sequence LIMIT %s",
                (session_id, after or 0, limit + 1),
            )
            rows = await cursor.fetchall()
        next_cursor = rows[limit - 1]["sequence"] if len(rows) > limit else None
        return Page([_checkpoint_record(row) for row in rows[:limit]], next_cursor)

    async def get_checkpoint(self, session_id: str, checkpoint_id: str, *, tenant: str = "") -> CheckpointRecord:
        async with self._transaction() as conn:
            await _session_row(conn, session_id, tenant)
            cursor = conn.cursor(binary=True)
            if checkpoint_id == LATEST_CHECKPOINT:
                await cursor.execute(
                    "SELECT * FROM checkpoints WHERE session_id = %s ORDER BY sequence DESC LIMIT 1", (session_id,)
                )
            else:
                await cursor.execute(
                    "SELECT * FROM checkpoints WHERE session_id = %s AND checkpoint_id = %s",
                    (session_id, checkpoint_id),
                )
            row = await cursor.fetchone()
        if row is None:
            raise CheckpointNotFound(session_id, checkpoint_id)
        return _checkpoint_record(row, with_payload=True)

    # LLM cache

    async def lookup_cache_entries(self, session_id: str, keys: Sequence[str], *, tenant: str = "") -> dict[str, bytes]:
        async with self._transaction() as conn:
            namespace = cache_scope(tenant, (await _session_row(conn, session_id, tenant))["cache_namespace"])
            cursor = await conn.execute(
                "SELECT key, value FROM cache_entries WHERE namespace = %s AND key = ANY(%s)", (namespace, list(keys))
            )
            return {row["key"]: bytes(row["value"]) for row in await cursor.fetchall()}

    async def store_cache_entries(
        self, session_id: str, entries: Sequence[tuple[str, bytes]], *, tenant: str = ""
    ) -> int:
        async with self._transaction() as conn:
            session = await _session_row(conn, session_id, tenant, lock="FOR SHARE")
            require_active(session_id, SessionState(session["state"]))
            cursor = await conn.execute(
                "INSERT INTO cache_entries (namespace, key, value) "
                "SELECT %s, entry.key, entry.value FROM unnest(%s::text[], %s::bytea[]) AS entry (key, value) "
                "ON CONFLICT (namespace, key) DO NOTHING",
                (
                    cache_scope(tenant, session["cache_namespace"]),
                    [key for key, _ in entries],
                    [value for _, value in entries],
                ),
            )
            return cursor.rowcount

    # Remembered responses

    async def remember_response(
        self, session_id: str, new: NewRememberedResponse, *, tenant: str = ""
    ) -> RememberedResponseRecord:
        async with self._transaction() as conn:
            session = await _session_row(conn, session_id, tenant, lock="FOR UPDATE")
            cursor = conn.cursor(binary=True)
            await cursor.execute(
                "SELECT * FROM remembered_responses WHERE session_id = %s AND response_id = %s",
                (session_id, new.response_id),
            )
            if (existing := await cursor.fetchone()) is not None:
                return _remembered_record(existing)
            require_active(session_id, SessionState(session["state"]))
            cursor = await conn.execute(
                "INSERT INTO remembered_responses (session_id, response_id, request_sha256, size_bytes, sha256, "
                "create_time, encoding, data) VALUES (%s, %s, %s, %s, %s, now(), %s, %b) RETURNING create_time",
                (
                    session_id,
                    new.response_id,
                    new.request_sha256,
                    new.payload.size_bytes,
                    new.payload.sha256,
                    new.payload.encoding,
                    new.payload.data,
                ),
            )
            create_time = (await cursor.fetchone())["create_time"]
            await conn.execute("UPDATE sessions SET update_time = now() WHERE session_id = %s", (session_id,))
        return RememberedResponseRecord(session_id, new.response_id, new.request_sha256, _utc(create_time), new.payload)

    async def get_remembered_response(
        self, session_id: str, response_id: str, *, tenant: str = ""
    ) -> RememberedResponseRecord:
        async with self._transaction() as conn:
            await _session_row(conn, session_id, tenant)
            cursor = conn.cursor(binary=True)
            await cursor.execute(
                "SELECT * FROM remembered_responses WHERE session_id = %s AND response_id = %s",
                (session_id, response_id),
            )
            row = await cursor.fetchone()
        if row is None:
            raise RememberedResponseNotFound(session_id, response_id)
        return _remembered_record(row)

    # Leases

    async def acquire_lease(self, session_id: str, holder: str, ttl: timedelta, *, tenant: str = "") -> LeaseRecord:
        async with self._transaction() as conn:
            session = await _session_row(conn, session_id, tenant, lock="FOR UPDATE")
            require_active(session_id, SessionState(session["state"]))
            now = session["db_now"]
            lease = acquired_lease(await _current_lease(conn, session_id, now), session_id, holder, now, ttl)
            await _write_lease(conn, lease)
        return replace(lease, tenant=tenant)

    async def renew_lease(self, session_id: str, holder: str, ttl: timedelta, *, tenant: str = "") -> LeaseRecord:
        async with self._transaction() as conn:
            session = await _session_row(conn, session_id, tenant, lock="FOR UPDATE")
            require_active(session_id, SessionState(session["state"]))
            now = session["db_now"]
            lease = renewed_lease(await _current_lease(conn, session_id, now), session_id, holder, now, ttl)
            await _write_lease(conn, lease)
        return replace(lease, tenant=tenant)

    async def release_lease(self, session_id: str, holder: str, *, tenant: str = "") -> None:
        async with self._transaction() as conn:
            now = (await _session_row(conn, session_id, tenant, lock="FOR UPDATE"))["db_now"]
            lease = released_lease(await _current_lease(conn, session_id, now), session_id, holder, now)
            if lease is not None:
                await _write_lease(conn, lease)

    async def list_leases(self, *, expired_only: bool, limit: int, after: str | None) -> Page[LeaseRecord]:
        clauses = ["leases.session_id > %s"]
        if expired_only:
            clauses.append("sessions.state = 'ACTIVE' AND leases.expire_time <= now()")
        async with self._connection() as conn:
            cursor = await conn.execute(
                f"SELECT leases.*, sessions.tenant, now() AS db_now FROM leases JOIN sessions USING (session_id) "
                f"WHERE {' AND '.join(clauses)} ORDER BY leases.session_id LIMIT %s",
                (after or "", limit + 1),
            )
            rows = await cursor.fetchall()
        next_cursor = rows[limit - 1]["session_id"] if len(rows) > limit else None
        return Page([_lease_record(row, row["db_now"]) for row in rows[:limit]], next_cursor)

    # Shared rate budgets

    async def update_rate_ledger(self, endpoint: str, change: Callable[[dict | None, float], tuple[dict, R]]) -> R:
        async with self._transaction() as conn:
            await conn.execute(
                "INSERT INTO rate_ledgers (endpoint, state, update_time) VALUES (%s, 'null'::jsonb, clock_timestamp()) "
                "ON CONFLICT (endpoint) DO NOTHING",
                (endpoint,),
            )
            row = await (
                await conn.execute("SELECT state FROM rate_ledgers WHERE endpoint = %s FOR UPDATE", (endpoint,))
            ).fetchone()
            # The clock is read once the row is locked, so later transactions never see an earlier time.
            clock = await (await conn.execute("SELECT extract(epoch FROM clock_timestamp())::float8 AS now")).fetchone()
            state, result = change(row["state"], clock["now"])
            await conn.execute(
                "UPDATE rate_ledgers SET state = %s, update_time = clock_timestamp() WHERE endpoint = %s",
                (Jsonb(state), endpoint),
            )
        return result
