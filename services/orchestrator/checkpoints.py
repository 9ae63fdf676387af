"""A study's checkpoints in control: their names, and protobuf payloads in and out."""

from __future__ import annotations

import re
from typing import TypeVar

from google.protobuf.message import Message
from tinytroupe.control.v1 import control_pb2, control_pb2_grpc

STUDY_REQUEST = "study_request"
AGENTS_CREATED = "agents_created"
SIMULATION_COMPLETE = "simulation_complete"
OPERATION_COMPLETE = "operation_complete"
STUDY_FAILED = "study_failed"
"""Holds the `google.rpc.Status` of a failed or cancelled study."""
ROUND_PREFIX = "round_"
RESUMED_PREFIX = "resumed_"

_ROUND = re.compile(r"^round_(\d+)$")
_RESUMED = re.compile(r"^resumed_(\d+)$")

MessageT = TypeVar("MessageT", bound=Message)


def content_type_of(message: Message) -> str:
    return f"application/x-protobuf; type={message.DESCRIPTOR.full_name}"


def latest_round(names: list[str]) -> int:
    """The highest n of the `round_{n}` checkpoints, 0 when there is none."""
    rounds = [int(match.group(1)) for name in names if (match := _ROUND.match(name))]
    return max(rounds, default=0)


def resumed_count(names: list[str]) -> int:
    return sum(1 for name in names if _RESUMED.match(name))


class StudyCheckpoints:
    """The checkpoints of one study's session."""

    def __init__(self, control: control_pb2_grpc.SimulationControlServiceStub, session: str):
        self.control = control
        self.session = session

    def name_of(self, checkpoint_id: str) -> str:
        return f"{self.session}/checkpoints/{checkpoint_id}"

    async def ids(self) -> list[str]:
        """Checkpoint ids in the order they were made."""
        ids: list[str] = []
        page_token = ""
        while True:
            page = await self.control.ListCheckpoints(
                control_pb2.ListCheckpointsRequest(parent=self.session, page_size=1000, page_token=page_token)
            )
            ids.extend(checkpoint.name.rsplit("/", 1)[-1] for checkpoint in page.checkpoints)
            page_token = page.next_page_token
            if not page_token:
                return ids

    async def load(self, checkpoint_id: str, message_type: type[MessageT]) -> MessageT:
        checkpoint = await self.control.GetCheckpoint(
            control_pb2.GetCheckpointRequest(name=self.name_of(checkpoint_id))
        )
        return message_type.FromString(checkpoint.payload)

    async def store(
        self, checkpoint_id: str, message: Message, annotations: dict[str, str] | None = None
    ) -> None:
        """Stores a checkpoint; storing the same payload again is a no-op in control."""
        await self.control.CreateCheckpoint(
            control_pb2.CreateCheckpointRequest(
                parent=self.session,
                checkpoint_id=checkpoint_id,
                checkpoint=control_pb2.Checkpoint(
                    payload=message.SerializeToString(deterministic=True),
                    content_type=content_type_of(message),
                    annotations=annotations or {},
                ),
            )
        )
