"""Per-call identifiers carried across services in metadata and bound into every log line."""

from __future__ import annotations

from contextvars import ContextVar

SESSION_METADATA_KEY = "x-session"
REQUEST_METADATA_KEY = "x-request-id"
TENANT_METADATA_KEY = "x-tenant"

current_session: ContextVar[str] = ContextVar("current_session", default="")
current_request_id: ContextVar[str] = ContextVar("current_request_id", default="")
current_tenant: ContextVar[str] = ContextVar("current_tenant", default="")
"""The tenant of the caller; "" when authentication is off (local development)."""


def propagated_metadata() -> tuple[tuple[str, str], ...]:
    """The metadata a downstream call carries so that logs of all services join by session id."""
    pairs = []
    if session := current_session.get():
        pairs.append((SESSION_METADATA_KEY, session))
    if request_id := current_request_id.get():
        pairs.append((REQUEST_METADATA_KEY, request_id))
    return tuple(pairs)
