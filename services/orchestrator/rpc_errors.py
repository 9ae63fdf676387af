"""Reading downstream errors: their code, reason and a `google.rpc.Status` to keep them as."""

from __future__ import annotations

import functools
import inspect

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from services.runtime.errors import DownstreamError, MeshError


def error_reason(error: grpc.aio.AioRpcError) -> str:
    """The ErrorInfo reason of a downstream error (e.g. LEASE_HELD), "" when it has none."""
    status = rpc_status.from_call(error)
    for detail in status.details if status is not None else ():
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info.reason
    return ""


def has_reason(error: BaseException, code: grpc.StatusCode, reason: str) -> bool:
    return isinstance(error, grpc.aio.AioRpcError) and error.code() == code and error_reason(error) == reason


def status_of(error: BaseException) -> status_pb2.Status:
    """What a failed study reports: the downstream or mesh status as it was, else a generic INTERNAL."""
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


def passing_downstream_errors(method):
    """Wraps a servicer method (or streaming method) so that a downstream service's error reaches the
    caller with its own code, message and details instead of becoming INTERNAL."""
    if inspect.isasyncgenfunction(method):

        @functools.wraps(method)
        async def streaming(*args, **kwargs):
            try:
                async for item in method(*args, **kwargs):
                    yield item
            except grpc.aio.AioRpcError as error:
                raise DownstreamError(error) from None

        return streaming

    @functools.wraps(method)
    async def unary(*args, **kwargs):
        try:
            return await method(*args, **kwargs)
        except grpc.aio.AioRpcError as error:
            raise DownstreamError(error) from None

    return unary
