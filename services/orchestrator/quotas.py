"""Per-tenant quotas on studies: how fast a tenant may start them, and how many may run at once.

The creation rate is a token bucket per tenant held by each replica (so N replicas admit up to N times
the rate). The concurrency limit counts the tenant's running study sessions in control, which every
replica shares; a per-tenant lock makes the count and the start of a study one step on this replica.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from google.protobuf import duration_pb2
from google.rpc import error_details_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2

from services.common.control_client import ControlClient
from services.orchestrator.settings import StudySettings
from services.orchestrator.starting import KIND_LABEL, STUDY
from services.runtime.errors import ResourceExhausted

Session = control_pb2.Session


class QuotaExceeded(ResourceExhausted):
    """RESOURCE_EXHAUSTED with a QuotaFailure naming the quota and, for rates, when to retry."""

    def __init__(self, quota: str, description: str, retry_after_s: float | None = None):
        super().__init__("QUOTA_EXCEEDED", description)
        self.metadata = {"quota": quota}
        self.quota = quota
        self.retry_after_s = retry_after_s

    def details(self) -> list[object]:
        details: list[object] = [
            error_details_pb2.QuotaFailure(
                violations=[error_details_pb2.QuotaFailure.Violation(subject=self.quota, description=self.message)]
            )
        ]
        if self.retry_after_s is not None:
            delay = duration_pb2.Duration()
            delay.FromMilliseconds(math.ceil(self.retry_after_s * 1000))
            details.append(error_details_pb2.RetryInfo(retry_delay=delay))
        return details


class TokenBucket:
    """`rate_per_minute` tokens a minute, at most `burst` saved up."""

    def __init__(self, rate_per_minute: float, burst: int, clock=time.monotonic):
        self.rate_per_s = rate_per_minute / 60.0
        self.burst = burst
        self.clock = clock
        self.tokens = float(burst)
        self.updated = clock()

    def take(self) -> float:
        """Takes a token and returns 0, or returns how many seconds until one is there (taking none)."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate_per_s)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate_per_s


class StudyQuotas:
    def __init__(self, control: ControlClient, settings: StudySettings):
        self.control = control
        self.settings = settings
        self._buckets: dict[str, TokenBucket] = {}
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    def take_creation_token(self, tenant: str) -> None:
        """Raises QuotaExceeded (with when to retry) when the tenant starts studies too fast."""
        rate = self.settings.creation_rate_per_minute
        if rate <= 0:
            return
        bucket = self._buckets.get(tenant)
        if bucket is None:
            bucket = self._buckets[tenant] = TokenBucket(rate, max(1, self.settings.creation_burst))
        if (wait_s := bucket.take()) > 0:
            raise QuotaExceeded(
                "studies_per_minute",
                f"at most {_studies(rate, 'new study', 'new studies')} a minute (bursts of {bucket.burst}); "
                f"retry in {wait_s:.1f} s",
                retry_after_s=wait_s,
            )

    @asynccontextmanager
    async def admitting(self, tenant: str) -> AsyncIterator[None]:
        """Serialises this replica's admissions of the tenant's studies, so that checks and starts don't race."""
        async with self._locks[tenant]:
            yield

    async def check_running(self, tenant: str, admitted: Session) -> None:
        """Raises QuotaExceeded when the tenant already runs its maximum of studies besides `admitted`."""
        limit = self.settings.max_running_per_tenant
        if limit <= 0:
            return
        page = await self.control.stub.ListSessions(
            control_pb2.ListSessionsRequest(state=Session.STATE_ACTIVE, labels={KIND_LABEL: STUDY}, page_size=limit + 1)
        )
        others = [session for session in page.sessions if session.name != admitted.name]
        if len(others) >= limit:
            raise QuotaExceeded(
                "running_studies",
                f"{'this tenant' if tenant else 'the mesh'} already runs {_studies(limit)}, the most at once; "
                "wait for one to finish or cancel one",
            )


def _studies(count: float, one: str = "study", many: str = "studies") -> str:
    """`1 study`, `2 studies`, `0.5 studies`."""
    return f"{count:g} {one if count == 1 else many}"
