"""The ledger's client side: every model call's usage goes to control, where the call is made.

`UsageReporter` is the LLM client's usage sink. Calls finishing together are sent in one RecordUsage per
session (a call waits until its usage is recorded), and each answer says whether the session's budget is
spent, which the LLM client checks before its next model request for the session.
"""

from __future__ import annotations

import asyncio

import grpc
import structlog
from tinytroupe_mesh_api.control.v1 import control_pb2

from services.common.control_client import ControlClient
from services.common.usage import usage_message
from services.llm.accounting import TokenUsage, add_usage
from services.runtime.context import current_tenant

log = structlog.get_logger(__name__)

SESSIONS_KEPT = 10_000


class UsageReporter:
    """Reports model usage to control's ledger for one service; remembers sessions whose budget is spent."""

    def __init__(self, control: ControlClient, service: str) -> None:
        self.control = control
        self.service = service
        self._pending: dict[tuple[str, str], dict[tuple[str, str], TokenUsage]] = {}
        self._waiters: list[asyncio.Future[None]] = []
        self._flushing: asyncio.Task[None] | None = None
        self._exhausted: dict[str, bool] = {}
        """Whether each session seen lately has its budget spent, as control last said."""
        self._looking: dict[str, asyncio.Task[bool]] = {}

    async def exhausted(self, session: str) -> bool:
        """Whether the session's budget is spent: as the latest RecordUsage said, or, for a session this process
        has not reported yet, as its ledger says now."""
        known = self._exhausted.get(session)
        if known is not None:
            return known
        looking = self._looking.get(session)
        if looking is None:
            looking = self._looking[session] = asyncio.create_task(self._look_up(session))
            looking.add_done_callback(lambda _: self._looking.pop(session, None))
        return await asyncio.shield(looking)

    async def _look_up(self, session: str) -> bool:
        try:
            ledger = await self.control.stub.GetUsageLedger(
                control_pb2.GetUsageLedgerRequest(session=session, totals_only=True), timeout=self.control.timeout_s
            )
        except grpc.aio.AioRpcError as error:
            log.warning("usage_ledger_unreadable", session=session, code=error.code().name)
            return False
        self._remember(session, ledger.budget_exhausted)
        return ledger.budget_exhausted

    def _remember(self, session: str, exhausted: bool) -> None:
        self._exhausted.pop(session, None)
        self._exhausted[session] = exhausted
        while len(self._exhausted) > SESSIONS_KEPT:
            del self._exhausted[next(iter(self._exhausted))]

    async def record(self, session: str, model: str, agent: str, usage: TokenUsage) -> None:
        """Adds `usage` to the next RecordUsage of `session`; returns once control has it (or refused it)."""
        by_key = self._pending.setdefault((current_tenant.get(), session), {})
        add_usage(by_key.setdefault((model, agent), TokenUsage()), usage)
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())
        await asyncio.shield(waiter)

    async def _flush(self) -> None:
        while self._pending:
            pending, self._pending = self._pending, {}
            waiters, self._waiters = self._waiters, []
            try:
                await asyncio.gather(
                    *(self._send(tenant, session, entries) for (tenant, session), entries in pending.items())
                )
            finally:
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(None)

    async def _send(self, tenant: str, session: str, entries: dict[tuple[str, str], TokenUsage]) -> None:
        current_tenant.set(tenant)  # this task's own context: control scopes the session by it
        request = control_pb2.RecordUsageRequest(
            session=session,
            entries=[
                control_pb2.UsageEntry(service=self.service, model=model, agent=agent, usage=usage_message(usage))
                for (model, agent), usage in entries.items()
            ],
        )
        try:
            response = await self.control.stub.RecordUsage(request, timeout=self.control.timeout_s)
        except grpc.aio.AioRpcError as error:
            log.warning("usage_not_recorded", session=session, code=error.code().name, details=error.details())
            return
        self._remember(session, response.budget_exhausted)
