"""The progress tracker: every watcher sees every update in order, then the end."""

from __future__ import annotations

import asyncio

from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.orchestrator.progress import Phase, ProgressTracker


async def test_watchers_get_the_current_state_then_every_update_until_closed():
    tracker = ProgressTracker(orchestrator_pb2.StudyProgress(operation="operations/s1", phase=Phase.PHASE_QUEUED))
    seen: list[tuple[int, int]] = []

    async def watch():
        async for progress in tracker.watch():
            seen.append((progress.phase, progress.round))

    watcher = asyncio.create_task(watch())
    await asyncio.sleep(0)
    tracker.update(phase=Phase.PHASE_SIMULATING, round=1)
    tracker.update(round=2)
    tracker.update(phase=Phase.PHASE_DONE)
    tracker.close()
    await asyncio.wait_for(watcher, 1)
    assert seen == [
        (Phase.PHASE_QUEUED, 0),
        (Phase.PHASE_SIMULATING, 1),
        (Phase.PHASE_SIMULATING, 2),
        (Phase.PHASE_DONE, 2),
    ]


async def test_a_watch_after_the_end_gets_the_final_state_only():
    tracker = ProgressTracker(orchestrator_pb2.StudyProgress(phase=Phase.PHASE_QUEUED))
    tracker.update(phase=Phase.PHASE_DONE, message="completed")
    tracker.close()
    tracker.update(phase=Phase.PHASE_SIMULATING)
    assert [progress.message async for progress in tracker.watch()] == ["completed"]
    assert tracker.latest.phase == Phase.PHASE_DONE
