"""The one client of control's contract that services use: sessions, checkpoints, leases, cache entries,
remembered responses and standing panels.

Control's errors reach the caller as the `grpc.aio.AioRpcError` they are; the runtime's interceptor
passes them on with their code and details. Every call has a deadline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from tinytroupe_mesh_api.common.v1 import agent_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2, control_pb2_grpc

from services.common.names import checkpoint_name, last_segment, remembered_response_name
from services.runtime import tracing
from services.runtime.errors import FailedPrecondition, NotFound, error_details, error_reason

MessageT = TypeVar("MessageT", bound=Message)

LEASE_HELD = "LEASE_HELD"
LEASE_LOST = "LEASE_LOST"
SESSION_NOT_ACTIVE = "SESSION_NOT_ACTIVE"
SESSION_TYPE = "control.tinytroupe.io/Session"
REMEMBERED_RESPONSE_TYPE = "control.tinytroupe.io/RememberedResponse"
PANEL_TYPE = "control.tinytroupe.io/Panel"
MAX_CACHE_ENTRIES_PER_CALL = 1000
"""Control takes at most this many cache keys or entries per call; larger batches are split."""
Session = control_pb2.Session


class LeaseHeld(Exception):
    """Another holder's lease on the session is live."""


class LeaseLost(Exception):
    """The lease was taken over (it expired and another holder acquired it)."""


def content_type_of(message: Message) -> str:
    return f"application/x-protobuf; type={message.DESCRIPTOR.full_name}"


def packed(messages: Sequence[Message]) -> list[any_pb2.Any]:
    """Each message in an `Any`, serialized deterministically (a remembered response's `responses`)."""
    containers = []
    for message in messages:
        container = any_pb2.Any()
        container.Pack(message, deterministic=True)
        containers.append(container)
    return containers


def checkpoint_attributes(session: str, checkpoint_id: str, size_bytes: int | None = None) -> dict[str, str | int]:
    """Attributes of a checkpoint's span."""
    attributes: dict[str, str | int] = {"mesh.session": session, "mesh.checkpoint.id": checkpoint_id}
    if size_bytes is not None:
        attributes["mesh.checkpoint.size_bytes"] = size_bytes
    return attributes


def _ttl(seconds: float) -> duration_pb2.Duration:
    ttl = duration_pb2.Duration()
    ttl.FromNanoseconds(int(seconds * 1e9))
    return ttl


