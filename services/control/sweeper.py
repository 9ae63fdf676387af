"""Retention: the background sweep that ends idle sessions and deletes expired sessions and old cache entries.

Each sweep, in batches of one transaction each:

1. ends as FAILED (reason `expired: ...`) the active sessions that have seen no activity for
   `SESSION_IDLE_TIMEOUT_S` and that no live lease holds (a running study renews its lease);
2. deletes the ended sessions whose `expire_time` has passed, with their checkpoints, leases and
   remembered responses, and the entries of each cache namespace that no session names any more;
3. deletes the cache entries older than `CACHE_ENTRY_MAX_AGE_S`.

A setting of 0 turns its step off. With PostgreSQL, replicas sweeping at once skip each other's rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import structlog
from prometheus_client import Counter, Gauge

from services.control.storage.base import Storage

log = structlog.get_logger("control.sweeper")

SWEEP_BATCH_SIZE = 100
CACHE_SWEEP_BATCH_SIZE = 1000
EXPIRED_REASON_PREFIX = "expired:"

SWEPT_SESSIONS = Counter("control_swept_sessions_total", "Expired sessions deleted by the sweeper.")
SWEPT_CHECKPOINTS = Counter("control_swept_checkpoints_total", "Checkpoints deleted with expired sessions.")
EXPIRED_IDLE_SESSIONS = Counter(
    "control_expired_idle_sessions_total", "Active sessions ended as failed after the idle timeout without activity."
)
SWEPT_CACHE_ENTRIES = Counter(
    "control_swept_cache_entries_total",
    "Cache entries deleted by the sweeper: with the last session naming their namespace, or for their age.",
    ("reason",),
)
SWEEP_FAILURES = Counter("control_sweep_failures_total", "Sweeps that failed (retried at the next interval).")
LAST_SWEEP = Gauge("control_sweep_last_success_timestamp_seconds", "When the last sweep that succeeded ended.")

CACHE_ENTRIES_OF_DELETED_SESSIONS = "session_deleted"
CACHE_ENTRIES_TOO_OLD = "age"


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long data is kept; a zero duration turns that rule off."""

    session_retention: timedelta
    """How long an ended session (an expired one included) is kept."""
    idle_timeout: timedelta = timedelta(0)
    """An active session without activity for this long, and without a live lease, expires."""
    cache_entry_max_age: timedelta = timedelta(0)
    """Cache entries older than this are deleted."""


@dataclass(frozen=True, slots=True)
class SweepCounts:
    """What one sweep did."""

    sessions_expired: int = 0
    sessions_deleted: int = 0
    checkpoints_deleted: int = 0
    leases_deleted: int = 0
    cache_entries_of_deleted_sessions: int = 0
    old_cache_entries: int = 0

    def __bool__(self) -> bool:
        return any(
            (
                self.sessions_expired,
                self.sessions_deleted,
                self.cache_entries_of_deleted_sessions,
                self.old_cache_entries,
            )
        )


def expired_reason(idle_timeout: timedelta) -> str:
    return f"{EXPIRED_REASON_PREFIX} no activity for {idle_timeout.total_seconds():g} s"


async def _in_batches(step: Callable[[], Awaitable[int]], batch_size: int) -> int:
    """Runs `step` (one transaction, returning how many rows it handled) until a batch comes back short."""
    total = 0
    while True:
        handled = await step()
        total += handled
        if handled < batch_size:
            return total


class Sweeper:
    def __init__(
        self,
        storage: Storage,
        interval_s: float,
        policy: RetentionPolicy,
        *,
        batch_size: int = SWEEP_BATCH_SIZE,
        cache_batch_size: int = CACHE_SWEEP_BATCH_SIZE,
    ):
        self._storage = storage
        self._interval_s = interval_s
        self._policy = policy
        self._batch_size = batch_size
        self._cache_batch_size = cache_batch_size

    async def sweep_once(self) -> SweepCounts:
        """Expires idle sessions, deletes expired sessions and old cache entries, each a batch per transaction."""
        expired = await self._expire_idle_sessions()
        deleted = await self._delete_expired_sessions()
        old_entries = await self._delete_old_cache_entries()
        return SweepCounts(sessions_expired=expired, old_cache_entries=old_entries, **deleted)

    async def _expire_idle_sessions(self) -> int:
        idle_timeout = self._policy.idle_timeout
        if idle_timeout <= timedelta(0):
            return 0

        async def batch() -> int:
            session_ids = await self._storage.expire_idle_sessions(
                idle_for=idle_timeout,
                reason=expired_reason(idle_timeout),
                retention=self._policy.session_retention,
                limit=self._batch_size,
            )
            EXPIRED_IDLE_SESSIONS.inc(len(session_ids))
            return len(session_ids)

        return await _in_batches(batch, self._batch_size)

    async def _delete_expired_sessions(self) -> dict[str, int]:
        counts = {
            "sessions_deleted": 0,
            "checkpoints_deleted": 0,
            "leases_deleted": 0,
            "cache_entries_of_deleted_sessions": 0,
        }

        async def batch() -> int:
            result = await self._storage.delete_expired_sessions(limit=self._batch_size)
            counts["sessions_deleted"] += result.sessions_deleted
            counts["checkpoints_deleted"] += result.checkpoints_deleted
            counts["leases_deleted"] += result.leases_deleted
            counts["cache_entries_of_deleted_sessions"] += result.cache_entries_deleted
            SWEPT_SESSIONS.inc(result.sessions_deleted)
            SWEPT_CHECKPOINTS.inc(result.checkpoints_deleted)
            SWEPT_CACHE_ENTRIES.labels(CACHE_ENTRIES_OF_DELETED_SESSIONS).inc(result.cache_entries_deleted)
            return result.sessions_deleted

        await _in_batches(batch, self._batch_size)
        return counts

    async def _delete_old_cache_entries(self) -> int:
        max_age = self._policy.cache_entry_max_age
        if max_age <= timedelta(0):
            return 0

        async def batch() -> int:
            deleted = await self._storage.delete_old_cache_entries(max_age=max_age, limit=self._cache_batch_size)
            SWEPT_CACHE_ENTRIES.labels(CACHE_ENTRIES_TOO_OLD).inc(deleted)
            return deleted

        return await _in_batches(batch, self._cache_batch_size)

    async def run_forever(self) -> None:
        while True:
            try:
                counts = await self.sweep_once()
            except Exception:
                SWEEP_FAILURES.inc()
                log.exception("sweep_failed")
            else:
                LAST_SWEEP.set(time.time())
                if counts:
                    log.info(
                        "swept",
                        sessions_expired=counts.sessions_expired,
                        sessions_deleted=counts.sessions_deleted,
                        checkpoints=counts.checkpoints_deleted,
                        leases=counts.leases_deleted,
                        cache_entries_of_deleted_sessions=counts.cache_entries_of_deleted_sessions,
                        old_cache_entries=counts.old_cache_entries,
                    )
            await asyncio.sleep(self._interval_s)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Sweeper]:
        """Sweeps in the background while the block runs."""
        task = asyncio.create_task(self.run_forever(), name="control-sweeper")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
