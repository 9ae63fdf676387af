"""A study's spend: its budget set in control's ledger, its usage read back from it (every service's calls,
counted where they were made), and the tenant's daily and monthly budgets checked before a study starts."""

from __future__ import annotations

import asyncio
import math

import grpc
import structlog
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.common.control_client import ControlClient
from services.common.usage import sum_usage, total_tokens
from services.orchestrator import estimate
from services.orchestrator.quotas import QuotaExceeded
from services.orchestrator.settings import StudySettings
from services.runtime.context import current_tenant
from services.runtime.errors import InvalidArgument

log = structlog.get_logger("spend")

PHASE_OF_SERVICE = {
    "population": "creating_agents",
    "content": "creating_agents",
    "simulation": "simulating",
    "extraction": "extracting",
}
"""The phase a service's calls belong to (population's validations of agents are part of making them)."""


async def set_budget(control: ControlClient, session: str, max_cost: float, max_tokens: int) -> None:
    """Sets the session's budget in the ledger, where every service's LLM client sees it spent."""
    if max_cost > 0 or max_tokens > 0:
        await control.stub.SetUsageBudget(
            control_pb2.SetUsageBudgetRequest(session=session, max_cost=max_cost, max_tokens=max_tokens),
            timeout=control.timeout_s,
        )


async def read_ledger(
    control: ControlClient, session: str, *, totals_only: bool = False
) -> control_pb2.UsageLedger | None:
    """The session's ledger; None when control cannot say (the spend is then unknown, not 0)."""
    try:
        return await control.stub.GetUsageLedger(
            control_pb2.GetUsageLedgerRequest(session=session, totals_only=totals_only), timeout=control.timeout_s
        )
    except grpc.aio.AioRpcError as error:
        log.warning("usage_ledger_unreadable", session=session, code=error.code().name)
        return None


def shares(ledger: control_pb2.UsageLedger, key_of) -> list[orchestrator_pb2.UsageShare]:
    """The ledger's entries summed by `key_of(entry)` (entries with the key "" are left out)."""
    by_key: dict[str, study_pb2.TokenUsage] = {}
    for entry in ledger.entries:
        key = key_of(entry)
        if key:
            by_key[key] = sum_usage(by_key.get(key, study_pb2.TokenUsage()), entry.usage)
    return [orchestrator_pb2.UsageShare(key=key, usage=usage) for key, usage in sorted(by_key.items())]


def fill_metadata(metadata: orchestrator_pb2.StudyMetadata, ledger: control_pb2.UsageLedger) -> None:
    """The study's usage from the ledger: in all, by phase, by agent and by model."""
    metadata.token_usage.CopyFrom(ledger.total)
    metadata.usage_by_phase.extend(shares(ledger, lambda entry: PHASE_OF_SERVICE.get(entry.service, entry.service)))
    metadata.usage_by_agent.extend(shares(ledger, lambda entry: entry.agent))
    metadata.usage_by_model.extend(shares(ledger, lambda entry: entry.model))


def exhausted(ledger: control_pb2.UsageLedger | None) -> bool:
    return ledger is not None and ledger.budget_exhausted


TENANT_LIMITS = (
    ("cost_per_day", "today", "tenant_max_cost_per_day"),
    ("cost_per_month", "this_month", "tenant_max_cost_per_month"),
    ("tokens_per_day", "today", "tenant_max_tokens_per_day"),
    ("tokens_per_month", "this_month", "tenant_max_tokens_per_month"),
)


def tenant_limited(settings: StudySettings) -> bool:
    return any(getattr(settings, name) > 0 for _, _, name in TENANT_LIMITS)


async def check_tenant_budget(control: ControlClient, tenant: str, settings: StudySettings) -> None:
    """Raises QuotaExceeded (RESOURCE_EXHAUSTED with a QuotaFailure) when the tenant's daily or monthly
    budget is spent, counted by control across every replica."""
    if not tenant_limited(settings):
        return
    limits = [(quota, period, getattr(settings, name)) for quota, period, name in TENANT_LIMITS]
    spend = await control.stub.GetTenantSpend(control_pb2.GetTenantSpendRequest(), timeout=control.timeout_s)
    for quota, period, limit in limits:
        if limit <= 0:
            continue
        usage = getattr(spend, period)
        spent = usage.cost if quota.startswith("cost") else total_tokens(usage)
        if spent >= limit:
            what = f"{spent:.4g} USD" if quota.startswith("cost") else f"{spent} tokens"
            when = "today (UTC)" if period == "today" else "this month (UTC)"
            raise QuotaExceeded(
                quota,
                f"{'this tenant' if tenant else 'the mesh'} has spent {what} {when}, its budget is {limit:g}; "
                "no new study starts until the budget renews",
            )


BUDGET_FAILURE_MARKERS = ("BUDGET_EXHAUSTED", "budget is spent")


def budget_failure(reason: str) -> bool:
    """Whether an agent's failure is a model call refused because the study's budget was spent."""
    return any(marker in reason for marker in BUDGET_FAILURE_MARKERS)


