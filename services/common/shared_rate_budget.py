"""The rate budget of a model endpoint shared by every replica of every service, through control.

A process asks control for a grant (an allowance of calls and tokens it may spend for `grant_ttl_s`),
spends it locally call by call, and settles it with its next ask, or after a short idle time, so what it
did not spend returns to the others. The rules (fairness between tenants, what a crashed replica's grant
costs, pauses) live with control's ledger: `services/control/rate_ledger.py`. The grant's time to live is
counted from before the ask, so this process stops spending no later than control assumes. A process
holds one grant per tenant whose calls it makes (asked for in that tenant's name), so control's
fairness between tenants sees each tenant's own demand.

A 429 with Retry-After pauses this process at once and, through control, every other replica at its
next ask. While control cannot be reached (and for good with a control that does not know the rate
RPCs) this process keeps to a budget of its own with the same limits, as it did before budgets were
shared.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc
import structlog
from google.protobuf import duration_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2

from services.common.control_client import ControlClient
from services.llm.budget import RateBudget
from services.runtime.config import LLMSettings
from services.runtime.context import current_tenant

log = structlog.get_logger(__name__)

IDLE_SETTLE_S = 0.25
"""A grant left unused this long is settled, so its unspent part returns to the other replicas."""
CONTROL_RETRY_S = 5.0
"""After control failed to answer, calls keep to this process's own budget for this long, then ask again."""
FLUSH_AFTER_S = 0.01
"""Settlements of answered grants wait this long for an ask to take them along before they go alone."""
TTL_MARGIN = 0.9
"""Share of the grant's time to live this process spends it (its clock may run a little fast)."""


def endpoint_id(settings: LLMSettings) -> str:
    """The budget's key: one per provider, endpoint and model (never the key itself)."""
    where = "|".join([settings.provider, settings.azure_endpoint or "", settings.base_url or "", settings.model])
    return hashlib.sha256(where.encode()).hexdigest()[:32]


def holder_id() -> str:
    """This process, unique among the replicas."""
    return f"{socket.gethostname()[:64]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _duration(seconds: float) -> duration_pb2.Duration:
    value = duration_pb2.Duration()
    value.FromNanoseconds(int(max(0.0, seconds) * 1e9))
    return value


@dataclass
class _Held:
    """The grant this process spends now."""

    grant_id: str
    requests_left: int
    tokens_left: int
    spend_until: float
    spent_requests: int = 0
    spent_tokens: int = 0
    in_flight: int = 0
    retired: bool = False
    """No longer spent; settled once its calls in flight are answered."""

    def fits(self, tokens: int, now: float, tokens_limited: bool) -> bool:
        return now < self.spend_until and self.requests_left >= 1 and (not tokens_limited or self.tokens_left >= tokens)

    def usage(self) -> control_pb2.RateGrantUsage:
        return control_pb2.RateGrantUsage(
            grant_id=self.grant_id, requests=self.spent_requests, tokens=max(0, self.spent_tokens)
        )


@dataclass(eq=False)
class _TenantShare:
    """What this process holds and awaits for one tenant."""

    name: str
    held: _Held | None = None
    waiting: int = 0
    last_spend: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class SpentCall:
    """One call admitted under a grant; `settle` (once, when its answer came or it failed) corrects its
    token estimate with the real usage."""

    def __init__(self, budget: SharedRateBudget | None, held: _Held | None, estimate: int) -> None:
        self._budget = budget
        self._held = held
        self._estimate = estimate
        self.settled = False

    def settle(self, actual_tokens: int | None = None) -> None:
        if self.settled:
            return
        self.settled = True
        if self._held is None or self._budget is None:
            return
        if actual_tokens is not None:
            self._held.spent_tokens += actual_tokens - self._estimate
        self._held.in_flight -= 1
        if self._held.retired and self._held.in_flight == 0:
            self._budget._settle_later(self._held)


