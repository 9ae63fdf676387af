"""Session labels the orchestrator sets itself, under a key prefix that callers cannot use.

A caller's `session_config.labels` become the session's labels; the orchestrator adds its own under
`mesh.` (as Kubernetes keeps `kubernetes.io/` for itself), so that they never take the place of a
caller's label, nor a caller's label the place of one of them. Keys under the prefix are refused
in requests."""

from __future__ import annotations

from collections.abc import Mapping

RESERVED_PREFIX = "mesh."
TRACE_LABEL = f"{RESERVED_PREFIX}traceparent"
"""The W3C trace context of the call that began the study (services/orchestrator/tracing.py)."""


def reserved_label_violations(labels: Mapping[str, str], field: str) -> list[tuple[str, str]]:
    """A violation for each key of a request's labels under the reserved prefix."""
    return [
        (f"{field}[{key!r}]", f"keys starting with {RESERVED_PREFIX!r} are reserved for the labels the mesh sets")
        for key in labels
        if key.startswith(RESERVED_PREFIX)
    ]
