"""A study's lease in control: who runs it. Renewed in the background; losing it stops the runner."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import grpc
import structlog
from tinytroupe_mesh_api.control.v1 import control_pb2

from services.common.control_client import ControlClient, LeaseHeld, LeaseLost

log = structlog.get_logger("lease")

RENEW_CALL_TIMEOUT_FRACTION = 0.3

__all__ = ["LeaseHeld", "StudyLease"]


class StudyLease:
    """The lease of one study's session, held by this replica."""

    def __init__(self, control: ControlClient, session: str, holder: str, ttl_s: float):
        self.control = control
        self.session = session
        self.holder = holder
        self.ttl_s = ttl_s

    async def acquire(self) -> control_pb2.Lease:
        """Takes the lease (a free or expired one); LeaseHeld when another holder's is live."""
        return await self.control.acquire_lease(self.session, self.holder, self.ttl_s)

    async def keep(self, on_lost: Callable[[str], None]) -> None:
        """Renews the lease every third of its TTL until cancelled. Calls `on_lost` with why and returns
        when the lease was taken over or the session is no longer active."""
        interval = self.ttl_s / 3
        call_timeout_s = self.ttl_s * RENEW_CALL_TIMEOUT_FRACTION + 1
        while True:
            await asyncio.sleep(interval)
            try:
                await self.control.renew_lease(self.session, self.holder, self.ttl_s, call_timeout_s)
                session = await self.control.get_session(self.session, call_timeout_s)
            except LeaseLost:
                on_lost("lease lost")
                return
            except grpc.aio.AioRpcError as error:
                if error.code() == grpc.StatusCode.NOT_FOUND:
                    on_lost("session deleted")
                    return
                log.warning("lease_renewal_failed", session=self.session, code=error.code().name)
                continue
            if session.state != control_pb2.Session.STATE_ACTIVE:
                on_lost("session ended elsewhere")
                return

    async def release(self) -> None:
        try:
            await self.control.release_lease(self.session, self.holder)
        except grpc.aio.AioRpcError as error:
            log.warning("lease_release_failed", session=self.session, code=error.code().name)
