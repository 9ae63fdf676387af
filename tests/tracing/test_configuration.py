"""Tracing is configured by the standard OTEL_* variables, is off without them, and marks log lines."""

from __future__ import annotations

import io
import json

import pytest
import structlog
from opentelemetry import trace
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from tinytroupe_mesh_api.control.v1 import control_pb2

from services.orchestrator.tracing import TRACE_LABEL, in_study_span, trace_labels
from services.runtime import tracing
from services.runtime.logging import configure_logging
from tests.tracing.support import TRACING_ON, traced_services


@pytest.mark.parametrize(
    ("environ", "requested"),
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "tinytroupe-control"}, False),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4317"}, True),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, False),
    ],
)
def test_the_standard_variables_turn_tracing_on(environ, requested):
    assert tracing.tracing_requested(environ) is requested


def test_tracing_is_off_by_default():
    exporter = InMemorySpanExporter()
    assert tracing.configure_tracing("control", {}, exporter=exporter) is False
    assert not tracing.enabled() and tracing.tracer() is None
    with tracing.span("checkpoint.store") as span:
        assert span is None
        assert not trace.get_current_span().get_span_context().is_valid
    assert trace_labels() == {}
    assert exporter.get_finished_spans() == ()


def test_an_otlp_endpoint_gets_the_batching_otlp_exporter(monkeypatch):
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    try:
        assert tracing.configure_tracing("simulation", {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"})
        provider = tracing._providers["simulation"]
        [processor] = provider._active_span_processor._span_processors
        assert isinstance(processor, BatchSpanProcessor)
        assert type(processor._batch_processor._exporter).__name__ == "OTLPSpanExporter"
        assert provider.resource.attributes["service.name"] == "tinytroupe-simulation"
    finally:
        tracing._providers.pop("simulation").shutdown()
        tracing._tracers.clear()


def test_an_unknown_exporter_leaves_tracing_off():
    assert tracing.configure_tracing("control", {"OTEL_TRACES_EXPORTER": "zipkin"}) is False
    assert not tracing.enabled()


def test_each_service_names_itself_unless_otel_service_name_does(monkeypatch):
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    with traced_services() as exporter:
        with tracing.service_scope("content"), tracing.span("work"):
            pass
        [span] = exporter.get_finished_spans()
        assert span.resource.attributes["service.name"] == "tinytroupe-content"
    monkeypatch.setenv("OTEL_SERVICE_NAME", "kettle-content")
    exporter = InMemorySpanExporter()
    try:
        tracing.configure_tracing("content", TRACING_ON, exporter=exporter)
        with tracing.span("work"):
            pass
        [span] = exporter.get_finished_spans()
        assert span.resource.attributes["service.name"] == "kettle-content"
    finally:
        tracing.shutdown_tracing()


def test_log_lines_carry_the_current_trace_and_span_ids():
    out = io.StringIO()
    try:
        with traced_services():
            configure_logging("control")
            structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=out))
            log = structlog.get_logger("test")
            log.info("outside")
            with tracing.service_scope("control"), tracing.span("work") as span:
                log.info("inside")
            context = span.get_span_context()
        outside, inside = (json.loads(line) for line in out.getvalue().splitlines())
        assert "trace_id" not in outside and "span_id" not in outside
        assert inside["trace_id"] == f"{context.trace_id:032x}"
        assert inside["span_id"] == f"{context.span_id:016x}"
    finally:
        structlog.reset_defaults()
        structlog.contextvars.clear_contextvars()


async def test_a_resumed_study_without_a_stored_context_starts_where_it_was_started():
    """A study begun while tracing was off has no `traceparent` label: its span is the starter's child."""
    with traced_services() as exporter:
        with tracing.service_scope("orchestrator"):
            with tracing.span("ResumeStudy") as starter:
                session = control_pb2.Session(name="sessions/s1", labels={"kind": "study"})
                assert await in_study_span(_answer(), session, resumed=True) == 42
        study = next(span for span in exporter.get_finished_spans() if span.name == "study")
        assert study.parent.span_id == starter.get_span_context().span_id
        assert study.links == ()


async def test_a_stored_context_is_the_study_span_parent():
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    with traced_services() as exporter:
        with tracing.service_scope("orchestrator"):
            session = control_pb2.Session(name="sessions/s2", labels={"kind": "study", TRACE_LABEL: traceparent})
            await in_study_span(_answer(), session, resumed=True)
            with tracing.span("RunStudy") as started:
                assert trace_labels()[TRACE_LABEL].split("-")[1] == f"{started.get_span_context().trace_id:032x}"
        study = next(span for span in exporter.get_finished_spans() if span.name == "study")
        assert f"{study.context.trace_id:032x}" == "0af7651916cd43dd8448eb211c80319c"
        assert f"{study.parent.span_id:016x}" == "b7ad6b7169203331"


async def _answer() -> int:
    return 42
