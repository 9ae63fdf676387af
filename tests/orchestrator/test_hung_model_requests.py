"""A model endpoint that never answers a share of requests (the connection stays open): each hung
attempt is cut at its own timeout and retried inside the call's deadline, so a study still completes
with every agent, in about the time of the same study without hangs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from tests.fake_llm import FakeLLMServer
from tests.orchestrator.support import Stubs, mesh_on, small_study

AGENTS = ("Ana", "Ben", "Caio", "Dora", "Emil", "Fay", "Gus", "Hana")
ROUNDS = 2
ATTEMPT_TIMEOUT_S = 0.5
HANG_RATE = 0.15


@pytest.fixture
async def mesh_on_a_hanging_model(tmp_path) -> AsyncIterator[tuple[FakeLLMServer, Stubs]]:
    async with FakeLLMServer(latency=0.02) as fake:
        async with mesh_on(fake, tmp_path, timeout_s=10.0, attempt_timeout_s=ATTEMPT_TIMEOUT_S, max_retries=6) as stubs:
            yield fake, stubs


async def timed_study(stubs: Stubs, stimulus: str) -> tuple[orchestrator_pb2.StudyResult, float]:
    started = time.monotonic()
    operation = await stubs.orchestrator.RunStudy(small_study(AGENTS, rounds=ROUNDS, stimulus=stimulus))
    result = await stubs.result(operation.name, timeout_s=120)
    return result, time.monotonic() - started


def attempts_cut() -> float:
    return REGISTRY.get_sample_value("llm_attempt_timeouts_total", {"limit": "attempt"}) or 0.0


async def no_request_in_flight(fake: FakeLLMServer, within_s: float = 5.0) -> bool:
    """Whether the fake has seen every hung connection dropped (it notices a moment after the drop)."""
    give_up = time.monotonic() + within_s
    while fake.stats.in_flight and time.monotonic() < give_up:
        await asyncio.sleep(0.01)
    return fake.stats.in_flight == 0


def assert_complete(result: orchestrator_pb2.StudyResult) -> None:
    assert result.status == orchestrator_pb2.STUDY_STATUS_COMPLETED, result.participants
    assert (result.participants.successful, result.participants.failed) == (len(AGENTS), 0)
    assert result.simulation_results.rounds_completed == ROUNDS
    assert len(result.extracted_results.individual_results) == len(AGENTS)


async def test_a_study_completes_when_the_model_hangs_a_share_of_requests(mesh_on_a_hanging_model):
    fake, stubs = mesh_on_a_hanging_model
    steady, steady_s = await timed_study(stubs, "Would you buy a solar kettle?")
    assert_complete(steady)
    assert fake.stats.count("hang") == 0

    fake.configure(rate_hang=HANG_RATE, seed=11)
    fake.reset_stats()
    cut_before = attempts_cut()
    hanging, hanging_s = await timed_study(stubs, "Would you buy a solar toaster?")

    assert_complete(hanging)
    hung = fake.stats.count("hang")
    assert hung >= 2, f"only {hung} of {fake.stats.total_requests} requests hung"
    assert attempts_cut() - cut_before == hung, "every hung attempt was cut at its own timeout"
    assert await no_request_in_flight(fake), "a hung connection was left open"
    # Hung attempts overlap across agents; only a few of them lie on the study's path.
    assert hanging_s < steady_s + 6 * ATTEMPT_TIMEOUT_S + 2.0, (
        f"{hanging_s:.2f} s with {hung} hung requests against {steady_s:.2f} s without"
    )
