"""One rate budget for all replicas: LLM clients of several "replicas" share a budget through a real
control server and call one fake model server, which counts the calls it sees per window.

The numbers are those of the production figure (2 population and 3 simulation replicas, 600 calls a
minute) scaled to a short window so the test runs in seconds.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import pytest
from pydantic import BaseModel, SecretStr

from services.common.control_client import ControlClient
from services.common.shared_rate_budget import SharedRateBudget
from services.control.service import DEFINITION
from services.llm import LLMClient
from services.runtime.clients import open_channel
from services.runtime.config import LLMSettings, MeshSettings
from services.runtime.context import current_tenant
from services.runtime.testing import serving
from tests.control.helpers import unique
from tests.fake_llm import FakeLLMServer
from tests.fake_llm.settings import client_settings

REPLICAS = 5  # 2 population + 3 simulation
LIMIT = 40  # calls per window, all replicas together
WINDOW_S = 2.0


class Opinion(BaseModel):
    stance: str
    score: int


def busiest_window(arrivals: list[float], window_s: float) -> int:
    arrivals = sorted(arrivals)
    busiest, first = 0, 0
    for last, moment in enumerate(arrivals):
        while arrivals[first] <= moment - window_s:
            first += 1
        busiest = max(busiest, last - first + 1)
    return busiest


@asynccontextmanager
async def replicas(
    fake: FakeLLMServer, tmp_path, count: int, **budget_options
) -> AsyncIterator[tuple[list[LLMClient], list[SharedRateBudget]]]:
    """`count` LLM clients, each with a shared budget of its own holder, on one control server."""
    settings = MeshSettings(data_dir=tmp_path, metrics_port=0, log_level="WARNING")
    llm = client_settings(fake, timeout_s=30.0, max_retries=4, max_concurrency=64)
    endpoint = unique("endpoint")
    async with AsyncExitStack() as stack:
        address = await stack.enter_async_context(serving(DEFINITION, settings))
        clients, budgets = [], []
        for _ in range(count):
            channel = await stack.enter_async_context(open_channel(address, settings))
            budget = SharedRateBudget(ControlClient(channel), endpoint, window_s=WINDOW_S, **budget_options)
            client = LLMClient(llm, budget=budget)
            stack.push_async_callback(client.aclose)
            clients.append(client)
            budgets.append(budget)
        yield clients, budgets


async def call(client: LLMClient, index: int) -> Opinion:
    messages = [{"role": "user", "content": f"Opinion number {index} on the offer?"}]
    return await client.structured(messages, Opinion)


@pytest.mark.slow
async def test_replicas_together_stay_within_the_budget_and_use_it(tmp_path) -> None:
    calls_per_replica = 32  # 4 windows' worth
    async with (
        FakeLLMServer(latency=0.02) as fake,
        replicas(
            fake,
            tmp_path,
            REPLICAS,
            requests_per_window=LIMIT,
            tokens_per_window=0,
            grant_ttl_s=0.25,
            grant_fraction=0.2,
        ) as (clients, budgets),
    ):
        await asyncio.gather(
            *(call(client, r * 1000 + i) for r, client in enumerate(clients) for i in range(calls_per_replica))
        )
        arrivals = [record.started_at for record in fake.stats.requests]
    assert len(arrivals) == REPLICAS * calls_per_replica
    assert busiest_window(arrivals, WINDOW_S) <= LIMIT
    elapsed = max(arrivals) - min(arrivals) + WINDOW_S  # the last window counts whole
    used = len(arrivals) / (elapsed / WINDOW_S) / LIMIT
    # Each window loses the time from its grants to their calls' answers and settlement (tens of ms on a
    # busy machine): a few percent of a 2 s window, nothing of the minute the bench uses (>= 90 % there).
    assert used >= 0.85, f"{used:.0%} of the budget used while demand exceeded it"
    assert all(budget.grants_received > 0 for budget in budgets), "every replica got its share"


async def test_retry_after_slows_every_replica(tmp_path) -> None:
    async with (
        FakeLLMServer() as fake,
        replicas(fake, tmp_path, 2, requests_per_window=1000, tokens_per_window=0, grant_ttl_s=0.2) as (
            clients,
            budgets,
        ),
    ):
        first, second = budgets
        first.pause(0.6)  # as the client does on a 429 with Retry-After: 0.6
        await asyncio.sleep(0.1)  # the report reaches control (a background call)
        started = time.monotonic()
        await call(clients[1], 1)
        waited = time.monotonic() - started
    assert waited >= 0.35, f"the other replica went on after {waited:.2f} s"
    assert fake.stats.total_requests == 1


async def test_a_429_with_retry_after_pauses_the_shared_budget(tmp_path) -> None:
    async with (
        FakeLLMServer(retry_after_s=0.5) as fake,
        replicas(fake, tmp_path, 2, requests_per_window=1000, tokens_per_window=0, grant_ttl_s=0.2) as (
            clients,
            budgets,
        ),
    ):
        fake.plan_faults("rate_limited")
        first = asyncio.create_task(call(clients[0], 1))  # 429 with Retry-After: 0.5, then answered
        while fake.stats.count("rate_limited") == 0:
            await asyncio.sleep(0.005)
        limited_at = time.monotonic()
        await asyncio.sleep(0.1)  # the report reaches control (a background call)
        await call(clients[1], 2)
        waited = time.monotonic() - limited_at
        await first
    assert fake.stats.count("rate_limited") == 1
    assert fake.stats.count("ok") == 2
    assert waited >= 0.45, f"the replica that did not get the 429 went on after {waited:.2f} s"


async def test_without_control_a_replica_keeps_to_a_budget_of_its_own(fake_llm) -> None:
    settings = MeshSettings(metrics_port=0, log_level="WARNING")
    async with open_channel("127.0.0.1:9", settings) as channel:
        budget = SharedRateBudget(
            ControlClient(channel, timeout_s=1.0), "endpoint", requests_per_window=2, tokens_per_window=0, window_s=30
        )
        client = LLMClient(client_settings(fake_llm), budget=budget)
        try:
            await call(client, 1)
            await call(client, 2)
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(1.0):
                    await call(client, 3)
        finally:
            await client.aclose()
    assert fake_llm.stats.total_requests == 2


def test_llm_settings_share_the_budget_by_default() -> None:
    assert LLMSettings().rate_budget == "shared"


async def test_a_process_asks_for_each_tenant_in_its_name(fake_llm, tmp_path) -> None:
    """Calls of two tenants in one process take grants of their own, so control's fairness sees them."""
    settings = MeshSettings(
        data_dir=tmp_path, metrics_port=0, log_level="WARNING", internal_token=SecretStr("internal")
    )
    async with serving(DEFINITION, settings) as address, open_channel(address, settings) as channel:
        budget = SharedRateBudget(
            ControlClient(channel), "endpoint", requests_per_window=100, tokens_per_window=0, window_s=60
        )
        client = LLMClient(client_settings(fake_llm), budget=budget)
        try:
            for tenant in ("acme", "globex", "acme"):
                token = current_tenant.set(tenant)
                try:
                    await call(client, 1)
                finally:
                    current_tenant.reset(token)
        finally:
            await client.aclose()
    with sqlite3.connect(settings.sqlite_path()) as database:
        (state,) = database.execute("SELECT state FROM rate_ledgers WHERE endpoint = 'endpoint'").fetchone()
    grants = json.loads(state)["grants"]
    calls = {tenant: sum(g["requests"] for g in grants if g["tenant"] == tenant) for tenant in ("acme", "globex")}
    assert calls == {"acme": 2, "globex": 1}
