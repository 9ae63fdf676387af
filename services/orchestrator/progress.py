"""The live progress of a study run here: the latest StudyProgress and a stream of every change."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from google.protobuf import timestamp_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.orchestrator import metrics as study_metrics

Phase = orchestrator_pb2.Phase


class ProgressTracker:
    """Holds the latest progress; every watcher gets each update in order, then the end."""

    def __init__(self, initial: orchestrator_pb2.StudyProgress):
        self._latest = initial
        self._latest.update_time.CopyFrom(_now())
        self._watchers: set[asyncio.Queue[orchestrator_pb2.StudyProgress | None]] = set()
        self._closed = False

    @property
    def latest(self) -> orchestrator_pb2.StudyProgress:
        snapshot = orchestrator_pb2.StudyProgress()
        snapshot.CopyFrom(self._latest)
        return snapshot

    def update(self, **changes) -> None:
        """Changes some fields of the progress (e.g. phase, round) and tells every watcher."""
        if self._closed:
            return
        progress = self.latest
        for name, value in changes.items():
            setattr(progress, name, value)
        progress.update_time.CopyFrom(_now())
        study_metrics.progress_updated(self, progress)
        self._latest = progress
        for queue in self._watchers:
            queue.put_nowait(self.latest)

    def update_usage(self, usage, budget_exhausted: bool) -> None:
        """Sets the spend so far (a TokenUsage) and whether the budget is spent; tells every watcher of a change."""
        if self._closed or (self._latest.usage == usage and self._latest.budget_exhausted == budget_exhausted):
            return
        progress = self.latest
        progress.usage.CopyFrom(usage)
        progress.budget_exhausted = budget_exhausted
        progress.update_time.CopyFrom(_now())
        self._latest = progress
        for queue in self._watchers:
            queue.put_nowait(self.latest)

    def close(self) -> None:
        """Ends every watch after the updates already sent."""
        self._closed = True
        study_metrics.progress_closed(self)
        for queue in self._watchers:
            queue.put_nowait(None)

    async def watch(self) -> AsyncIterator[orchestrator_pb2.StudyProgress]:
        """The current progress, then every update until the study ends."""
        queue: asyncio.Queue[orchestrator_pb2.StudyProgress | None] = asyncio.Queue()
        first = self.latest
        if self._closed:
            yield first
            return
        self._watchers.add(queue)
        try:
            yield first
            while (progress := await queue.get()) is not None:
                yield progress
        finally:
            self._watchers.discard(queue)


def _now() -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.GetCurrentTime()
    return stamp
