"""Reading the `google.rpc.Status` details of a failed call, for assertions."""

from __future__ import annotations

from typing import TypeVar

import grpc
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc_status import rpc_status

M = TypeVar("M", bound=Message)


def error_details(error: grpc.aio.AioRpcError, message_type: type[M]) -> list[M]:
    """Every detail of the call's rich status that is a `message_type`."""
    status = rpc_status.from_call(error)
    found = []
    for detail in status.details if status is not None else ():
        message = message_type()
        if detail.Unpack(message):
            found.append(message)
    return found


def field_violations(error: grpc.aio.AioRpcError) -> dict[str, str]:
    """The `BadRequest` field violations of the call, by field."""
    return {violation.field: violation.description
            for bad_request in error_details(error, error_details_pb2.BadRequest)
            for violation in bad_request.field_violations}


def violations(error: grpc.aio.AioRpcError) -> list[str]:
    """The fields a `BadRequest` names, in order."""
    return list(field_violations(error))