class SpendWatch:
    """A running study's spend: read from the ledger now and then into its progress, and asked before each
    step whether the budget is spent. Once it is, the study makes no new model call and ends PARTIAL."""

    def __init__(
        self,
        control: ControlClient,
        session: str,
        progress,
        settings: StudySettings,
        estimator: estimate.Estimator,
    ) -> None:
        self.control = control
        self.estimator = estimator
        self.session = session
        self.progress = progress
        self.settings = settings
        self.interval_s = settings.usage_poll_interval_s
        self.ledger: control_pb2.UsageLedger | None = None
        self.request: orchestrator_pb2.RunStudyRequest | None = None
        self.limited = False
        self.stopped = False
        """Whether the study stopped short because its budget was spent."""

    async def begin(self, request: orchestrator_pb2.RunStudyRequest) -> None:
        """Sets the study's budget in the ledger (again, after a resumption: the same budget)."""
        self.request = request
        self.limited = request.max_cost > 0 or request.max_tokens > 0
        await set_budget(self.control, self.session, request.max_cost, request.max_tokens)
        self.progress.update(max_cost=request.max_cost, max_tokens=request.max_tokens)
        await self.refresh()

    async def refresh(self, *, totals_only: bool = True) -> control_pb2.UsageLedger | None:
        ledger = await read_ledger(self.control, self.session, totals_only=totals_only)
        if ledger is not None:
            self.ledger = ledger
            self.progress.update_usage(ledger.total, ledger.budget_exhausted)
        return self.ledger

    async def exhausted(self) -> bool:
        """Whether the study's budget, or its tenant's for the day or the month, is spent (read from the
        ledger now); from then on the study stops."""
        if self.stopped:
            return True
        if self.limited and exhausted(await self.refresh()):
            self.stopped = True
        elif tenant_limited(self.settings):
            try:
                await check_tenant_budget(self.control, current_tenant.get(), self.settings)
            except QuotaExceeded as spent:
                log.info("tenant_budget_spent", session=self.session, quota=spent.quota)
                self.stopped = True
        return self.stopped

    async def watch(self) -> None:
        """Refreshes the progress's spend every `interval_s` until cancelled."""
        if self.interval_s <= 0:
            return
        while True:
            await asyncio.sleep(self.interval_s)
            await self.refresh()

    def without_budget_failures(self, failed_agents: dict[str, str]) -> dict[str, str]:
        """The agents' failures, less the calls refused for the spent budget (the study stopped; they did not fail)."""
        if not self.stopped:
            return failed_agents
        return {name: reason for name, reason in failed_agents.items() if not budget_failure(reason)}

    async def settle(self, result: orchestrator_pb2.StudyResult) -> None:
        """The result's usage from the ledger (every service's calls), and why it ended short."""
        ledger = await self.refresh(totals_only=False)
        if ledger is not None and (ledger.total.calls or ledger.total.cached_calls or ledger.entries):
            result.metadata.ClearField("token_usage")
            fill_metadata(result.metadata, ledger)
        if self.request is not None:
            result.estimate.CopyFrom(self.estimator.study(self.request))
        if self.stopped:
            result.status = orchestrator_pb2.STUDY_STATUS_PARTIAL
            result.end_reason = orchestrator_pb2.STUDY_END_REASON_BUDGET_EXHAUSTED
        elif result.status == orchestrator_pb2.STUDY_STATUS_PARTIAL:
            result.end_reason = orchestrator_pb2.STUDY_END_REASON_PARTICIPANTS_FAILED


def check_budget_fields(
    request: orchestrator_pb2.RunStudyRequest | orchestrator_pb2.RunExperimentRequest, estimator: estimate.Estimator
) -> None:
    """Refuses a budget that cannot be kept: a negative one, or a cost limit on a model without a price."""
    violations = []
    if not (math.isfinite(request.max_cost) and request.max_cost >= 0):
        violations.append(("max_cost", "must be a number of US dollars, at least 0 (0: no limit)"))
    if request.max_tokens < 0:
        violations.append(("max_tokens", "must be at least 0 (0: no limit)"))
    model = estimator.model
    if request.max_cost > 0 and estimator.prices.price_of(model) is None:
        violations.append(
            (
                "max_cost",
                f"the model {model!r} has no price, so its cost cannot be limited: set LLM_PRICES or use max_tokens",
            )
        )
    if violations:
        raise InvalidArgument(*violations[0], more=violations[1:])


def latency_of(request: orchestrator_pb2.EstimateStudyRequest | orchestrator_pb2.EstimateExperimentRequest) -> float:
    """The latency per call an estimate assumes: the request's, else the default; INVALID_ARGUMENT when negative."""
    if not request.HasField("latency_per_call"):
        return estimate.DEFAULT_LATENCY_S
    seconds = request.latency_per_call.ToNanoseconds() / 1e9
    if seconds < 0:
        raise InvalidArgument("latency_per_call", "must not be negative")
    return seconds
