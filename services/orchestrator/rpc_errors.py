"""What a failed study reports: the status of the error that ended it."""

from __future__ import annotations

import grpc
from google.rpc import status_pb2
from grpc_status import rpc_status

from services.runtime.errors import MeshError


def status_of(error: BaseException) -> status_pb2.Status:
    """The downstream or mesh status as it was, else a generic INTERNAL."""
    if isinstance(error, grpc.aio.AioRpcError):
        status = rpc_status.from_call(error)
        if status is not None:
            return status
        return status_pb2.Status(code=error.code().value[0], message=error.details() or error.code().name)
    if isinstance(error, MeshError):
        return error.to_status()
    return status_pb2.Status(
        code=grpc.StatusCode.INTERNAL.value[0],
        message=f"internal error: {type(error).__name__}; details are in the orchestrator log",
    )
