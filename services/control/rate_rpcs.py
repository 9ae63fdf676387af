"""AcquireRateGrant and PauseRateBudget: the shared rate budget of each model endpoint (rules in
`services/control/rate_ledger.py`)."""

from __future__ import annotations

from datetime import timedelta

import grpc
from google.protobuf import duration_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2

from services.control import rate_ledger
from services.control.storage.base import Storage
from services.control.validation import Violations, check_token
from services.runtime.context import current_tenant

MAX_NAME_LENGTH = 128
MAX_SETTLEMENTS = 100
MAX_REQUESTS = 1_000_000
MAX_TOKENS = 10**12
WINDOW_RANGE = (timedelta(seconds=0.1), timedelta(hours=1))
TTL_RANGE = (timedelta(milliseconds=10), timedelta(minutes=1))
RETRY_AFTER_RANGE = (timedelta(0), timedelta(hours=1))


def _duration(seconds: float) -> duration_pb2.Duration:
    value = duration_pb2.Duration()
    value.FromNanoseconds(int(max(0.0, seconds) * 1e9))
    return value


def _seconds(
    violations: Violations, field: str, present: bool, value: duration_pb2.Duration, bounds: tuple[timedelta, timedelta]
) -> float:
    if not present:
        violations.add(field, "is required")
        return 0.0
    low, high = bounds
    valid = value.seconds >= 0 and 0 <= value.nanos < 1_000_000_000 and value.seconds <= high.total_seconds()
    if not valid or not low <= value.ToTimedelta() <= high:
        violations.add(field, f"must be {low.total_seconds():g} s to {high.total_seconds():g} s")
        return 0.0
    return value.ToTimedelta().total_seconds()


def _range(violations: Violations, field: str, value: float, high: float) -> None:
    violations.check(0 <= value <= high, field, f"must be 0 to {high:g}")


class RateBudgetRpcs:
    """The rate budget's RPCs of the control servicer (which provides `_storage`)."""

    _storage: Storage

    async def AcquireRateGrant(
        self, request: control_pb2.AcquireRateGrantRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.RateGrant:
        violations = Violations()
        check_token(violations, "endpoint", request.endpoint, MAX_NAME_LENGTH, required=True)
        check_token(violations, "holder", request.holder, MAX_NAME_LENGTH, required=True)
        _range(violations, "requests", request.requests, MAX_REQUESTS)
        _range(violations, "tokens", request.tokens, MAX_TOKENS)
        _range(violations, "requests_per_window", request.requests_per_window, MAX_REQUESTS)
        _range(violations, "tokens_per_window", request.tokens_per_window, MAX_TOKENS)
        window_s = _seconds(violations, "window", request.HasField("window"), request.window, WINDOW_RANGE)
        ttl_s = _seconds(violations, "ttl", request.HasField("ttl"), request.ttl, TTL_RANGE)
        violations.check(
            len(request.settlements) <= MAX_SETTLEMENTS, "settlements", f"must be at most {MAX_SETTLEMENTS}"
        )
        for index, usage in enumerate(request.settlements):
            _range(violations, f"settlements[{index}].requests", usage.requests, MAX_REQUESTS)
            _range(violations, f"settlements[{index}].tokens", usage.tokens, MAX_TOKENS)
        violations.raise_if_any()
        ask = rate_ledger.Ask(
            holder=request.holder,
            tenant=current_tenant.get(),
            requests=request.requests,
            tokens=request.tokens,
            ttl_s=ttl_s,
            limits=rate_ledger.Limits(request.requests_per_window, request.tokens_per_window, window_s),
            settlements=tuple(rate_ledger.Usage(u.grant_id, u.requests, u.tokens) for u in request.settlements),
        )

        def change(state: dict | None, now: float) -> tuple[dict, rate_ledger.Decision]:
            ledger = rate_ledger.Ledger.from_json(state)
            decision = rate_ledger.decide(ledger, ask, now)
            return ledger.to_json(), decision

        decision = await self._storage.update_rate_ledger(request.endpoint, change)
        return control_pb2.RateGrant(
            grant_id=decision.grant_id,
            requests=decision.requests,
            tokens=decision.tokens,
            ttl=_duration(decision.ttl_s),
            retry_after=_duration(decision.retry_after_s),
            paused_for=_duration(decision.paused_for_s),
        )

    async def PauseRateBudget(
        self, request: control_pb2.PauseRateBudgetRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.RateBudgetPause:
        violations = Violations()
        check_token(violations, "endpoint", request.endpoint, MAX_NAME_LENGTH, required=True)
        retry_after_s = _seconds(
            violations, "retry_after", request.HasField("retry_after"), request.retry_after, RETRY_AFTER_RANGE
        )
        violations.raise_if_any()

        def change(state: dict | None, now: float) -> tuple[dict, float]:
            ledger = rate_ledger.Ledger.from_json(state)
            paused_for = rate_ledger.pause(ledger, retry_after_s, now)
            return ledger.to_json(), paused_for

        paused_for = await self._storage.update_rate_ledger(request.endpoint, change)
        return control_pb2.RateBudgetPause(paused_for=_duration(paused_for))
