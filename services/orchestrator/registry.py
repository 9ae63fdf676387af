"""The studies and experiments this replica runs now, keyed by session id; claiming one takes its lease first."""

from __future__ import annotations

import asyncio

import structlog
from tinytroupe_mesh_api.control.v1 import control_pb2

from services.common.names import last_segment
from services.orchestrator.downstream import Downstream
from services.orchestrator.experiment.runner import ExperimentRunner
from services.orchestrator.lease import LeaseHeld, StudyLease
from services.orchestrator.runner import StopReason, StudyRunner
from services.orchestrator.settings import StudySettings
from services.orchestrator.starting import EXPERIMENT, kind_of

log = structlog.get_logger("studies")


class StudyRegistry:
    def __init__(self, downstream: Downstream, settings: StudySettings):
        self.downstream = downstream
        self.settings = settings
        self._running: dict[str, StudyRunner] = {}
        self._claiming = asyncio.Lock()

    def get(self, session_id: str) -> StudyRunner | None:
        return self._running.get(session_id)

    async def claim(self, session: control_pb2.Session, *, resumed: bool) -> StudyRunner | None:
        """Starts running the study here unless it already runs here or another replica holds its lease."""
        session_id = last_segment(session.name)
        async with self._claiming:
            if (runner := self._running.get(session_id)) is not None:
                return runner
            lease = StudyLease(
                self.downstream.control, session.name, self.settings.replica_id, self.settings.lease_ttl_s
            )
            try:
                await lease.acquire()
            except LeaseHeld:
                return None
            if kind_of(session) == EXPERIMENT:
                runner = ExperimentRunner(
                    self.downstream, self.settings, session, lease, resumed=resumed, registry=self
                )
            else:
                runner = StudyRunner(self.downstream, self.settings, session, lease, resumed=resumed)
            self._running[session_id] = runner
            runner.start().add_done_callback(lambda _task: self._running.pop(session_id, None))
            log.info("study_claimed", session=session.name, resumed=resumed)
            return runner

    async def cancel(self, session_id: str) -> bool:
        """Cancels a study run here and waits until its session has ended; False if it does not run here."""
        runner = self._running.get(session_id)
        if runner is None or runner.task is None:
            return False
        runner.stop(StopReason.CANCELLED)
        await asyncio.wait({runner.task})
        return True

    async def shutdown(self) -> None:
        """Stops every study run here, releasing their leases for another replica to resume them."""
        runners = list(self._running.values())
        for runner in runners:
            runner.stop(StopReason.SHUTDOWN)
        tasks = {runner.task for runner in runners if runner.task is not None}
        if tasks:
            await asyncio.wait(tasks)
