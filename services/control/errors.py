"""Translation of storage errors into the runtime's gRPC errors."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import grpc

from services.common.names import checkpoint_name, remembered_response_name, session_name
from services.control.payloads import PayloadCorrupted
from services.control.storage.base import (
    CheckpointConflict,
    CheckpointNotFound,
    LeaseHeld,
    LeaseLost,
    RememberedResponseNotFound,
    SessionAlreadyExists,
    SessionEnded,
    SessionNotActive,
    SessionNotFound,
    StorageError,
)
from services.runtime.errors import AlreadyExists, FailedPrecondition, MeshError, NotFound

SESSION_TYPE = "control.tinytroupe.io/Session"
CHECKPOINT_TYPE = "control.tinytroupe.io/Checkpoint"
REMEMBERED_RESPONSE_TYPE = "control.tinytroupe.io/RememberedResponse"

SESSION_NOT_ACTIVE = "SESSION_NOT_ACTIVE"
SESSION_ENDED = "SESSION_ENDED"
LEASE_HELD = "LEASE_HELD"
LEASE_LOST = "LEASE_LOST"


class DataLoss(MeshError):
    """Stored data no longer matches what was written."""

    code = grpc.StatusCode.DATA_LOSS
    default_reason = "DATA_LOSS"


def as_mesh_error(error: StorageError) -> MeshError:
    match error:
        case SessionNotFound():
            return NotFound(SESSION_TYPE, session_name(error.session_id))
        case SessionAlreadyExists():
            return AlreadyExists(SESSION_TYPE, session_name(error.session_id))
        case SessionEnded():
            return FailedPrecondition(SESSION_ENDED, str(error), session_name(error.session_id))
        case SessionNotActive():
            return FailedPrecondition(SESSION_NOT_ACTIVE, str(error), session_name(error.session_id))
        case CheckpointNotFound():
            return NotFound(CHECKPOINT_TYPE, checkpoint_name(error.session_id, error.checkpoint_id))
        case RememberedResponseNotFound():
            return NotFound(REMEMBERED_RESPONSE_TYPE, remembered_response_name(error.session_id, error.response_id))
        case CheckpointConflict():
            return AlreadyExists(
                CHECKPOINT_TYPE,
                checkpoint_name(error.session_id, error.checkpoint_id),
                f"it holds another payload (sha256 {error.existing_sha256})",
            )
        case LeaseHeld():
            held = FailedPrecondition(LEASE_HELD, str(error), session_name(error.lease.session_id))
            held.metadata = {
                "holder": error.lease.holder,
                "expire_time": error.lease.expire_time.isoformat(),
                "generation": str(error.lease.generation),
            }
            return held
        case LeaseLost():
            lost = FailedPrecondition(LEASE_LOST, str(error), session_name(error.session_id))
            lost.metadata = {"holder": error.current_holder}
            return lost
    raise TypeError(f"unmapped storage error {type(error).__name__}") from error


@contextlib.contextmanager
def storage_errors() -> Iterator[None]:
    """Re-raises storage errors inside the block as the matching gRPC errors."""
    try:
        yield
    except StorageError as error:
        raise as_mesh_error(error) from error
    except PayloadCorrupted as error:
        raise DataLoss(f"stored checkpoint is corrupted: {error}") from error
