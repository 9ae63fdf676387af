"""A study's lease in control: who runs it. Renewed in the background; losing it stops the runner."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import grpc
import structlog
from google.protobuf import duration_pb2
from tinytroupe.control.v1 import control_pb2, control_pb2_grpc

from services.orchestrator.rpc_errors import has_reason

log = structlog.get_logger("lease")

LEASE_HELD = "LEASE_HELD"
LEASE_LOST = "LEASE_LOST"
RENEW_CALL_TIMEOUT_FRACTION = 0.3


class LeaseHeld(Exception):
    """Another replica holds the study's lease."""


class StudyLease:
    """The lease of one study's session, held by this replica."""

    def __init__(
        self, control: control_pb2_grpc.SimulationControlServiceStub, session: str, holder: str, ttl_s: float
    ):
        self.control = control
        self.session = session
        self.holder = holder
        self.ttl_s = ttl_s

    def _ttl(self) -> duration_pb2.Duration:
        ttl = duration_pb2.Duration()
        ttl.FromNanoseconds(int(self.ttl_s * 1e9))
        return ttl

    async def acquire(self) -> control_pb2.Lease:
        """Takes the lease (a free or expired one); LeaseHeld when another holder's is live."""
        try:
            return await self.control.AcquireLease(
                control_pb2.AcquireLeaseRequest(session=self.session, holder=self.holder, ttl=self._ttl())
            )
        except grpc.aio.AioRpcError as error:
            if has_reason(error, grpc.StatusCode.FAILED_PRECONDITION, LEASE_HELD):
                raise LeaseHeld(error.details()) from None
            raise

    async def keep(self, on_lost: Callable[[str], None]) -> None:
        """Renews the lease every third of its TTL until cancelled. Calls `on_lost` with why and returns
        when the lease was taken over or the session is no longer active."""
        interval = self.ttl_s / 3
        while True:
            await asyncio.sleep(interval)
            try:
                await self.control.RenewLease(
                    control_pb2.RenewLeaseRequest(session=self.session, holder=self.holder, ttl=self._ttl()),
                    timeout=self.ttl_s * RENEW_CALL_TIMEOUT_FRACTION + 1,
                )
                session = await self.control.GetSession(
                    control_pb2.GetSessionRequest(name=self.session),
                    timeout=self.ttl_s * RENEW_CALL_TIMEOUT_FRACTION + 1,
                )
            except grpc.aio.AioRpcError as error:
                if has_reason(error, grpc.StatusCode.FAILED_PRECONDITION, LEASE_LOST):
                    on_lost("lease lost")
                    return
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
            await self.control.ReleaseLease(
                control_pb2.ReleaseLeaseRequest(session=self.session, holder=self.holder), timeout=5
            )
        except grpc.aio.AioRpcError as error:
            log.warning("lease_release_failed", session=self.session, code=error.code().name)
