"""A study's checkpoints in control, as protobuf messages in and out (ids: services/common/checkpoint_ids.py)."""

from __future__ import annotations

from google.protobuf.message import Message

from services.common.checkpoint_ids import (
    AGENTS_CREATED,
    OPERATION_COMPLETE,
    SIMULATION_COMPLETE,
    STUDY_FAILED,
    STUDY_REQUEST,
    failure_checkpoint_id,
    latest_failure_id,
    latest_round,
    resumed_checkpoint_id,
    resumed_count,
    retried_checkpoint_id,
    retried_count,
    round_checkpoint_id,
)
from services.common.control_client import ControlClient, MessageT
from services.orchestrator import metrics as study_metrics

__all__ = [
    "AGENTS_CREATED",
    "OPERATION_COMPLETE",
    "SIMULATION_COMPLETE",
    "STUDY_FAILED",
    "STUDY_REQUEST",
    "StudyCheckpoints",
    "failure_checkpoint_id",
    "latest_failure_id",
    "latest_round",
    "resumed_checkpoint_id",
    "resumed_count",
    "retried_checkpoint_id",
    "retried_count",
    "round_checkpoint_id",
]


class StudyCheckpoints:
    """The checkpoints of one study's session."""

    def __init__(self, control: ControlClient, session: str):
        self.control = control
        self.session = session

    async def ids(self) -> list[str]:
        """Checkpoint ids in the order they were made."""
        return await self.control.checkpoint_ids(self.session)

    async def load(self, checkpoint_id: str, message_type: type[MessageT]) -> MessageT:
        return await self.control.load_message(self.session, checkpoint_id, message_type)

    @study_metrics.checkpoint_failures_counted
    async def store_failure(self, status: Message) -> None:
        """Stores the status that ended this run: `study_failed`, or `study_failed_{n}` after retries."""
        await self.store(failure_checkpoint_id(await self.ids()), status)

    async def load_failure(self, message_type: type[MessageT]) -> MessageT | None:
        """The latest failure's status, None when the study never failed."""
        latest = latest_failure_id(await self.ids())
        return None if latest is None else await self.load(latest, message_type)

    async def store(self, checkpoint_id: str, message: Message, annotations: dict[str, str] | None = None) -> None:
        """Stores a checkpoint; storing the same payload again is a no-op in control."""
        await self.control.store_message(self.session, checkpoint_id, message, annotations=annotations)
