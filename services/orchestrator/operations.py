"""google.longrunning.Operations for studies: `operations/{session}` over control's study sessions."""

from __future__ import annotations

import asyncio
import time

import grpc
from google.longrunning import operations_pb2, operations_pb2_grpc
from google.protobuf import empty_pb2
from google.rpc import code_pb2, status_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2

from services.common.control_client import ControlClient
from services.common.names import study_id_of
from services.orchestrator.checkpoints import StudyCheckpoints
from services.orchestrator.operation_view import OperationView
from services.orchestrator.registry import StudyRegistry
from services.orchestrator.runner import CANCELLED_REASON
from services.orchestrator.settings import StudySettings
from services.orchestrator.starting import EXPERIMENT, KIND_LABEL, STUDY
from services.runtime.errors import FailedPrecondition, InvalidArgument

Session = control_pb2.Session
MAX_PAGE_SIZE = 1000
DONE_FILTERS = {"done=false": False, "done=true": True}
KIND_FILTERS = {"kind=study": STUDY, "kind=experiment": EXPERIMENT}
FILTER_RULE = "must be empty, or terms joined by AND: done=true or done=false, kind=study or kind=experiment"


def parse_filter(text: str) -> tuple[bool | None, str]:
    """(wanted done state or None, kind) of an AIP-160 style filter such as `kind=experiment AND done=true`;
    the kind is `study` unless the filter names one."""
    done, kind = None, STUDY
    for term in filter(None, (term.replace(" ", "").lower() for term in text.replace(" and ", " AND ").split("AND"))):
        if term in DONE_FILTERS:
            done = DONE_FILTERS[term]
        elif term in KIND_FILTERS:
            kind = KIND_FILTERS[term]
        else:
            raise InvalidArgument("filter", f"{FILTER_RULE}; {term!r} is neither")
    return done, kind


class OperationsServicer(operations_pb2_grpc.OperationsServicer):
    def __init__(
        self,
        control: ControlClient,
        registry: StudyRegistry,
        view: OperationView,
        settings: StudySettings,
    ):
        self.control = control
        self.registry = registry
        self.view = view
        self.settings = settings

    async def GetOperation(
        self, request: operations_pb2.GetOperationRequest, context: grpc.aio.ServicerContext
    ) -> operations_pb2.Operation:
        return await self.view.operation(await self.view.study_session(study_id_of(request.name)))

    async def ListOperations(
        self, request: operations_pb2.ListOperationsRequest, context: grpc.aio.ServicerContext
    ) -> operations_pb2.ListOperationsResponse:
        """Studies (or, with `kind=experiment`, experiments), newest first; `done=true` or `done=false`
        keeps the finished or the running ones."""
        wanted_done, kind = parse_filter(request.filter)
        if not 0 <= request.page_size <= MAX_PAGE_SIZE:
            raise InvalidArgument("page_size", f"must be 0 to {MAX_PAGE_SIZE}")
        page = await self.control.stub.ListSessions(
            control_pb2.ListSessionsRequest(
                page_size=request.page_size,
                page_token=request.page_token,
                state=Session.STATE_ACTIVE if wanted_done is False else Session.STATE_UNSPECIFIED,
                labels={KIND_LABEL: kind},
            )
        )
        sessions = [
            session
            for session in page.sessions
            if wanted_done is None or (session.state != Session.STATE_ACTIVE) == wanted_done
        ]
        operations = await asyncio.gather(*(self.view.operation(session) for session in sessions))
        return operations_pb2.ListOperationsResponse(operations=operations, next_page_token=page.next_page_token)

    async def WaitOperation(
        self, request: operations_pb2.WaitOperationRequest, context: grpc.aio.ServicerContext
    ) -> operations_pb2.Operation:
        """Waits until the study is done, the timeout passes (default `max_wait_s`) or the deadline nears."""
        session_id = study_id_of(request.name)
        session = await self.view.study_session(session_id)
        timeout = (
            request.timeout.ToTimedelta().total_seconds() if request.HasField("timeout") else self.settings.max_wait_s
        )
        if (remaining := context.time_remaining()) is not None:
            timeout = min(timeout, max(remaining - 0.5, 0.0))
        deadline = time.monotonic() + timeout
        while session.state == Session.STATE_ACTIVE and (left := deadline - time.monotonic()) > 0:
            runner = self.registry.get(session_id)
            if runner is not None and runner.task is not None:
                await asyncio.wait({runner.task}, timeout=left)
            else:
                await asyncio.sleep(min(self.settings.watch_poll_interval_s, left))
            session = await self.view.study_session(session_id)
        return await self.view.operation(session)

    async def CancelOperation(
        self, request: operations_pb2.CancelOperationRequest, context: grpc.aio.ServicerContext
    ) -> empty_pb2.Empty:
        """Stops the study's model calls and ends its session as FAILED, reason `cancelled`."""
        session_id = study_id_of(request.name)
        session = await self.view.study_session(session_id)
        if session.state != Session.STATE_ACTIVE or await self.registry.cancel(session_id):
            return empty_pb2.Empty()
        # Run by another replica: end the session here; that replica's lease keeper sees it and stops.
        await StudyCheckpoints(self.control, session.name).store_failure(
            status_pb2.Status(code=code_pb2.CANCELLED, message=CANCELLED_REASON)
        )
        await self.control.stub.EndSession(
            control_pb2.EndSessionRequest(name=session.name, final_state=Session.STATE_FAILED, reason=CANCELLED_REASON)
        )
        return empty_pb2.Empty()

    async def DeleteOperation(
        self, request: operations_pb2.DeleteOperationRequest, context: grpc.aio.ServicerContext
    ) -> empty_pb2.Empty:
        """Deletes a finished study's session and checkpoints; a running study must be cancelled first."""
        session = await self.view.study_session(study_id_of(request.name))
        if session.state == Session.STATE_ACTIVE:
            raise FailedPrecondition(
                "OPERATION_RUNNING", "the study is still running; cancel it first", subject=request.name
            )
        await self.control.stub.DeleteSession(control_pb2.DeleteSessionRequest(name=session.name))
        return empty_pb2.Empty()
