"""The storage interface of the control service, its records and its errors.

Both backends (SQLite, PostgreSQL) implement `Storage`; every method runs in one transaction, so a
failed or interrupted call leaves stored data as it was. Timestamps are timezone-aware UTC.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from services.common.names import LATEST_CHECKPOINT

__all__ = ["LATEST_CHECKPOINT"]  # the storages read it from here with the other records

T = TypeVar("T")
R = TypeVar("R")


class SessionState(enum.StrEnum):
    ACTIVE = "ACTIVE"
    ENDED = "ENDED"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class NewSession:
    session_id: str
    display_name: str
    description: str
    cache_namespace: str
    labels: Mapping[str, str]
    request_id: str | None = None
    tenant: str = ""


@dataclass(frozen=True, slots=True)
class SessionRecord:
    session_id: str
    display_name: str
    description: str
    cache_namespace: str
    labels: dict[str, str]
    state: SessionState
    create_time: datetime
    update_time: datetime
    expire_time: datetime | None
    end_reason: str
    checkpoint_count: int
    tenant: str = ""


@dataclass(frozen=True, slots=True)
class StoredPayload:
    """A payload as kept in the database: `data` under `encoding` (`identity` or `zstd`)."""

    encoding: str
    data: bytes
    size_bytes: int
    sha256: str


@dataclass(frozen=True, slots=True)
class NewCheckpoint:
    checkpoint_id: str
    content_type: str
    annotations: Mapping[str, str]
    payload: StoredPayload


@dataclass(frozen=True, slots=True)
class CheckpointRecord:
    session_id: str
    checkpoint_id: str
    sequence: int
    content_type: str
    annotations: dict[str, str]
    size_bytes: int
    sha256: str
    create_time: datetime
    payload: StoredPayload | None = None
    """Present only when the checkpoint was read with its payload."""


@dataclass(frozen=True, slots=True)
class NewRememberedResponse:
    response_id: str
    request_sha256: str
    payload: StoredPayload
    """The serialized `RememberedResponse` holding only its `responses`."""


@dataclass(frozen=True, slots=True)
class RememberedResponseRecord:
    session_id: str
    response_id: str
    request_sha256: str
    create_time: datetime
    payload: StoredPayload


@dataclass(frozen=True, slots=True)
class LeaseRecord:
    session_id: str
    holder: str
    """Empty once released."""
    expire_time: datetime
    generation: int
    expired: bool
    tenant: str = ""
    """The tenant owning the session; filled in by listings."""


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: int | str | None = None
    """Where the next page starts (exclusive); None on the last page."""


@dataclass(frozen=True, slots=True)
class SweepResult:
    sessions_deleted: int
    checkpoints_deleted: int = 0
    leases_deleted: int = 0
    session_ids: list[str] = field(default_factory=list)
    cache_entries_deleted: int = 0
    """Entries of the namespaces that no session names any more."""


class StorageError(Exception):
    """A domain error of the control service's data, mapped to a gRPC status by the servicer."""


class SessionNotFound(StorageError):
    def __init__(self, session_id: str):
        super().__init__(f"session {session_id!r} not found")
        self.session_id = session_id


class SessionAlreadyExists(StorageError):
    def __init__(self, session_id: str):
        super().__init__(f"session {session_id!r} already exists")
        self.session_id = session_id


class SessionNotActive(StorageError):
    def __init__(self, session_id: str, state: SessionState):
        super().__init__(f"session {session_id!r} is {state.value.lower()}")
        self.session_id = session_id
        self.state = state


class SessionEnded(StorageError):
    """A session that ended successfully cannot be reopened."""

    def __init__(self, session_id: str):
        super().__init__(f"session {session_id!r} ended successfully; only a failed session can be reopened")
        self.session_id = session_id


class CheckpointNotFound(StorageError):
    def __init__(self, session_id: str, checkpoint_id: str):
        super().__init__(f"checkpoint {checkpoint_id!r} of session {session_id!r} not found")
        self.session_id = session_id
        self.checkpoint_id = checkpoint_id


class CheckpointConflict(StorageError):
    """A checkpoint of that id exists with another payload."""

    def __init__(self, session_id: str, checkpoint_id: str, existing_sha256: str):
        super().__init__(f"checkpoint {checkpoint_id!r} of session {session_id!r} exists with another payload")
        self.session_id = session_id
        self.checkpoint_id = checkpoint_id
        self.existing_sha256 = existing_sha256


class RememberedResponseNotFound(StorageError):
    def __init__(self, session_id: str, response_id: str):
        super().__init__(f"no response of session {session_id!r} is remembered as {response_id!r}")
        self.session_id = session_id
        self.response_id = response_id


class LeaseHeld(StorageError):
    def __init__(self, lease: LeaseRecord):
        super().__init__(
            f"lease of session {lease.session_id!r} is held by {lease.holder!r} until {lease.expire_time.isoformat()}"
        )
        self.lease = lease


class LeaseLost(StorageError):
    def __init__(self, session_id: str, holder: str, current_holder: str):
        now_held = f"held by {current_holder!r}" if current_holder else "released"
        super().__init__(f"{holder!r} no longer holds the lease of session {session_id!r} (now {now_held})")
        self.session_id = session_id
        self.holder = holder
        self.current_holder = current_holder


