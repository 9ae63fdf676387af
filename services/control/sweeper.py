"""Automatic clean-up of completed sessions: deletes ended sessions whose retention has passed.

Each sweep deletes expired sessions in batches (with their checkpoints and leases; cache entries
belong to namespaces and stay). With PostgreSQL, replicas sweeping at once skip each other's rows.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog
from prometheus_client import Counter

from services.control.storage.base import Storage, SweepResult

log = structlog.get_logger("control.sweeper")

SWEEP_BATCH_SIZE = 100

SWEPT_SESSIONS = Counter("control_swept_sessions_total", "Expired sessions deleted by the sweeper.")
SWEPT_CHECKPOINTS = Counter("control_swept_checkpoints_total", "Checkpoints deleted with expired sessions.")
SWEEP_FAILURES = Counter("control_sweep_failures_total", "Sweeps that failed (retried at the next interval).")


class Sweeper:
    def __init__(self, storage: Storage, interval_s: float, *, batch_size: int = SWEEP_BATCH_SIZE):
        self._storage = storage
        self._interval_s = interval_s
        self._batch_size = batch_size

    async def sweep_once(self) -> SweepResult:
        """Deletes every session expired by now, a batch per transaction."""
        sessions = checkpoints = leases = 0
        while True:
            batch = await self._storage.delete_expired_sessions(limit=self._batch_size)
            sessions += batch.sessions_deleted
            checkpoints += batch.checkpoints_deleted
            leases += batch.leases_deleted
            SWEPT_SESSIONS.inc(batch.sessions_deleted)
            SWEPT_CHECKPOINTS.inc(batch.checkpoints_deleted)
            if batch.sessions_deleted < self._batch_size:
                return SweepResult(sessions, checkpoints, leases)

    async def run_forever(self) -> None:
        while True:
            try:
                result = await self.sweep_once()
            except Exception:
                SWEEP_FAILURES.inc()
                log.exception("sweep_failed")
            else:
                if result.sessions_deleted:
                    log.info("swept_expired_sessions", sessions=result.sessions_deleted,
                             checkpoints=result.checkpoints_deleted, leases=result.leases_deleted)
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
