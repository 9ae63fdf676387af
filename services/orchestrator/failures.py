"""Participants that failed, by phase: one agent's failure is that agent's, and the study goes on.

A study ends PARTIAL when some agents failed, and FAILED only when no agent came through, or when more
than `simulation_config.max_failed_fraction` of them failed before extraction (a failed extraction
makes the study PARTIAL and lowers its quality score, but its agents did take part).
"""

from __future__ import annotations

from collections import Counter

from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.extraction.v1 import extraction_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.common.limits import DEFAULT_MAX_FAILED_FRACTION
from services.runtime.errors import FailedPrecondition

Failure = orchestrator_pb2.ParticipantFailure
FailurePhase = orchestrator_pb2.FailurePhase


def simulation_failures(failed_agents: dict[str, str]) -> list[Failure]:
    return [
        Failure(agent_name=name, index=-1, reason=reason, phase=FailurePhase.FAILURE_PHASE_SIMULATION)
        for name, reason in sorted(failed_agents.items())
    ]


def extraction_failures(extraction: extraction_pb2.ExtractResultsResponse, participants: list[str]) -> list[Failure]:
    """Each participant whose results could not be extracted; a failed rapporteur (one result for the
    whole group) fails every participant's extraction."""
    failures: dict[str, str] = {}
    for result in extraction.results.individual_results:
        if not result.failure_reason:
            continue
        names = [result.agent_name] if result.agent_name in participants else participants
        for name in names:
            failures.setdefault(name, result.failure_reason)
    return [
        Failure(agent_name=name, index=-1, reason=reason, phase=FailurePhase.FAILURE_PHASE_EXTRACTION)
        for name, reason in failures.items()
    ]


def participant_counts(requested: int, failures: list[Failure]) -> study_pb2.ParticipantCounts:
    by_phase = Counter(failure.phase for failure in failures)
    return study_pb2.ParticipantCounts(
        total=requested,
        successful=requested - len(failures),
        failed=len(failures),
        # Failures stored before phases were recorded were failures to make the agent.
        failed_creation=by_phase[FailurePhase.FAILURE_PHASE_CREATION]
        + by_phase[FailurePhase.FAILURE_PHASE_UNSPECIFIED],
        failed_validation=by_phase[FailurePhase.FAILURE_PHASE_VALIDATION],
        failed_simulation=by_phase[FailurePhase.FAILURE_PHASE_SIMULATION],
        failed_extraction=by_phase[FailurePhase.FAILURE_PHASE_EXTRACTION],
    )


def require_enough_participants(requested: int, failures: list[Failure], max_failed_fraction: float) -> None:
    """FAILED_PRECONDITION when no agent came through, or when more than the allowed share failed before
    extraction; otherwise the study goes on (and ends PARTIAL when any failed)."""
    if requested and len(failures) >= requested:
        reasons = "; ".join(dict.fromkeys(failure.reason for failure in failures[:3]))
        raise FailedPrecondition("NO_PARTICIPANT_SUCCEEDED", f"every participant failed: {reasons}")
    fraction = max_failed_fraction or DEFAULT_MAX_FAILED_FRACTION
    before_extraction = [failure for failure in failures if failure.phase != FailurePhase.FAILURE_PHASE_EXTRACTION]
    if requested and len(before_extraction) / requested > fraction:
        raise FailedPrecondition(
            "TOO_MANY_PARTICIPANTS_FAILED",
            f"{len(before_extraction)} of {requested} participants failed, more than the allowed share "
            f"{fraction:g} (simulation_config.max_failed_fraction)",
        )
