"""Errors that servicers raise; the runtime turns each into a `google.rpc.Status` with details.

A servicer never builds a status by hand: it raises, e.g. `InvalidArgument("count", "must be 1 to
1000")`, and the error interceptor answers INVALID_ARGUMENT with a `BadRequest` naming the field and
an `ErrorInfo` carrying the reason and domain.
"""

from __future__ import annotations

from typing import TypeVar

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

ERROR_DOMAIN = "tinytroupe.io"
DetailT = TypeVar("DetailT", bound=Message)


class MeshError(Exception):
    """An error with a gRPC status code, a reason and typed details."""

    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN
    default_reason = "UNKNOWN"

    def __init__(self, message: str, *, reason: str | None = None, metadata: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.reason = reason or self.default_reason
        self.metadata = dict(metadata or {})

    def details(self) -> list[object]:
        """Detail messages besides the ErrorInfo."""
        return []

    def to_status(self) -> status_pb2.Status:
        info = error_details_pb2.ErrorInfo(reason=self.reason, domain=ERROR_DOMAIN, metadata=self.metadata)
        packed = []
        for detail in [info, *self.details()]:
            container = any_pb2.Any()
            container.Pack(detail)
            packed.append(container)
        return status_pb2.Status(code=self.code.value[0], message=self.message, details=packed)


class InvalidArgument(MeshError):
    """A request field is malformed; `BadRequest` names every offending field."""

    code = grpc.StatusCode.INVALID_ARGUMENT
    default_reason = "INVALID_ARGUMENT"

    def __init__(
        self, field: str, description: str, *, more: list[tuple[str, str]] | tuple = (), reason: str | None = None
    ):
        self.violations = [(field, description), *more]
        message = "; ".join(f"{name}: {text}" for name, text in self.violations)
        super().__init__(f"invalid argument: {message}", reason=reason)

    def details(self) -> list[object]:
        return [
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=name, description=text)
                    for name, text in self.violations
                ]
            )
        ]


class _ResourceError(MeshError):
    verb = ""

    def __init__(self, resource_type: str, resource_name: str, description: str = ""):
        self.resource_type = resource_type
        self.resource_name = resource_name
        self.description = description
        text = f"{resource_type} {resource_name!r} {self.verb}"
        super().__init__(f"{text}: {description}" if description else text)

    def details(self) -> list[object]:
        return [
            error_details_pb2.ResourceInfo(
                resource_type=self.resource_type, resource_name=self.resource_name, description=self.description
            )
        ]


class NotFound(_ResourceError):
    code = grpc.StatusCode.NOT_FOUND
    default_reason = "NOT_FOUND"
    verb = "not found"


class AlreadyExists(_ResourceError):
    code = grpc.StatusCode.ALREADY_EXISTS
    default_reason = "ALREADY_EXISTS"
    verb = "already exists"


class FailedPrecondition(MeshError):
    """The system is not in a state the call needs; `reason` says which (e.g. SESSION_NOT_ACTIVE)."""

    code = grpc.StatusCode.FAILED_PRECONDITION

    def __init__(self, reason: str, description: str, subject: str = ""):
        super().__init__(description, reason=reason)
        self.subject = subject

    def details(self) -> list[object]:
        return [
            error_details_pb2.PreconditionFailure(
                violations=[
                    error_details_pb2.PreconditionFailure.Violation(
                        type=self.reason, subject=self.subject, description=self.message
                    )
                ]
            )
        ]


class _ReasonedError(MeshError):
    def __init__(self, reason: str, description: str):
        super().__init__(description, reason=reason)


class ResourceExhausted(_ReasonedError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class Aborted(_ReasonedError):
    code = grpc.StatusCode.ABORTED


class PermissionDenied(_ReasonedError):
    code = grpc.StatusCode.PERMISSION_DENIED


class Unauthenticated(_ReasonedError):
    code = grpc.StatusCode.UNAUTHENTICATED


class Unavailable(MeshError):
    code = grpc.StatusCode.UNAVAILABLE
    default_reason = "UNAVAILABLE"


class Internal(MeshError):
    """An unexpected failure; the message is generic, the cause goes to the logs only."""

    code = grpc.StatusCode.INTERNAL
    default_reason = "INTERNAL"


def status_code_name(code: int) -> str:
    return code_pb2.Code.Name(code)


class DownstreamError(MeshError):
    """A downstream service's failure passed on to our caller with its code, message and details."""

    def __init__(self, error: grpc.aio.AioRpcError):
        super().__init__(error.details() or error.code().name)
        self.code = error.code()
        self._status = rpc_status.from_call(error)

    def to_status(self) -> status_pb2.Status:
        return self._status if self._status is not None else super().to_status()


# -- reading the rich status of a failed call (servers passing errors on, the CLI, the tests) -------------


def error_details(error: grpc.aio.AioRpcError, message_type: type[DetailT]) -> list[DetailT]:
    """Every detail of the call's `google.rpc.Status` that is a `message_type`."""
    status = rpc_status.from_call(error)
    found = []
    for detail in status.details if status is not None else ():
        message = message_type()
        if detail.Unpack(message):
            found.append(message)
    return found


def error_reason(error: grpc.aio.AioRpcError) -> str:
    """The ErrorInfo reason of a failed call (e.g. LEASE_HELD), "" when it has none."""
    infos = error_details(error, error_details_pb2.ErrorInfo)
    return infos[0].reason if infos else ""


def field_violations(error: grpc.aio.AioRpcError) -> dict[str, str]:
    """The `BadRequest` field violations of a failed call, by field."""
    return {
        violation.field: violation.description
        for bad_request in error_details(error, error_details_pb2.BadRequest)
        for violation in bad_request.field_violations
    }
