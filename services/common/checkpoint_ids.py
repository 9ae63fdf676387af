"""The checkpoint ids of a study's session, declared once (control.proto documents the same list).

In the order a study makes them: `study_request` (the RunStudyRequest), `agents_created` (the
participants), `round_{n}` (the world after round n, stored by simulation), `simulation_complete` (the
final world), `operation_complete` (the StudyResult) or `study_failed` (the `google.rpc.Status`);
`resumed_{n}` marks the n-th resumption, `retried_{n}` the n-th retry of a failed study (after which a
new failure is `study_failed_{n+1}`), and `export_{format}` an export stored by extraction.
"""

from __future__ import annotations

import re

STUDY_REQUEST = "study_request"
AGENTS_CREATED = "agents_created"
SIMULATION_COMPLETE = "simulation_complete"
OPERATION_COMPLETE = "operation_complete"
STUDY_FAILED = "study_failed"
"""Holds the `google.rpc.Status` of a failed or cancelled study."""

_ROUND = re.compile(r"^round_(\d+)$")
_RESUMED = re.compile(r"^resumed_(\d+)$")
_RETRIED = re.compile(r"^retried_(\d+)$")
_FAILED = re.compile(rf"^{STUDY_FAILED}(_\d+)?$")


def round_checkpoint_id(round_number: int) -> str:
    return f"round_{round_number}"


def resumed_checkpoint_id(count: int) -> str:
    return f"resumed_{count}"


def export_checkpoint_id(format_name: str) -> str:
    return f"export_{format_name}"


def latest_round(ids: list[str]) -> int:
    """The highest n of the `round_{n}` checkpoints, 0 when there is none."""
    rounds = [int(match.group(1)) for name in ids if (match := _ROUND.match(name))]
    return max(rounds, default=0)


def resumed_count(ids: list[str]) -> int:
    return sum(1 for name in ids if _RESUMED.match(name))


def retried_checkpoint_id(count: int) -> str:
    return f"retried_{count}"


def retried_count(ids: list[str]) -> int:
    return sum(1 for name in ids if _RETRIED.match(name))


def failure_checkpoint_id(ids: list[str]) -> str:
    """Where the next failure goes: `study_failed`, then `study_failed_{n+1}` after the n-th retry."""
    retries = retried_count(ids)
    return STUDY_FAILED if retries == 0 else f"{STUDY_FAILED}_{retries + 1}"


def latest_failure_id(ids: list[str]) -> str | None:
    """The checkpoint holding the latest failure's status, if any."""
    failures = [name for name in ids if _FAILED.match(name)]
    return failures[-1] if failures else None
