"""Helpers of the tracing tests: the six services traced into one in-memory exporter, and reading a trace."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from services.runtime.config import SERVICE_NAMES
from services.runtime.tracing import configure_tracing, shutdown_tracing

TRACING_ON = {"OTEL_TRACES_EXPORTER": "otlp"}
"""What a deployment sets (with OTEL_EXPORTER_OTLP_ENDPOINT); the tests replace the exporter."""


@contextmanager
def traced_services(environ: dict[str, str] | None = None) -> Iterator[InMemorySpanExporter]:
    """Every service of the mesh traced into one in-memory exporter, as if `environ` were the environment."""
    exporter = InMemorySpanExporter()
    for service in SERVICE_NAMES:
        configure_tracing(service, TRACING_ON if environ is None else environ, exporter=exporter)
    try:
        yield exporter
    finally:
        shutdown_tracing()


def service_of(span: ReadableSpan) -> str:
    return str(span.resource.attributes["service.name"]).removeprefix("tinytroupe-")


def spans_of_trace(exporter: InMemorySpanExporter, trace_id: int) -> list[ReadableSpan]:
    return [span for span in exporter.get_finished_spans() if span.context.trace_id == trace_id]


def server_span(exporter: InMemorySpanExporter, method: str, predicate: Callable[[ReadableSpan], bool]) -> ReadableSpan:
    [found] = [
        span
        for span in exporter.get_finished_spans()
        if span.kind == SpanKind.SERVER and span.name.endswith(f"/{method}") and predicate(span)
    ]
    return found


async def eventually(condition: Callable[[], bool], timeout_s: float = 30.0, what: str = "condition") -> None:
    """Waits until `condition()` holds: spans end when their work ends, shortly after a study's answer."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"{what} not met within {timeout_s} s"
        await asyncio.sleep(0.02)
