"""Spans of gRPC calls: a SERVER span around each call a service answers, a CLIENT span around each call it
makes, and the W3C trace context in the call's metadata between them (so a server span's parent is the
caller's client span). Names and attributes follow OpenTelemetry's RPC conventions."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

import grpc
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from services.runtime import tracing

SERVER_FAULTS = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)
"""Codes that mark a server span as an error (the conventions': the others are the caller's doing)."""

_finishing: set[asyncio.Task] = set()


def _attributes(full_method: str) -> dict[str, str]:
    service, _, method = full_method.lstrip("/").rpartition("/")
    return {"rpc.system": "grpc", "rpc.service": service, "rpc.method": method}


class ServerSpan:
    """The span of one call a server answers, current while the servicer runs."""

    def __init__(self, service: str, full_method: str, metadata: Mapping[str, str]):
        tracing.set_current_service(service)
        self.span: trace.Span | None = None
        self.token: object | None = None
        current = tracing.tracer()
        if current is None:
            return
        self.span = current.start_span(
            full_method.lstrip("/"),
            context=tracing.extracted(metadata),
            kind=SpanKind.SERVER,
            attributes=_attributes(full_method),
        )
        self.token = otel_context.attach(trace.set_span_in_context(self.span))

    def end(self, code: grpc.StatusCode) -> None:
        if self.span is None:
            return
        self.span.set_attribute("rpc.grpc.status_code", code.value[0])
        if code in SERVER_FAULTS:
            self.span.set_status(Status(StatusCode.ERROR, code.name))
        self.span.end()
        try:
            otel_context.detach(self.token)
        except ValueError:  # a streaming call's generator may finish in another context
            pass
        self.span = None


def client_call_details(details: grpc.aio.ClientCallDetails) -> tuple[grpc.aio.ClientCallDetails, trace.Span | None]:
    """The call's details with the trace context of a new CLIENT span added to its metadata, and the span
    (None, details unchanged, when tracing is off)."""
    current = tracing.tracer()
    if current is None:
        return details, None
    method = details.method.decode() if isinstance(details.method, bytes) else details.method
    span = current.start_span(method.lstrip("/"), kind=SpanKind.CLIENT, attributes=_attributes(method))
    metadata = grpc.aio.Metadata(*(details.metadata or ()))
    for key, value in tracing.injected(trace.set_span_in_context(span)).items():
        metadata.add(key, value)
    return (
        grpc.aio.ClientCallDetails(
            details.method, details.timeout, metadata, details.credentials, details.wait_for_ready
        ),
        span,
    )


def end_client_span_when_done(call: object, span: trace.Span) -> None:
    """Ends `span` when the call ends, with the call's status code."""

    def done(finished) -> None:
        ended_at = time.time_ns()
        task = asyncio.ensure_future(_finish(finished, span, ended_at))
        _finishing.add(task)
        task.add_done_callback(_finishing.discard)

    call.add_done_callback(done)


def end_client_span_failed(span: trace.Span, error: BaseException) -> None:
    span.set_status(Status(StatusCode.ERROR, type(error).__name__))
    span.end()


async def _finish(call, span: trace.Span, ended_at: int) -> None:
    try:
        code = await call.code()
    except Exception:  # noqa: BLE001 - a call that cannot tell its code still ends its span
        code = grpc.StatusCode.UNKNOWN
    if code is None:
        code = grpc.StatusCode.UNKNOWN
    span.set_attribute("rpc.grpc.status_code", code.value[0])
    if code != grpc.StatusCode.OK:
        span.set_status(Status(StatusCode.ERROR, code.name))
    span.end(end_time=ended_at)
