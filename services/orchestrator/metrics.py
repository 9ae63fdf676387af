"""Prometheus metrics of the studies an orchestrator replica runs (deploy/observability charts and alerts
on them).

The runner, its progress tracker and its checkpoints call the functions below at the points where a
study starts, moves, ends or fails to store a checkpoint; everything else here is bookkeeping.
"""

from __future__ import annotations

import functools
import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import grpc
from prometheus_client import Counter, Gauge, Histogram
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

if TYPE_CHECKING:
    from services.orchestrator.progress import ProgressTracker

P = ParamSpec("P")
T = TypeVar("T")

STUDIES_STARTED = Counter(
    "orchestrator_studies_started_total",
    "Studies that began running on this replica, fresh or resumed (`resumed` says which).",
    ["resumed"],
)
STUDIES_FINISHED = Counter(
    "orchestrator_studies_finished_total",
    "Studies that ended on this replica, by final status: completed, partial, failed or cancelled.",
    ["status"],
)
PHASE_SECONDS = Histogram(
    "orchestrator_study_phase_duration_seconds",
    "Time a study spent in a phase on this replica (creating_agents, simulating, extracting), observed "
    "when it moved on to the next phase.",
    ["phase"],
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 21600),
)
CHECKPOINT_FAILURES = Counter(
    "orchestrator_checkpoint_failures_total",
    "Checkpoints of studies that could not be stored in control, by gRPC code.",
    ["grpc_code"],
)
STUDIES_RUNNING = Gauge("orchestrator_studies_running", "Studies running on this replica now.")
STALLED_SECONDS = Gauge(
    "orchestrator_study_stalled_seconds",
    "Longest time any study running on this replica has gone without reporting progress (0: none runs).",
)


class _Tracked:
    """What the metrics keep of a running study: its phase, since when, and its last progress."""

    __slots__ = ("phase", "phase_since", "updated")

    def __init__(self, phase: int, now: float):
        self.phase = phase
        self.phase_since = now
        self.updated = now


_lock = threading.Lock()
_running: weakref.WeakKeyDictionary[ProgressTracker, _Tracked] = weakref.WeakKeyDictionary()
"""The studies running here, by their progress tracker (weak: a dropped tracker leaves by itself)."""


def _phase_label(phase: int) -> str:
    return orchestrator_pb2.Phase.Name(phase).removeprefix("PHASE_").lower()


def study_started(tracker: ProgressTracker, resumed: bool) -> None:
    """A study's run began here; `tracker` follows its progress until `progress_closed`."""
    STUDIES_STARTED.labels(resumed="true" if resumed else "false").inc()
    with _lock:
        _running[tracker] = _Tracked(tracker.latest.phase, time.monotonic())


def study_finished(result: orchestrator_pb2.StudyResult) -> None:
    """A study that ran to its end: completed, or partial when some participants failed."""
    status = orchestrator_pb2.StudyStatus.Name(result.status).removeprefix("STUDY_STATUS_").lower()
    STUDIES_FINISHED.labels(status=status).inc()


def experiment_finished() -> None:
    """An experiment that ran to its end (its arms count as the studies they are)."""
    STUDIES_FINISHED.labels(status="completed").inc()


def study_failed(code: int) -> None:
    """A study that ended with an error (`code`: its google.rpc.Status code); CANCELLED counts as cancelled."""
    STUDIES_FINISHED.labels(status="cancelled" if code == grpc.StatusCode.CANCELLED.value[0] else "failed").inc()


def progress_updated(tracker: ProgressTracker, progress: orchestrator_pb2.StudyProgress) -> None:
    """A study's progress changed: times its phases and notes when it last moved."""
    now = time.monotonic()
    with _lock:
        tracked = _running.get(tracker)
        if tracked is None:  # not started through study_started: nothing to time
            return
        tracked.updated = now
        if progress.phase == tracked.phase:
            return
        if tracked.phase not in (orchestrator_pb2.PHASE_UNSPECIFIED, orchestrator_pb2.PHASE_QUEUED):
            PHASE_SECONDS.labels(phase=_phase_label(tracked.phase)).observe(now - tracked.phase_since)
        tracked.phase, tracked.phase_since = progress.phase, now


def progress_closed(tracker: ProgressTracker) -> None:
    """The study's run here is over (ended, stopped or handed to another replica)."""
    with _lock:
        _running.pop(tracker, None)


def checkpoint_failures_counted(store: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Counts the failures of a coroutine that stores a checkpoint; the error propagates unchanged."""

    @functools.wraps(store)
    async def counted(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await store(*args, **kwargs)
        except grpc.aio.AioRpcError as error:
            CHECKPOINT_FAILURES.labels(grpc_code=error.code().name).inc()
            raise
        except Exception:
            CHECKPOINT_FAILURES.labels(grpc_code="UNKNOWN").inc()
            raise

    return counted


def _running_count() -> float:
    with _lock:
        return float(len(_running))


def _stalled_seconds() -> float:
    now = time.monotonic()
    with _lock:
        return max((now - tracked.updated for tracked in _running.values()), default=0.0)


STUDIES_RUNNING.set_function(_running_count)
STALLED_SECONDS.set_function(_stalled_seconds)