class SharedRateBudget:
    """`requests_per_window` calls and `tokens_per_window` tokens per `window_s` for the whole endpoint."""

    def __init__(
        self,
        control: ControlClient,
        endpoint: str,
        *,
        requests_per_window: float,
        tokens_per_window: float,
        window_s: float,
        grant_ttl_s: float = 2.0,
        grant_fraction: float = 0.05,
        holder: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._control = control
        self.endpoint = endpoint
        self.holder = holder or holder_id()
        self._requests_per_window = max(0.0, requests_per_window)
        self._tokens_per_window = max(0.0, tokens_per_window)
        self._window_s = window_s
        self._ttl_s = grant_ttl_s
        self._grant_size = max(1, int(self._requests_per_window * grant_fraction)) if requests_per_window > 0 else 1000
        self._clock = clock
        self._tenants: dict[str, _TenantShare] = {}
        self._unsettled: list[control_pb2.RateGrantUsage] = []
        self._paused_until = 0.0
        self._idle_task: asyncio.Task[None] | None = None
        self._flush_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._local: RateBudget | None = None
        self._own = RateBudget(self._requests_per_window, self._tokens_per_window, window_s)
        self._own_until = 0.0
        self.grants_received = 0

    @classmethod
    def for_settings(cls, control: ControlClient, settings: LLMSettings) -> SharedRateBudget:
        return cls(
            control,
            endpoint_id(settings),
            requests_per_window=settings.requests_per_minute,
            tokens_per_window=settings.tokens_per_minute,
            window_s=settings.budget_window_s,
            grant_ttl_s=settings.grant_ttl_s,
            grant_fraction=settings.grant_fraction,
        )

    @property
    def _unlimited(self) -> bool:
        return self._requests_per_window <= 0 and self._tokens_per_window <= 0

    async def acquire(self, estimated_tokens: int) -> SpentCall:
        """Waits until this process holds room for one more call of `estimated_tokens` for the caller's
        tenant, then spends it. Waiters of one tenant are admitted in arrival order; tenants do not wait
        for each other here (control shares the budget between them)."""
        if self._unlimited:
            return SpentCall(None, None, estimated_tokens)
        if self._local is not None:
            return await self._local.acquire(estimated_tokens)  # type: ignore[return-value]
        tenant = self._tenant(current_tenant.get())
        tenant.waiting += 1
        try:
            async with tenant.lock:
                while True:
                    if self._local is not None:
                        return await self._local.acquire(estimated_tokens)  # type: ignore[return-value]
                    now = self._clock()
                    if now < self._own_until:
                        return await self._own.acquire(estimated_tokens)  # type: ignore[return-value]
                    if now < self._paused_until:
                        await asyncio.sleep(self._paused_until - now)
                        continue
                    held = tenant.held
                    if held is not None and held.fits(estimated_tokens, now, self._tokens_per_window > 0):
                        return self._spend(tenant, held, estimated_tokens)
                    await self._ask(tenant, estimated_tokens)
        finally:
            tenant.waiting -= 1

    def try_acquire(self, estimated_tokens: int) -> SpentCall | None:
        """Spends room this process holds already for the caller's tenant, if any and nobody of the
        tenant waits; never asks control."""
        if self._unlimited:
            return SpentCall(None, None, estimated_tokens)
        if self._local is not None:
            return self._local.try_acquire(estimated_tokens)  # type: ignore[return-value]
        now = self._clock()
        if now < self._own_until:
            return self._own.try_acquire(estimated_tokens)  # type: ignore[return-value]
        tenant = self._tenant(current_tenant.get())
        held = tenant.held
        if tenant.lock.locked() or now < self._paused_until or held is None:
            return None
        if not held.fits(estimated_tokens, now, self._tokens_per_window > 0):
            return None
        return self._spend(tenant, held, estimated_tokens)

    def _tenant(self, name: str) -> _TenantShare:
        share = self._tenants.get(name)
        if share is None:
            share = self._tenants[name] = _TenantShare(name)
        return share

    def pause(self, seconds: float) -> None:
        """The endpoint answered 429 with Retry-After: this process stops now, the others at their next ask."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)
        self._own.pause(seconds)
        if self._local is not None:
            return
        self._start(self._report_pause(seconds))

    async def aclose(self) -> None:
        """Settles what this process holds, so its unspent share returns at once."""
        for task in (self._idle_task, self._flush_task):
            if task is not None:
                task.cancel()
        for task in list(self._background):
            task.cancel()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2.0):
                await self._settle_all()

    # -- internals ----------------------------------------------------------------------------------

    def _spend(self, tenant: _TenantShare, held: _Held, estimated_tokens: int) -> SpentCall:
        held.requests_left -= 1
        held.tokens_left -= estimated_tokens
        held.spent_requests += 1
        held.spent_tokens += estimated_tokens
        held.in_flight += 1
        tenant.last_spend = self._clock()
        if self._idle_task is None or self._idle_task.done():
            self._idle_task = asyncio.get_running_loop().create_task(self._settle_when_idle())
        return SpentCall(self, held, estimated_tokens)

    def _release_held(self, tenant: _TenantShare) -> None:
        """Stops spending the tenant's grant: settled with the next call to control once its calls are
        answered (so its calls count until a window after their answers, as with the process budget)."""
        held, tenant.held = tenant.held, None
        if held is None:
            return
        held.retired = True
        if held.in_flight == 0:
            self._unsettled.append(held.usage())

    def _settle_later(self, held: _Held) -> None:
        """A retired grant's last call was answered: its settlement goes with the next ask, or soon."""
        self._unsettled.append(held.usage())
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = asyncio.get_running_loop().create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(FLUSH_AFTER_S)
        if not self._unsettled:
            return  # an ask took them along
        try:
            await self._send_settlements()
        except grpc.aio.AioRpcError as error:
            log.warning("rate_grant_settle_failed", endpoint=self.endpoint, code=error.code().name)

    async def _ask(self, tenant: _TenantShare, estimated_tokens: int) -> None:
        """Settles the tenant's grant and asks for a new one for it; when refused, waits as control says."""
        self._release_held(tenant)
        wanted = max(1, min(tenant.waiting, self._grant_size))
        started = self._clock()
        request = control_pb2.AcquireRateGrantRequest(
            endpoint=self.endpoint,
            holder=self.holder,
            requests=wanted,
            tokens=wanted * estimated_tokens if self._tokens_per_window > 0 else 0,
            requests_per_window=self._requests_per_window,
            tokens_per_window=self._tokens_per_window,
            window=_duration(self._window_s),
            ttl=_duration(self._ttl_s),
            settlements=self._take_settlements(),
        )
        token = current_tenant.set(tenant.name)  # control gives the grant to this tenant
        try:
            grant = await self._control.acquire_rate_grant(request)
        except grpc.aio.AioRpcError as error:
            self._unsettled.extend(request.settlements)
            if error.code() == grpc.StatusCode.UNIMPLEMENTED:
                log.warning("shared_rate_budget_unavailable", endpoint=self.endpoint, fallback="process budget")
                self._local = self._own
                return
            log.warning(
                "rate_grant_failed", endpoint=self.endpoint, code=error.code().name, own_budget_s=CONTROL_RETRY_S
            )
            self._own_until = self._clock() + CONTROL_RETRY_S
            return
        finally:
            current_tenant.reset(token)
        paused_for = grant.paused_for.ToTimedelta().total_seconds()
        if paused_for > 0:
            self._paused_until = max(self._paused_until, started + paused_for)
        if grant.requests > 0:
            self.grants_received += 1
            ttl_s = grant.ttl.ToTimedelta().total_seconds()
            tenant.held = _Held(grant.grant_id, grant.requests, grant.tokens, started + ttl_s * TTL_MARGIN)
            return
        await asyncio.sleep(max(grant.retry_after.ToTimedelta().total_seconds(), 0.01))

    async def _settle_all(self) -> None:
        for tenant in self._tenants.values():
            self._release_held(tenant)
        await self._send_settlements()

    async def _send_settlements(self) -> None:
        if not self._unsettled:
            return
        request = control_pb2.AcquireRateGrantRequest(
            endpoint=self.endpoint,
            holder=self.holder,
            requests=0,
            window=_duration(self._window_s),
            ttl=_duration(self._ttl_s),
            settlements=self._take_settlements(),
        )
        try:
            await self._control.acquire_rate_grant(request)
        except grpc.aio.AioRpcError:
            self._unsettled.extend(request.settlements)
            raise

    def _take_settlements(self) -> list[control_pb2.RateGrantUsage]:
        """Up to 100 settlements to send (control takes no more per call), taken off the list."""
        taken, self._unsettled = self._unsettled[:100], self._unsettled[100:]
        return taken

    async def _settle_when_idle(self) -> None:
        """Settles each tenant's grant once no call has spent it for `IDLE_SETTLE_S` and none of the
        tenant's calls waits."""
        while any(tenant.held is not None for tenant in self._tenants.values()):
            now = self._clock()
            idle = [
                tenant
                for tenant in self._tenants.values()
                if tenant.held is not None
                and now - tenant.last_spend >= IDLE_SETTLE_S
                and not tenant.waiting
                and not tenant.lock.locked()
            ]
            for tenant in idle:
                self._release_held(tenant)
            if idle:
                try:
                    await self._send_settlements()
                except grpc.aio.AioRpcError as error:
                    log.warning("rate_grant_settle_failed", endpoint=self.endpoint, code=error.code().name)
            await asyncio.sleep(IDLE_SETTLE_S / 2)

    async def _report_pause(self, seconds: float) -> None:
        try:
            await self._control.pause_rate_budget(self.endpoint, seconds)
        except grpc.aio.AioRpcError as error:
            log.warning("rate_pause_report_failed", endpoint=self.endpoint, code=error.code().name)

    def _start(self, work) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
