"""The usage ledger in control: usage added by session, service, model and agent; budgets; tenant spend by day.

Runs on SQLite and on PostgreSQL, like every control test.
"""

from __future__ import annotations

from collections.abc import Callable

import grpc
import pytest
from pydantic import SecretStr
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2 as pb

from services.runtime.config import MeshSettings
from tests.control.helpers import acting_for, begin, control_server, unique


def entry(service: str, agent: str, prompt: int, completion: int, cost: float, **more: int) -> pb.UsageEntry:
    return pb.UsageEntry(
        service=service,
        model="gpt-test",
        agent=agent,
        usage=study_pb2.TokenUsage(
            calls=1, prompt_tokens=prompt, completion_tokens=completion, cost=cost, model_requests=1, **more
        ),
    )


async def test_usage_adds_up_by_session_service_and_agent_and_the_budget_says_when_it_is_spent(control) -> None:
    session = await begin(control, display_name="ledger")
    await control.SetUsageBudget(pb.SetUsageBudgetRequest(session=session.name, max_tokens=1000))

    first = await control.RecordUsage(
        pb.RecordUsageRequest(
            session=session.name,
            entries=[entry("population", "Ana", 300, 100, 0.01), entry("simulation", "Ana", 200, 50, 0.02)],
        )
    )
    assert (first.total.prompt_tokens, first.total.completion_tokens, first.total.calls) == (500, 150, 2)
    assert first.total.cost == pytest.approx(0.03)
    assert not first.budget_exhausted

    second = await control.RecordUsage(
        pb.RecordUsageRequest(
            session=session.name, entries=[entry("simulation", "Ana", 300, 60, 0.02, cached_calls=2, saved_tokens=90)]
        )
    )
    assert second.total.prompt_tokens + second.total.completion_tokens == 1010
    assert second.budget_exhausted

    ledger = await control.GetUsageLedger(pb.GetUsageLedgerRequest(session=session.name))
    assert ledger.max_tokens == 1000 and ledger.budget_exhausted
    by_service = {(e.service, e.agent): e.usage for e in ledger.entries}
    assert by_service[("simulation", "Ana")].prompt_tokens == 500
    assert by_service[("simulation", "Ana")].cached_calls == 2
    assert by_service[("simulation", "Ana")].saved_tokens == 90
    assert by_service[("population", "Ana")].completion_tokens == 100
    assert ledger.total.cost == pytest.approx(0.05)
    totals = await control.GetUsageLedger(pb.GetUsageLedgerRequest(session=session.name, totals_only=True))
    assert totals.total == ledger.total and not totals.entries and totals.budget_exhausted


async def test_a_cost_budget_is_spent_once_the_cost_reaches_it(control) -> None:
    session = await begin(control, display_name="cost budget")
    await control.SetUsageBudget(pb.SetUsageBudgetRequest(session=session.name, max_cost=0.05))
    under = await control.RecordUsage(pb.RecordUsageRequest(session=session.name, entries=[entry("x", "", 1, 1, 0.04)]))
    over = await control.RecordUsage(pb.RecordUsageRequest(session=session.name, entries=[entry("x", "", 1, 1, 0.02)]))
    assert (under.budget_exhausted, over.budget_exhausted) == (False, True)


async def test_usage_of_an_unknown_session_is_not_found_and_bad_figures_are_invalid(control) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await control.RecordUsage(pb.RecordUsageRequest(session=f"sessions/{unique('s')}", entries=[]))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    session = await begin(control, display_name="bad")
    with pytest.raises(grpc.aio.AioRpcError) as invalid:
        await control.RecordUsage(pb.RecordUsageRequest(session=session.name, entries=[entry("x", "", -1, 1, 0.0)]))
    assert invalid.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "entries[0].usage.prompt_tokens" in invalid.value.details()


async def test_a_tenants_spend_counts_all_its_sessions_today_and_outlives_them(
    make_settings: Callable[..., MeshSettings],
) -> None:
    settings = make_settings(internal_token=SecretStr("mesh-internal-token"))
    async with control_server(settings) as control:
        tenant = unique("acme")
        with acting_for(tenant):
            one = await begin(control, display_name="one")
            two = await begin(control, display_name="two")
            await control.RecordUsage(pb.RecordUsageRequest(session=one.name, entries=[entry("s", "", 100, 10, 0.5)]))
            await control.RecordUsage(pb.RecordUsageRequest(session=two.name, entries=[entry("s", "", 200, 20, 0.25)]))
            await control.DeleteSession(pb.DeleteSessionRequest(name=one.name))
            spend = await control.GetTenantSpend(pb.GetTenantSpendRequest())
        assert spend.tenant == tenant
        assert (spend.today.prompt_tokens, spend.today.completion_tokens) == (300, 30)
        assert spend.today.cost == pytest.approx(0.75)
        assert spend.this_month.cost == pytest.approx(0.75)
        with acting_for(unique("globex")):
            other = await control.GetTenantSpend(pb.GetTenantSpendRequest())
            with pytest.raises(grpc.aio.AioRpcError) as hidden:
                await control.RecordUsage(pb.RecordUsageRequest(session=two.name, entries=[entry("s", "", 1, 1, 1.0)]))
        assert other.today.cost == 0 and other.today.prompt_tokens == 0
        assert hidden.value.code() == grpc.StatusCode.NOT_FOUND
