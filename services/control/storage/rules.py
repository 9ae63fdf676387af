"""Decisions both backends share: tenant scoping, lease ownership and checkpoint idempotency.

Each backend reads the current row under a lock, asks these functions what the new row must be (or
which error to raise), and writes it in the same transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from services.control.storage.base import (
    CheckpointConflict,
    CheckpointRecord,
    LeaseHeld,
    LeaseLost,
    LeaseRecord,
    NewCheckpoint,
    SessionNotActive,
    SessionState,
)

_TENANT_SEPARATOR = "\x1f"
"""Joins a tenant to a caller-chosen key; it can occur in neither (tenants and keys are printable)."""


def idempotency_key(tenant: str, request_id: str | None) -> str | None:
    """The stored form of a request id: two tenants using the same request id get different sessions."""
    if not request_id:
        return None
    return f"{tenant}{_TENANT_SEPARATOR}{request_id}" if tenant else request_id


def cache_scope(tenant: str, namespace: str) -> str:
    """The stored form of a cache namespace: tenants naming the same namespace never share entries."""
    return f"{tenant}{_TENANT_SEPARATOR}{namespace}" if tenant else namespace


def require_active(session_id: str, state: SessionState) -> None:
    if state is not SessionState.ACTIVE:
        raise SessionNotActive(session_id, state)


def acquired_lease(
    current: LeaseRecord | None, session_id: str, holder: str, now: datetime, ttl: timedelta
) -> LeaseRecord:
    """The lease after `holder` acquires it: new, re-acquired by its holder, or taken over once expired.

    The generation (a fencing token) grows by one whenever the holder changes, releases included.
    """
    expire_time = now + ttl
    if current is None:
        return LeaseRecord(session_id, holder, expire_time, generation=1, expired=False)
    if current.holder == holder:
        return LeaseRecord(session_id, holder, expire_time, current.generation, expired=False)
    if current.holder and current.expire_time > now:
        raise LeaseHeld(current)
    return LeaseRecord(session_id, holder, expire_time, current.generation + 1, expired=False)


def renewed_lease(
    current: LeaseRecord | None, session_id: str, holder: str, now: datetime, ttl: timedelta
) -> LeaseRecord:
    """The lease after its holder renews it. An expired lease nobody took over may still be renewed."""
    if current is None or current.holder != holder:
        raise LeaseLost(session_id, holder, current.holder if current else "")
    return LeaseRecord(session_id, holder, now + ttl, current.generation, expired=False)


def released_lease(current: LeaseRecord | None, session_id: str, holder: str, now: datetime) -> LeaseRecord | None:
    """The lease after `holder` releases it, or None when there is nothing to release (idempotent)."""
    if current is None or not current.holder:
        return None
    if current.holder != holder:
        raise LeaseLost(session_id, holder, current.holder)
    return LeaseRecord(session_id, "", now, current.generation, expired=True)


def repeated_checkpoint(existing: CheckpointRecord, new: NewCheckpoint) -> CheckpointRecord:
    """An existing checkpoint asked for again: the same payload is a no-op, another one a conflict."""
    if existing.sha256 != new.payload.sha256:
        raise CheckpointConflict(existing.session_id, existing.checkpoint_id, existing.sha256)
    return existing
