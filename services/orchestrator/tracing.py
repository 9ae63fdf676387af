"""One trace per study, across its background work and across resumption.

The call that begins a study's session (RunStudy, RunExperiment, or an experiment's arm) stores its
trace context in the session's `mesh.traceparent` label (labels.py: a key callers cannot use). A
runner, fresh or resumed by any replica, runs the study inside a `study` span whose parent is that
stored context, so every run of the study (first run, resumption after a crash, retry after a failure)
lands in the study's one trace. When the runner was started by another traced call (ResumeStudy, or
recovery inside a trace of its own), the study span also links to that call's span, so the resuming
call's trace points at the study's. A repeated RunStudy (the same `request_id`), which answers with the
study an earlier call began, links its own span to the study's trace context.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

from opentelemetry import trace
from tinytroupe_mesh_api.control.v1 import control_pb2

from services.orchestrator.labels import TRACE_LABEL
from services.runtime import tracing

R = TypeVar("R")

TRACEPARENT = "traceparent"
"""The W3C propagation header that the stored trace context is kept as."""


def trace_labels() -> dict[str, str]:
    """The session labels that tie a new study to the current trace (none when tracing is off). A trace that
    was sampled out is stored too, so that the study's later runs stay out of the samples with it."""
    if not tracing.enabled() or not trace.get_current_span().get_span_context().is_valid:
        return {}
    traceparent = tracing.injected().get(TRACEPARENT)
    return {TRACE_LABEL: traceparent} if traceparent else {}


def _stored_parent(session: control_pb2.Session) -> trace.SpanContext | None:
    traceparent = session.labels.get(TRACE_LABEL)
    if not traceparent:
        return None
    context = trace.get_current_span(tracing.extracted({TRACEPARENT: traceparent})).get_span_context()
    return context if context.is_valid else None


def link_to_study(session: control_pb2.Session) -> None:
    """Links the current call's span to the study's stored trace context when the two are in different
    traces: a repeated call answered with a study that an earlier call began."""
    current = tracing.current_span()
    stored = _stored_parent(session)
    if current is None or stored is None or current.get_span_context().trace_id == stored.trace_id:
        return
    current.add_link(stored, {"mesh.link": "study"})


async def in_study_span(study: Coroutine[Any, Any, R], session: control_pb2.Session, *, resumed: bool) -> R:
    """Runs a study's coroutine inside its `study` span (see the module's docstring)."""
    tracer = tracing.tracer()
    if tracer is None:
        return await study
    stored = _stored_parent(session)
    starter = trace.get_current_span().get_span_context()
    links = []
    if stored is not None and starter.is_valid and starter.trace_id != stored.trace_id:
        links.append(trace.Link(starter, {"mesh.link": "resumed_by" if resumed else "started_by"}))
    parent = trace.set_span_in_context(trace.NonRecordingSpan(stored)) if stored is not None else None
    attributes = {
        "mesh.session": session.name,
        "mesh.study.resumed": resumed,
        "mesh.study.kind": session.labels.get("kind", ""),
    }
    with tracer.start_as_current_span("study", context=parent, links=links, attributes=attributes):
        return await study
