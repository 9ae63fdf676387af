"""OpenTelemetry tracing of the mesh, off unless the standard `OTEL_*` variables ask for an exporter.

Tracing is on in a process when `OTEL_SDK_DISABLED` is not `true` and either `OTEL_TRACES_EXPORTER`
names an exporter (`otlp`, `console`) or `OTEL_EXPORTER_OTLP_ENDPOINT` /
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set (then `otlp` is the default). The OTLP exporter speaks
gRPC and reads its own variables (`OTEL_EXPORTER_OTLP_*`); the SDK reads `OTEL_TRACES_SAMPLER`,
`OTEL_RESOURCE_ATTRIBUTES` and `OTEL_BSP_*`; propagation follows `OTEL_PROPAGATORS` (W3C trace
context by default). `OTEL_SERVICE_NAME` overrides the default name, `tinytroupe-<service>`.

Off, nothing is built: `tracer()` answers None and every hook returns at once.

Each service has a tracer provider of its own (its resource names the service), so servers that share a
process (the in-process mesh) still tell whose span is whose: the server bootstrap and the server
interceptor set the current service, and every span started beneath them uses that service's tracer.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from contextvars import ContextVar

import structlog
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.util.types import Attributes

log = structlog.get_logger("tracing")

INSTRUMENTATION_NAME = "tinytroupe.mesh"
SERVICE_NAME_PREFIX = "tinytroupe-"
EXPORTERS = ("otlp", "console")

_providers: dict[str, TracerProvider] = {}
_tracers: dict[str, trace.Tracer] = {}
_current_service: ContextVar[str] = ContextVar("traced_service", default="")


def tracing_requested(environ: Mapping[str, str]) -> bool:
    """Whether the environment asks for traces (see the module's docstring)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter:
        return exporter != "none"
    return bool(environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def _exporter_from(environ: Mapping[str, str]) -> SpanExporter | None:
    name = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() or "otlp"
    name = name.split(",")[0].strip()
    if name in ("otlp", "otlp_proto_grpc"):
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    log.warning("tracing_exporter_unknown", exporter=name, known=list(EXPORTERS), detail="tracing stays off")
    return None


def _resource(service: str) -> Resource:
    """The SDK's resource from the environment, named `tinytroupe-<service>` unless the environment names it."""
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: f"{SERVICE_NAME_PREFIX}{service}"}))
    return resource


def configure_tracing(
    service: str, environ: Mapping[str, str] | None = None, *, exporter: SpanExporter | None = None
) -> bool:
    """Builds `service`'s tracer provider when the environment asks for traces; returns whether it did.

    `exporter` replaces the one the environment names (tests pass an in-memory exporter); its spans are
    exported as they end rather than in batches."""
    environ = os.environ if environ is None else environ
    if not tracing_requested(environ):
        return False
    if exporter is not None:
        processor = SimpleSpanProcessor(exporter)
    else:
        chosen = _exporter_from(environ)
        if chosen is None:
            return False
        processor = BatchSpanProcessor(chosen)
    provider = TracerProvider(resource=_resource(service))
    provider.add_span_processor(processor)
    if (previous := _providers.pop(service, None)) is not None:
        previous.shutdown()
    _providers[service] = provider
    _tracers[service] = provider.get_tracer(INSTRUMENTATION_NAME)
    return True


def shutdown_tracing() -> None:
    """Exports what is left and forgets every provider: tracing is off again."""
    providers = list(_providers.values())
    _providers.clear()
    _tracers.clear()
    for provider in providers:
        provider.shutdown()


def enabled() -> bool:
    return bool(_tracers)


def tracer() -> trace.Tracer | None:
    """The current service's tracer; in a process with one traced service, that one's; None when off."""
    if not _tracers:
        return None
    found = _tracers.get(_current_service.get())
    if found is None and len(_tracers) == 1:
        return next(iter(_tracers.values()))
    return found


def set_current_service(service: str) -> None:
    """Names the service whose tracer this task's spans use (the server interceptor's per-call context)."""
    if _tracers:
        _current_service.set(service)


@contextlib.contextmanager
def service_scope(service: str) -> Iterator[None]:
    """Within the block, and in tasks started in it, spans belong to `service`."""
    token = _current_service.set(service)
    try:
        yield
    finally:
        _current_service.reset(token)


@contextlib.contextmanager
def span(name: str, attributes: Attributes = None) -> Iterator[trace.Span | None]:
    """An internal span, current within the block; no span (None) when tracing is off."""
    current = tracer()
    if current is None:
        yield None
        return
    with current.start_as_current_span(name, attributes=attributes) as started:
        yield started


def current_span() -> trace.Span | None:
    """The current span when it records (tracing on, sampled), else None."""
    if not _tracers:
        return None
    found = trace.get_current_span()
    return found if found.is_recording() else None


def injected(context: otel_context.Context | None = None) -> dict[str, str]:
    """The propagation headers (`traceparent`, ...) of `context` (default: the current one)."""
    carrier: dict[str, str] = {}
    if _tracers:
        propagate.inject(carrier, context=context)
    return carrier


def extracted(carrier: Mapping[str, str]) -> otel_context.Context:
    """The context that propagation headers carry (an empty one when they carry none)."""
    return propagate.extract(carrier)


def add_trace_ids(logger: object, method_name: str, event_dict: dict) -> dict:
    """structlog processor: the current trace and span ids, when a span is current."""
    if _tracers:
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            event_dict.setdefault("trace_id", trace.format_trace_id(context.trace_id))
            event_dict.setdefault("span_id", trace.format_span_id(context.span_id))
    return event_dict