class Storage(abc.ABC):
    """Persistent state of the control service. All methods are coroutines that never block the loop.

    Every session belongs to a tenant. Methods that name a session take the caller's `tenant` and treat
    another tenant's session as missing (SessionNotFound); "" is the tenant of unauthenticated callers.
    """

    @abc.abstractmethod
    async def open(self) -> None:
        """Connects and applies pending schema migrations."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    # Sessions

    @abc.abstractmethod
    async def begin_session(self, new: NewSession) -> SessionRecord:
        """Creates a session; with a `request_id` seen before, returns the session made then."""

    @abc.abstractmethod
    async def get_session(self, session_id: str, *, tenant: str = "") -> SessionRecord: ...

    @abc.abstractmethod
    async def list_sessions(
        self, *, state: SessionState | None, labels: Mapping[str, str], limit: int, after: int | None, tenant: str = ""
    ) -> Page[SessionRecord]:
        """Sessions newest first; `after` is the cursor of the previous page."""

    @abc.abstractmethod
    async def end_session(
        self, session_id: str, final_state: SessionState, reason: str, retention: timedelta, *, tenant: str = ""
    ) -> SessionRecord:
        """Ends an active session; an ended one is returned unchanged."""

    @abc.abstractmethod
    async def reopen_session(self, session_id: str, *, tenant: str = "") -> SessionRecord:
        """Makes a failed session active again (end reason and expire time cleared); an active one is
        returned unchanged; SessionEnded for one that ended successfully."""

    @abc.abstractmethod
    async def delete_session(self, session_id: str, *, tenant: str = "") -> None:
        """Deletes a session with its checkpoints, lease and remembered responses, and the entries of its
        cache namespace unless another session names it."""

    @abc.abstractmethod
    async def delete_expired_sessions(self, *, limit: int) -> SweepResult:
        """Deletes up to `limit` ended sessions whose expire time has passed, as `delete_session` does."""

    @abc.abstractmethod
    async def expire_idle_sessions(
        self, *, idle_for: timedelta, reason: str, retention: timedelta, limit: int
    ) -> list[str]:
        """Ends as FAILED (with `reason`) up to `limit` active sessions that have not changed for `idle_for`,
        whose lease (if any) is expired or released and has not changed for as long; returns their ids."""

    @abc.abstractmethod
    async def delete_old_cache_entries(self, *, max_age: timedelta, limit: int) -> int:
        """Deletes up to `limit` cache entries stored more than `max_age` ago; returns how many."""

    # Checkpoints

    @abc.abstractmethod
    async def create_checkpoint(self, session_id: str, new: NewCheckpoint, *, tenant: str = "") -> CheckpointRecord:
        """Stores a checkpoint of an active session; the same id and payload again returns the stored one."""

    @abc.abstractmethod
    async def list_checkpoints(
        self, session_id: str, *, limit: int, after: int | None, tenant: str = ""
    ) -> Page[CheckpointRecord]:
        """Checkpoints in creation order, without payloads."""

    @abc.abstractmethod
    async def get_checkpoint(self, session_id: str, checkpoint_id: str, *, tenant: str = "") -> CheckpointRecord:
        """A checkpoint with its payload; `LATEST_CHECKPOINT` names the newest one."""

    # LLM cache

    @abc.abstractmethod
    async def lookup_cache_entries(self, session_id: str, keys: Sequence[str], *, tenant: str = "") -> dict[str, bytes]:
        """The entries of the session's cache namespace under these keys (missing keys left out)."""

    @abc.abstractmethod
    async def store_cache_entries(
        self, session_id: str, entries: Sequence[tuple[str, bytes]], *, tenant: str = ""
    ) -> int:
        """Adds entries to an active session's cache namespace, keeping existing keys; returns how many were new."""

    # Remembered responses

    @abc.abstractmethod
    async def remember_response(
        self, session_id: str, new: NewRememberedResponse, *, tenant: str = ""
    ) -> RememberedResponseRecord:
        """Stores a response in an active session; one remembered under that id already is returned as it is."""

    @abc.abstractmethod
    async def get_remembered_response(
        self, session_id: str, response_id: str, *, tenant: str = ""
    ) -> RememberedResponseRecord: ...

    # Leases

    @abc.abstractmethod
    async def acquire_lease(self, session_id: str, holder: str, ttl: timedelta, *, tenant: str = "") -> LeaseRecord: ...

    @abc.abstractmethod
    async def renew_lease(self, session_id: str, holder: str, ttl: timedelta, *, tenant: str = "") -> LeaseRecord: ...

    @abc.abstractmethod
    async def release_lease(self, session_id: str, holder: str, *, tenant: str = "") -> None: ...

    @abc.abstractmethod
    async def list_leases(self, *, expired_only: bool, limit: int, after: str | None) -> Page[LeaseRecord]:
        """Leases by session id; `expired_only` keeps the expired (or released) leases of active sessions."""

    # Shared rate budgets

    @abc.abstractmethod
    async def update_rate_ledger(self, endpoint: str, change: Callable[[dict | None, float], tuple[dict, R]]) -> R:
        """Reads the endpoint's rate ledger (None when new), calls `change(ledger, now)` with the database's
        clock in seconds since the epoch, stores the ledger it returns and returns the rest, all in one
        transaction that excludes every other change of that ledger."""
