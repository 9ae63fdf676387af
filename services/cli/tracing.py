"""Traces of `troupe` commands, off by default as for the servers (docs/tracing.md).

With the standard `OTEL_*` variables set for the CLI's process, `troupe run` and `troupe resume` open a root
span (`troupe run <file>`, `troupe resume <operation>`) and every call they make carries its context through
the client-side propagation the services use (services/runtime/clients.py), so the caller's trace holds the
whole study: RunStudy, the orchestrator's `study` span beneath it and everything the study calls. The CLI's
spans name the service `tinytroupe-cli` unless `OTEL_SERVICE_NAME` says otherwise.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from pathlib import Path

from opentelemetry import trace
from opentelemetry.util.types import Attributes

from services.runtime import tracing

CLI_SERVICE = "cli"
TRACED_COMMANDS = frozenset({"run", "resume"})
TRACE_FILE = "trace.json"
"""Beside a study's results: the trace id of the command that started it."""


def configure(environ: Mapping[str, str] | None = None) -> bool:
    """Builds the CLI's tracer when the environment asks for traces; returns whether it did."""
    return tracing.configure_tracing(CLI_SERVICE, environ)


def shutdown() -> None:
    """Exports the spans still queued; the process ends after this."""
    tracing.shutdown_tracing()


@contextlib.contextmanager
def command_span(name: str, attributes: Attributes = None) -> Iterator[str | None]:
    """The command's root span, current within the block; yields its trace id (32 hex digits), None when
    tracing is off."""
    with tracing.service_scope(CLI_SERVICE), tracing.span(name, attributes) as span:
        if span is None:
            yield None
            return
        yield trace.format_trace_id(span.get_span_context().trace_id)


def write_trace_id(trace_id: str | None, output_dir: Path) -> None:
    """Notes the trace id in the study's result folder (nothing when tracing is off)."""
    if trace_id is None:
        return
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / TRACE_FILE).write_text(json.dumps({"trace_id": trace_id}) + "\n")
