"""What a watcher is sent: changes only, and never a phase before one it already saw."""

from __future__ import annotations

from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.orchestrator.servicer import worth_sending

Phase = orchestrator_pb2.Phase


def progress(phase: int, **fields) -> orchestrator_pb2.StudyProgress:
    event = orchestrator_pb2.StudyProgress(phase=phase, **fields)
    event.update_time.GetCurrentTime()
    return event


def test_the_first_event_is_sent():
    assert worth_sending(None, progress(Phase.PHASE_QUEUED))


def test_a_runner_starting_here_at_queued_does_not_take_the_watcher_back():
    polled = progress(Phase.PHASE_CREATING_AGENTS, message="polled from control")
    assert not worth_sending(polled, progress(Phase.PHASE_QUEUED, message="resuming", runner="here"))
    assert worth_sending(polled, progress(Phase.PHASE_CREATING_AGENTS, message="creating", runner="here"))
    assert worth_sending(polled, progress(Phase.PHASE_SIMULATING, runner="here"))


def test_an_event_that_differs_only_in_its_time_is_not_sent_again():
    first = progress(Phase.PHASE_SIMULATING, round=1)
    assert not worth_sending(first, progress(Phase.PHASE_SIMULATING, round=1))
    assert worth_sending(first, progress(Phase.PHASE_SIMULATING, round=2))