class ControlClient:
    """Typed calls on control over one channel; `timeout_s` is each call's deadline."""

    def __init__(self, channel: grpc.aio.Channel, timeout_s: float = 30.0) -> None:
        self.stub = control_pb2_grpc.SimulationControlServiceStub(channel)
        self.timeout_s = timeout_s

    # -- sessions ---------------------------------------------------------------------------------------

    async def get_session(self, name: str, timeout_s: float | None = None) -> control_pb2.Session:
        return await self.stub.GetSession(control_pb2.GetSessionRequest(name=name), timeout=timeout_s or self.timeout_s)

    async def reopen_session(self, name: str) -> control_pb2.Session:
        """Makes a failed session active again; an active one is returned as it is."""
        return await self.stub.ReopenSession(control_pb2.ReopenSessionRequest(name=name), timeout=self.timeout_s)

    async def require_active_session(self, name: str, purpose: str, *, field: str = "") -> control_pb2.Session:
        """The session; FAILED_PRECONDITION (SESSION_NOT_ACTIVE) unless it is active. Control answers only for
        the caller's tenant, so another tenant's session is NOT_FOUND like a missing one. With `field`, the
        request field that named the session is named in both errors (and in their ErrorInfo's metadata)."""
        try:
            session = await self.get_session(name)
        except grpc.aio.AioRpcError as error:
            if not field or error.code() != grpc.StatusCode.NOT_FOUND:
                raise
            missing = NotFound(SESSION_TYPE, name, f"the request's `{field}` names no session of the caller's tenant")
            missing.metadata = {"field": field}
            raise missing from None
        if session.state != Session.STATE_ACTIVE:
            named = f" (the request's `{field}`)" if field else ""
            ended = FailedPrecondition(
                SESSION_NOT_ACTIVE,
                f"session {name}{named} is {Session.State.Name(session.state)}; {purpose} needs an active session",
                subject=name,
            )
            if field:
                ended.metadata = {"field": field}
            raise ended
        return session

    # -- checkpoints ------------------------------------------------------------------------------------

    async def store_checkpoint(
        self,
        session: str,
        checkpoint_id: str,
        payload: bytes,
        content_type: str,
        *,
        annotations: dict[str, str] | None = None,
        request_id: str = "",
        same: Callable[[control_pb2.Checkpoint], bool] | None = None,
    ) -> str:
        """Stores a checkpoint and returns its name. Control takes the same payload again as a no-op; where
        `same` says an existing checkpoint of another payload is equivalent (a replay that reached the same
        state), it is accepted as it is. Any other conflict is control's ALREADY_EXISTS."""
        request = control_pb2.CreateCheckpointRequest(
            parent=session,
            checkpoint_id=checkpoint_id,
            request_id=request_id,
            checkpoint=control_pb2.Checkpoint(
                payload=payload, content_type=content_type, annotations=annotations or {}
            ),
        )
        with tracing.span("checkpoint.store", checkpoint_attributes(session, checkpoint_id, len(payload))):
            try:
                return (await self.stub.CreateCheckpoint(request, timeout=self.timeout_s)).name
            except grpc.aio.AioRpcError as error:
                if error.code() != grpc.StatusCode.ALREADY_EXISTS or same is None:
                    raise
                existing = await self.get_checkpoint(checkpoint_name(session, checkpoint_id))
                if not same(existing):
                    raise
                return existing.name

    async def store_message(
        self,
        session: str,
        checkpoint_id: str,
        message: Message,
        *,
        annotations: dict[str, str] | None = None,
        same: Callable[[control_pb2.Checkpoint], bool] | None = None,
    ) -> str:
        """Stores a protobuf message (deterministically serialized) as a typed checkpoint."""
        return await self.store_checkpoint(
            session,
            checkpoint_id,
            message.SerializeToString(deterministic=True),
            content_type_of(message),
            annotations=annotations,
            same=same,
        )

    async def get_checkpoint(self, name: str) -> control_pb2.Checkpoint:
        return await self.stub.GetCheckpoint(control_pb2.GetCheckpointRequest(name=name), timeout=self.timeout_s)

    async def load_message(self, session: str, checkpoint_id: str, message_type: type[MessageT]) -> MessageT:
        with tracing.span("checkpoint.load", checkpoint_attributes(session, checkpoint_id)):
            checkpoint = await self.get_checkpoint(checkpoint_name(session, checkpoint_id))
        return message_type.FromString(checkpoint.payload)

    async def checkpoint_ids(self, session: str) -> list[str]:
        """The session's checkpoint ids in the order they were made."""
        ids: list[str] = []
        page_token = ""
        while True:
            page = await self.stub.ListCheckpoints(
                control_pb2.ListCheckpointsRequest(parent=session, page_size=1000, page_token=page_token),
                timeout=self.timeout_s,
            )
            ids.extend(last_segment(checkpoint.name) for checkpoint in page.checkpoints)
            page_token = page.next_page_token
            if not page_token:
                return ids

    # -- remembered responses (services/common/remembered.py) ------------------------------------------

    async def remembered_response(self, session: str, response_id: str) -> control_pb2.RememberedResponse | None:
        """The answer remembered in the session under `response_id`; None when there is none."""
        request = control_pb2.GetRememberedResponseRequest(name=remembered_response_name(session, response_id))
        try:
            return await self.stub.GetRememberedResponse(request, timeout=self.timeout_s)
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND and any(
                info.resource_type == REMEMBERED_RESPONSE_TYPE
                for info in error_details(error, error_details_pb2.ResourceInfo)
            ):
                return None
            raise

    async def remember_response(
        self, session: str, response_id: str, request_sha256: str, responses: Sequence[Message]
    ) -> control_pb2.RememberedResponse:
        """Remembers the answer in the session, or returns the one remembered under that id before (the first
        answer wins; compare its `request_sha256`)."""
        request = control_pb2.RememberResponseRequest(
            parent=session,
            remembered_response_id=response_id,
            remembered_response=control_pb2.RememberedResponse(
                request_sha256=request_sha256, responses=packed(responses)
            ),
        )
        return await self.stub.RememberResponse(request, timeout=self.timeout_s)

    # -- leases -----------------------------------------------------------------------------------------

    async def acquire_lease(self, session: str, holder: str, ttl_s: float) -> control_pb2.Lease:
        """Takes the session's lease (free or expired); LeaseHeld when another holder's is live."""
        try:
            return await self.stub.AcquireLease(
                control_pb2.AcquireLeaseRequest(session=session, holder=holder, ttl=_ttl(ttl_s)), timeout=self.timeout_s
            )
        except grpc.aio.AioRpcError as error:
            if _has_reason(error, grpc.StatusCode.FAILED_PRECONDITION, LEASE_HELD):
                raise LeaseHeld(error.details()) from None
            raise

    async def renew_lease(self, session: str, holder: str, ttl_s: float, timeout_s: float) -> control_pb2.Lease:
        """Extends the lease; LeaseLost when another holder took it over."""
        try:
            return await self.stub.RenewLease(
                control_pb2.RenewLeaseRequest(session=session, holder=holder, ttl=_ttl(ttl_s)), timeout=timeout_s
            )
        except grpc.aio.AioRpcError as error:
            if _has_reason(error, grpc.StatusCode.FAILED_PRECONDITION, LEASE_LOST):
                raise LeaseLost(error.details()) from None
            raise

    async def release_lease(self, session: str, holder: str, timeout_s: float = 5.0) -> None:
        await self.stub.ReleaseLease(control_pb2.ReleaseLeaseRequest(session=session, holder=holder), timeout=timeout_s)

    # -- standing panels ------------------------------------------------------------------------------

    async def get_panel(
        self, name: str, *, field: str = "", view: int = control_pb2.PANEL_VIEW_FULL
    ) -> control_pb2.Panel:
        """The panel. With `field`, a missing panel (or another tenant's) is NOT_FOUND naming that request
        field (in the message and the ErrorInfo's metadata)."""
        try:
            return await self.stub.GetPanel(control_pb2.GetPanelRequest(name=name, view=view), timeout=self.timeout_s)
        except grpc.aio.AioRpcError as error:
            if not field or error.code() != grpc.StatusCode.NOT_FOUND:
                raise
            missing = NotFound(PANEL_TYPE, name, f"the request's `{field}` names no panel of the caller's tenant")
            missing.metadata = {"field": field}
            raise missing from None

    async def add_panel_study(
        self,
        panel: str,
        study: control_pb2.PanelStudy,
        agents: Sequence[agent_pb2.Agent],
        *,
        display_name: str = "",
    ) -> control_pb2.Panel:
        """Records a study's participants in the panel, creating it when missing (safe to repeat)."""
        request = control_pb2.AddPanelStudyRequest(
            panel=panel, study=study, agents=agents, allow_missing=True, display_name=display_name
        )
        return await self.stub.AddPanelStudy(request, timeout=self.timeout_s)

    # -- the LLM cache (the LLM layer's `ResponseCache`) ------------------------------------------------

    async def lookup(self, session: str, keys: list[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for start in range(0, len(keys), MAX_CACHE_ENTRIES_PER_CALL):
            request = control_pb2.LookupCacheEntriesRequest(
                session=session, keys=keys[start : start + MAX_CACHE_ENTRIES_PER_CALL]
            )
            response = await self.stub.LookupCacheEntries(request, timeout=self.timeout_s)
            found.update((entry.key, entry.value) for entry in response.entries)
        return found

    async def store(self, session: str, entries: dict[str, bytes]) -> None:
        items = [control_pb2.CacheEntry(key=key, value=value) for key, value in entries.items()]
        for start in range(0, len(items), MAX_CACHE_ENTRIES_PER_CALL):
            request = control_pb2.StoreCacheEntriesRequest(
                session=session, entries=items[start : start + MAX_CACHE_ENTRIES_PER_CALL]
            )
            await self.stub.StoreCacheEntries(request, timeout=self.timeout_s)

    # -- the shared rate budget of model endpoints ------------------------------------------------------

    async def acquire_rate_grant(self, request: control_pb2.AcquireRateGrantRequest) -> control_pb2.RateGrant:
        """An allowance of model calls and tokens (possibly none), settling the holder's earlier grants."""
        return await self.stub.AcquireRateGrant(request, timeout=self.timeout_s)

    async def pause_rate_budget(self, endpoint: str, retry_after_s: float) -> control_pb2.RateBudgetPause:
        """Stops every replica's grants of `endpoint` for `retry_after_s` (the provider's Retry-After)."""
        request = control_pb2.PauseRateBudgetRequest(endpoint=endpoint, retry_after=_ttl(retry_after_s))
        return await self.stub.PauseRateBudget(request, timeout=self.timeout_s)


def _has_reason(error: grpc.aio.AioRpcError, code: grpc.StatusCode, reason: str) -> bool:
    return error.code() == code and error_reason(error) == reason
