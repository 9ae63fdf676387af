"""The SimulationControlService: validates requests, calls the storage, answers with resources."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import timedelta

import grpc
from google.protobuf import empty_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2, control_pb2_grpc

from services.common.names import RESPONSE_ID_RULE, is_response_id, remembered_response_ids_of
from services.control import limits
from services.control.errors import storage_errors
from services.control.messages import (
    STATES_BY_VALUE,
    checkpoint_message,
    lease_message,
    remembered_response_message,
    session_message,
)
from services.control.page_tokens import decode_page_token, encode_page_token
from services.control.panels import PanelMethods
from services.control.payloads import decode_payload, encode_payload
from services.control.rate_rpcs import RateBudgetRpcs
from services.control.storage.base import (
    NewCheckpoint,
    NewRememberedResponse,
    NewSession,
    SessionState,
    Storage,
)
from services.control.usage_rpcs import UsageLedgerRpcs
from services.control.validation import (
    Violations,
    check_annotations,
    check_cache_namespace,
    check_checkpoint_id,
    check_labels,
    check_session_id,
    check_text,
    check_token,
    checkpoint_from_name,
    lease_ttl,
    page_size,
    session_id_from_name,
)
from services.runtime.context import current_tenant
from services.runtime.errors import InvalidArgument

Session = control_pb2.Session
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class ControlServicer(PanelMethods, RateBudgetRpcs, UsageLedgerRpcs, control_pb2_grpc.SimulationControlServiceServicer):
    """Every session belongs to the tenant of the caller that began it; other tenants get NOT_FOUND."""

    def __init__(self, storage: Storage, *, session_retention: timedelta):
        self._storage = storage
        self._session_retention = session_retention

    # Sessions

    async def BeginSession(
        self, request: control_pb2.BeginSessionRequest, context: grpc.aio.ServicerContext
    ) -> Session:
        violations = Violations()
        if not request.HasField("session"):
            violations.add("session", "is required")
        session = request.session
        if request.session_id:
            check_session_id(violations, "session_id", request.session_id)
        session_id = request.session_id or str(uuid.uuid4())
        check_token(violations, "request_id", request.request_id, limits.MAX_REQUEST_ID_LENGTH)
        check_text(violations, "session.display_name", session.display_name, limits.MAX_DISPLAY_NAME_LENGTH)
        check_text(violations, "session.description", session.description, limits.MAX_DESCRIPTION_LENGTH)
        if session.cache_namespace:
            check_cache_namespace(violations, "session.cache_namespace", session.cache_namespace)
        check_labels(violations, "session.labels", session.labels, limits.MAX_LABELS)
        violations.raise_if_any()
        new = NewSession(
            session_id=session_id,
            display_name=session.display_name,
            description=session.description,
            cache_namespace=session.cache_namespace or session_id,
            labels=dict(session.labels),
            request_id=request.request_id or None,
            tenant=current_tenant.get(),
        )
        with storage_errors():
            return session_message(await self._storage.begin_session(new))

    async def GetSession(self, request: control_pb2.GetSessionRequest, context: grpc.aio.ServicerContext) -> Session:
        session_id = session_id_from_name("name", request.name)
        with storage_errors():
            return session_message(await self._storage.get_session(session_id, tenant=current_tenant.get()))

    async def ListSessions(
        self, request: control_pb2.ListSessionsRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.ListSessionsResponse:
        limit = page_size("page_size", request.page_size, limits.DEFAULT_SESSION_PAGE_SIZE)
        if request.state and request.state not in STATES_BY_VALUE:
            raise InvalidArgument("state", "must be STATE_ACTIVE, STATE_ENDED, STATE_FAILED or unspecified")
        violations = Violations()
        check_labels(violations, "labels", request.labels, limits.MAX_LABELS)
        violations.raise_if_any()
        labels = dict(request.labels)
        tenant = current_tenant.get()
        query = {"state": request.state, "labels": labels, "tenant": tenant}
        after = decode_page_token(request.page_token, query, int)
        state = STATES_BY_VALUE.get(request.state)
        with storage_errors():
            page = await self._storage.list_sessions(
                state=state, labels=labels, limit=limit, after=after, tenant=tenant
            )
        return control_pb2.ListSessionsResponse(
            sessions=[session_message(record) for record in page.items],
            next_page_token=encode_page_token(page.next_cursor, query),
        )

    async def EndSession(self, request: control_pb2.EndSessionRequest, context: grpc.aio.ServicerContext) -> Session:
        session_id = session_id_from_name("name", request.name)
        final_state = STATES_BY_VALUE.get(request.final_state or Session.STATE_ENDED)
        if final_state not in (SessionState.ENDED, SessionState.FAILED):
            raise InvalidArgument("final_state", "must be STATE_ENDED, STATE_FAILED or unspecified (ended)")
        violations = Violations()
        check_text(violations, "reason", request.reason, limits.MAX_REASON_LENGTH)
        violations.raise_if_any()
        with storage_errors():
            record = await self._storage.end_session(
                session_id, final_state, request.reason, self._session_retention, tenant=current_tenant.get()
            )
        return session_message(record)

    async def ReopenSession(
        self, request: control_pb2.ReopenSessionRequest, context: grpc.aio.ServicerContext
    ) -> Session:
        session_id = session_id_from_name("name", request.name)
        with storage_errors():
            record = await self._storage.reopen_session(session_id, tenant=current_tenant.get())
        return session_message(record)

    async def DeleteSession(
        self, request: control_pb2.DeleteSessionRequest, context: grpc.aio.ServicerContext
    ) -> empty_pb2.Empty:
        session_id = session_id_from_name("name", request.name)
        with storage_errors():
            await self._storage.delete_session(session_id, tenant=current_tenant.get())
        return empty_pb2.Empty()

    # Checkpoints

    async def CreateCheckpoint(
        self, request: control_pb2.CreateCheckpointRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.Checkpoint:
        session_id = session_id_from_name("parent", request.parent)
        violations = Violations()
        check_checkpoint_id(violations, "checkpoint_id", request.checkpoint_id)
        check_token(violations, "request_id", request.request_id, limits.MAX_REQUEST_ID_LENGTH)
        checkpoint = request.checkpoint
        if not request.HasField("checkpoint"):
            violations.add("checkpoint", "is required")
        elif not checkpoint.payload:
            violations.add("checkpoint.payload", "is required")
        elif len(checkpoint.payload) > limits.MAX_CHECKPOINT_PAYLOAD_BYTES:
            violations.add(
                "checkpoint.payload",
                f"is {len(checkpoint.payload)} bytes; at most {limits.MAX_CHECKPOINT_PAYLOAD_BYTES}",
            )
        check_text(violations, "checkpoint.content_type", checkpoint.content_type, limits.MAX_CONTENT_TYPE_LENGTH)
        check_annotations(
            violations,
            "checkpoint.annotations",
            checkpoint.annotations,
            limits.MAX_ANNOTATIONS,
            limits.MAX_ANNOTATION_VALUE_LENGTH,
        )
        violations.raise_if_any()
        stored = await asyncio.to_thread(encode_payload, checkpoint.payload)
        new = NewCheckpoint(request.checkpoint_id, checkpoint.content_type, dict(checkpoint.annotations), stored)
        with storage_errors():
            record = await self._storage.create_checkpoint(session_id, new, tenant=current_tenant.get())
        return checkpoint_message(record)

    async def ListCheckpoints(
        self, request: control_pb2.ListCheckpointsRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.ListCheckpointsResponse:
        session_id = session_id_from_name("parent", request.parent)
        limit = page_size("page_size", request.page_size, limits.DEFAULT_CHECKPOINT_PAGE_SIZE)
        query = {"parent": session_id}
        after = decode_page_token(request.page_token, query, int)
        with storage_errors():
            page = await self._storage.list_checkpoints(
                session_id, limit=limit, after=after, tenant=current_tenant.get()
            )
        return control_pb2.ListCheckpointsResponse(
            checkpoints=[checkpoint_message(record) for record in page.items],
            next_page_token=encode_page_token(page.next_cursor, query),
        )

    async def GetCheckpoint(
        self, request: control_pb2.GetCheckpointRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.Checkpoint:
        session_id, checkpoint_id = checkpoint_from_name("name", request.name)
        with storage_errors():
            record = await self._storage.get_checkpoint(session_id, checkpoint_id, tenant=current_tenant.get())
            assert record.payload is not None
            payload = await asyncio.to_thread(decode_payload, record.payload)
        return checkpoint_message(record, payload)

    # LLM cache

    async def LookupCacheEntries(
        self, request: control_pb2.LookupCacheEntriesRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.LookupCacheEntriesResponse:
        session_id = session_id_from_name("session", request.session)
        violations = Violations()
        violations.check(
            len(request.keys) <= limits.MAX_CACHE_BATCH, "keys", f"must have at most {limits.MAX_CACHE_BATCH} keys"
        )
        for index, key in enumerate(request.keys):
            check_text(violations, f"keys[{index}]", key, limits.MAX_CACHE_KEY_LENGTH, required=True)
        violations.raise_if_any()
        if not request.keys:
            return control_pb2.LookupCacheEntriesResponse()
        with storage_errors():
            found = await self._storage.lookup_cache_entries(
                session_id, list(dict.fromkeys(request.keys)), tenant=current_tenant.get()
            )
        return control_pb2.LookupCacheEntriesResponse(
            entries=[control_pb2.CacheEntry(key=key, value=value) for key, value in found.items()]
        )

    async def StoreCacheEntries(
        self, request: control_pb2.StoreCacheEntriesRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.StoreCacheEntriesResponse:
        session_id = session_id_from_name("session", request.session)
        violations = Violations()
        violations.check(
            len(request.entries) <= limits.MAX_CACHE_BATCH,
            "entries",
            f"must have at most {limits.MAX_CACHE_BATCH} entries",
        )
        for index, entry in enumerate(request.entries):
            check_text(violations, f"entries[{index}].key", entry.key, limits.MAX_CACHE_KEY_LENGTH, required=True)
            violations.check(
                len(entry.value) <= limits.MAX_CACHE_VALUE_BYTES,
                f"entries[{index}].value",
                f"must be at most {limits.MAX_CACHE_VALUE_BYTES} bytes",
            )
        violations.raise_if_any()
        if not request.entries:
            return control_pb2.StoreCacheEntriesResponse()
        with storage_errors():
            stored = await self._storage.store_cache_entries(
                session_id, [(entry.key, entry.value) for entry in request.entries], tenant=current_tenant.get()
            )
        return control_pb2.StoreCacheEntriesResponse(stored_count=stored)

    # Leases

    def _lease_request(
        self,
        request: control_pb2.AcquireLeaseRequest | control_pb2.RenewLeaseRequest,
    ) -> tuple[str, str, timedelta]:
        session_id = session_id_from_name("session", request.session)
        violations = Violations()
        check_token(violations, "holder", request.holder, limits.MAX_HOLDER_LENGTH, required=True)
        violations.raise_if_any()
        return session_id, request.holder, lease_ttl("ttl", request.HasField("ttl"), request.ttl)

    async def AcquireLease(
        self, request: control_pb2.AcquireLeaseRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.Lease:
        session_id, holder, ttl = self._lease_request(request)
        with storage_errors():
            return lease_message(
                await self._storage.acquire_lease(session_id, holder, ttl, tenant=current_tenant.get())
            )

    async def RenewLease(
        self, request: control_pb2.RenewLeaseRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.Lease:
        session_id, holder, ttl = self._lease_request(request)
        with storage_errors():
            return lease_message(await self._storage.renew_lease(session_id, holder, ttl, tenant=current_tenant.get()))

    async def ReleaseLease(
        self, request: control_pb2.ReleaseLeaseRequest, context: grpc.aio.ServicerContext
    ) -> empty_pb2.Empty:
        session_id = session_id_from_name("session", request.session)
        violations = Violations()
        check_token(violations, "holder", request.holder, limits.MAX_HOLDER_LENGTH, required=True)
        violations.raise_if_any()
        with storage_errors():
            await self._storage.release_lease(session_id, request.holder, tenant=current_tenant.get())
        return empty_pb2.Empty()

    async def ListLeases(
        self, request: control_pb2.ListLeasesRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.ListLeasesResponse:
        limit = page_size("page_size", request.page_size, limits.DEFAULT_LEASE_PAGE_SIZE)
        query = {"expired_only": request.expired_only}
        after = decode_page_token(request.page_token, query, str)
        with storage_errors():
            page = await self._storage.list_leases(expired_only=request.expired_only, limit=limit, after=after)
        return control_pb2.ListLeasesResponse(
            leases=[lease_message(record) for record in page.items],
            next_page_token=encode_page_token(page.next_cursor, query),
        )

    # Remembered responses

    async def RememberResponse(
        self, request: control_pb2.RememberResponseRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.RememberedResponse:
        session_id = session_id_from_name("parent", request.parent)
        violations = Violations()
        if violations.check(bool(request.remembered_response_id), "remembered_response_id", "is required"):
            violations.check(
                is_response_id(request.remembered_response_id), "remembered_response_id", f"must be {RESPONSE_ID_RULE}"
            )
        remembered = request.remembered_response
        if not request.HasField("remembered_response"):
            violations.add("remembered_response", "is required")
        else:
            violations.check(
                bool(_SHA256_HEX.fullmatch(remembered.request_sha256)),
                "remembered_response.request_sha256",
                "must be 64 lowercase hexadecimal digits",
            )
        payload = control_pb2.RememberedResponse(responses=remembered.responses).SerializeToString(deterministic=True)
        violations.check(
            len(payload) <= limits.MAX_REMEMBERED_RESPONSE_BYTES,
            "remembered_response.responses",
            f"are {len(payload)} bytes; at most {limits.MAX_REMEMBERED_RESPONSE_BYTES}",
        )
        violations.raise_if_any()
        stored = await asyncio.to_thread(encode_payload, payload)
        new = NewRememberedResponse(request.remembered_response_id, remembered.request_sha256, stored)
        with storage_errors():
            record = await self._storage.remember_response(session_id, new, tenant=current_tenant.get())
            if record.payload.sha256 != stored.sha256:  # an earlier answer won: it is returned as stored
                payload = await asyncio.to_thread(decode_payload, record.payload)
        return remembered_response_message(record, payload)

    async def GetRememberedResponse(
        self, request: control_pb2.GetRememberedResponseRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.RememberedResponse:
        session_id, response_id = remembered_response_ids_of(request.name, "name")
        with storage_errors():
            record = await self._storage.get_remembered_response(session_id, response_id, tenant=current_tenant.get())
            payload = await asyncio.to_thread(decode_payload, record.payload)
        return remembered_response_message(record, payload)
