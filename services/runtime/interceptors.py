"""The server interceptor every service runs: binds call ids, logs, counts, traces (rpc_tracing.py) and maps
errors to statuses.

Servicers raise `MeshError`s (see errors.py); this turns them into rich `google.rpc.Status` answers. A
downstream service's error (`grpc.aio.AioRpcError`) that a servicer lets through reaches the caller with
its own code, message and details. Any other exception becomes INTERNAL with a generic message, and its
stack trace goes to the log only.
"""

from __future__ import annotations

import inspect
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import grpc
import structlog
from grpc_status import rpc_status

from services.runtime import metrics, tracing
from services.runtime.context import (
    REQUEST_METADATA_KEY,
    SESSION_METADATA_KEY,
    current_request_id,
    current_session,
    current_tenant,
)
from services.runtime.errors import DownstreamError, Internal, MeshError
from services.runtime.rpc_tracing import ServerSpan
from services.runtime.security import Authenticator

log = structlog.get_logger("rpc")

_CODES = {code.value[0]: code for code in grpc.StatusCode}

QUIET_SERVICES = frozenset(
    {"grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection", "grpc.reflection.v1.ServerReflection"}
)


class _CallScope:
    """Everything around one RPC: ids, timing, metrics, the final log line and error mapping."""

    def __init__(
        self,
        rpc_type: str,
        full_method: str,
        context: grpc.aio.ServicerContext,
        authenticator: Authenticator,
        traced_service: str = "",
    ):
        self.authenticator = authenticator
        self.traced_service = traced_service
        self.full_method = full_method
        self.service, _, self.method = full_method.lstrip("/").rpartition("/")
        self.traced = self.service not in QUIET_SERVICES
        self.labels = (rpc_type, self.service, self.method)
        self.context = context
        self.code = grpc.StatusCode.OK

    async def __aenter__(self) -> _CallScope:
        self.metadata = dict(self.context.invocation_metadata() or ())
        metadata = self.metadata
        request_id = metadata.get(REQUEST_METADATA_KEY) or uuid.uuid4().hex
        session = metadata.get(SESSION_METADATA_KEY, "")
        current_request_id.set(request_id)
        current_session.set(session)
        structlog.contextvars.bind_contextvars(request_id=request_id, session=session or None)
        traced = self.traced and tracing.enabled()
        self.span = ServerSpan(self.traced_service, self.full_method, metadata) if traced else None
        metrics.STARTED.labels(*self.labels).inc()
        self.started = time.perf_counter()
        return self

    def authenticate(self) -> None:
        """Checks the caller's credentials (inside the scope, so a refusal is a proper status)."""
        principal = self.authenticator.authenticate(self.service, self.metadata)
        current_tenant.set(principal.tenant)
        if principal.tenant:
            structlog.contextvars.bind_contextvars(tenant=principal.tenant)

    async def __aexit__(self, exc_type, exc, tb) -> bool:
        try:
            if exc is None:
                self.code = self._context_code(grpc.StatusCode.OK)
                return False
            if isinstance(exc, grpc.aio.AbortError):
                self.code = self._context_code(grpc.StatusCode.UNKNOWN)
                return False
            if isinstance(exc, BaseException) and not isinstance(exc, Exception):
                self.code = grpc.StatusCode.CANCELLED
                return False
            error = self._as_mesh_error(exc)
            self.code = error.code
            status = rpc_status.to_status(error.to_status())
            await self.context.abort(status.code, status.details, trailing_metadata=status.trailing_metadata)
        finally:
            self._record()
            if self.span is not None:
                self.span.end(self.code)
        return False  # unreachable: abort raises

    def _context_code(self, default: grpc.StatusCode) -> grpc.StatusCode:
        """The code a servicer set on the context (an int or a StatusCode, by grpc version), else `default`."""
        code = self.context.code()
        if code is None:
            return default
        return _CODES.get(code, grpc.StatusCode.UNKNOWN) if isinstance(code, int) else code

    def _as_mesh_error(self, exc: BaseException) -> MeshError:
        if isinstance(exc, MeshError):
            return exc
        if isinstance(exc, grpc.aio.AioRpcError):
            return DownstreamError(exc)
        if isinstance(exc, NotImplementedError):
            error = MeshError(f"{self.service}/{self.method} is not implemented yet", reason="UNIMPLEMENTED")
            error.code = grpc.StatusCode.UNIMPLEMENTED
            return error
        log.error("unhandled_error", grpc_method=self.method, exc_info=exc)
        return Internal(f"internal error (request id {current_request_id.get()}); details are in the server log")

    def _record(self) -> None:
        elapsed = time.perf_counter() - self.started
        metrics.HANDLED.labels(*self.labels, self.code.name).inc()
        metrics.HANDLING_SECONDS.labels(*self.labels).observe(elapsed)
        emit = log.debug if self.service in QUIET_SERVICES else log.info
        emit(
            "rpc",
            grpc_service=self.service,
            grpc_method=self.method,
            grpc_code=self.code.name,
            duration_ms=round(elapsed * 1000, 2),
        )


def _counted_requests(requests: AsyncIterator, labels: tuple[str, str, str]) -> AsyncIterator:
    async def counted():
        async for request in requests:
            metrics.MSG_RECEIVED.labels(*labels).inc()
            yield request

    return counted()


def _wrap(
    behavior: Callable,
    rpc_type: str,
    full_method: str,
    streams_in: bool,
    authenticator: Authenticator,
    traced_service: str = "",
) -> Callable:
    if inspect.isasyncgenfunction(behavior):

        async def streaming(request_or_iterator, context):
            async with _CallScope(rpc_type, full_method, context, authenticator, traced_service) as scope:
                scope.authenticate()
                if streams_in:
                    request_or_iterator = _counted_requests(request_or_iterator, scope.labels)
                async for response in behavior(request_or_iterator, context):
                    metrics.MSG_SENT.labels(*scope.labels).inc()
                    yield response

        return streaming

    async def unary(request_or_iterator, context):
        async with _CallScope(rpc_type, full_method, context, authenticator, traced_service) as scope:
            scope.authenticate()
            if streams_in:
                request_or_iterator = _counted_requests(request_or_iterator, scope.labels)
            return await behavior(request_or_iterator, context)

    return unary


class ServerInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, authenticator: Authenticator, service: str = ""):
        self.authenticator = authenticator
        self.service = service
        """The service this server runs, whose tracer its calls' spans use."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        codec = {
            "request_deserializer": handler.request_deserializer,
            "response_serializer": handler.response_serializer,
        }
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                _wrap(handler.unary_unary, "unary", method, False, self.authenticator, self.service), **codec
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                _wrap(handler.unary_stream, "server_stream", method, False, self.authenticator, self.service), **codec
            )
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                _wrap(handler.stream_unary, "client_stream", method, True, self.authenticator, self.service), **codec
            )
        return grpc.stream_stream_rpc_method_handler(
            _wrap(handler.stream_stream, "bidi_stream", method, True, self.authenticator, self.service), **codec
        )
