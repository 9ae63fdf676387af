"""Claiming studies whose runner died: expired leases of active study sessions, at start-up and then
periodically. A claimed study resumes from its last checkpoint."""

from __future__ import annotations

import asyncio

import grpc
import structlog
from tinytroupe_mesh_api.control.v1 import control_pb2

from services.common.control_client import ControlClient
from services.common.names import last_segment
from services.orchestrator.operation_view import is_run
from services.orchestrator.registry import StudyRegistry
from services.orchestrator.settings import StudySettings
from services.runtime.context import current_tenant

log = structlog.get_logger("recovery")
Session = control_pb2.Session


class Recovery:
    def __init__(
        self,
        control: ControlClient,
        registry: StudyRegistry,
        settings: StudySettings,
    ):
        self.control = control
        self.registry = registry
        self.settings = settings

    async def claim_expired(self) -> list[str]:
        """Claims every study with an expired lease that no one else claimed first; returns their sessions."""
        claimed = []
        page_token = ""
        while True:
            page = await self.control.stub.ListLeases(
                control_pb2.ListLeasesRequest(expired_only=True, page_size=1000, page_token=page_token)
            )
            for lease in page.leases:
                if await self._claim_as_tenant(lease):
                    claimed.append(lease.session)
            page_token = page.next_page_token
            if not page_token:
                return claimed

    async def _claim_as_tenant(self, lease: control_pb2.Lease) -> bool:
        """Claims the study acting for its tenant, whose context the study's runner then keeps."""
        token = current_tenant.set(lease.tenant)
        try:
            return await self._claim(lease.session)
        finally:
            current_tenant.reset(token)

    async def _claim(self, session_name: str) -> bool:
        if self.registry.get(last_segment(session_name)) is not None:
            return False
        try:
            session = await self.control.stub.GetSession(control_pb2.GetSessionRequest(name=session_name))
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return False
            raise
        if not is_run(session) or session.state != Session.STATE_ACTIVE:
            return False
        return await self.registry.claim(session, resumed=True) is not None

    async def run_forever(self) -> None:
        """Claims expired studies now and every `recovery_interval_s`; failures are logged and retried."""
        while True:
            try:
                if claimed := await self.claim_expired():
                    log.info("studies_claimed", sessions=claimed)
            except grpc.aio.AioRpcError as error:
                log.warning("recovery_failed", code=error.code().name, details=error.details())
            await asyncio.sleep(self.settings.recovery_interval_s)
