"""Accounting, metrics, providers and the process-wide client."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import REGISTRY

from services.llm import LLMClient, LLMUnavailableError
from services.runtime.config import LLMSettings
from tests.fake_llm import FakeLLMServer
from tests.llm.conftest import ClientFactory
from tests.llm.models import AgentTurn, turn_messages


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_usage_is_accounted_per_session(fake_llm: FakeLLMServer, make_client: ClientFactory) -> None:
    client = make_client()

    await asyncio.gather(
        client.structured(turn_messages("Ana"), AgentTurn, session="sessions/a"),
        client.structured(turn_messages("Ben"), AgentTurn, session="sessions/a"),
        client.structured(turn_messages("Chen"), AgentTurn, session="sessions/b"),
    )

    usage_a, usage_b = client.usage("sessions/a"), client.usage("sessions/b")
    assert usage_a.calls == 2 and usage_a.model_requests == 2 and usage_a.cached_calls == 0
    assert usage_b.calls == 1
    assert usage_a.prompt_tokens > 0 and usage_a.completion_tokens > 0
    assert usage_a.total_tokens == usage_a.prompt_tokens + usage_a.completion_tokens
    assert client.usage("sessions/unknown").calls == 0

    assert client.end_session("sessions/a").calls == 2
    assert client.usage("sessions/a").calls == 0


async def test_metrics_count_requests_tokens_and_durations(fake_llm: FakeLLMServer, make_client: ClientFactory) -> None:
    before_ok = _sample("llm_requests_total", outcome="ok")
    before_limited = _sample("llm_requests_total", outcome="rate_limited")
    before_prompt = _sample("llm_tokens_total", kind="prompt")
    before_durations = _sample("llm_request_duration_seconds_count")
    fake_llm.plan_faults("rate_limited")
    client = make_client()

    await client.structured(turn_messages("Ana"), AgentTurn)

    assert _sample("llm_requests_total", outcome="ok") == before_ok + 1
    assert _sample("llm_requests_total", outcome="rate_limited") == before_limited + 1
    assert _sample("llm_tokens_total", kind="prompt") == before_prompt + client.usage("").prompt_tokens
    assert _sample("llm_request_duration_seconds_count") == before_durations + 2


async def test_many_clients_share_one_set_of_metrics(fake_llm_settings: LLMSettings) -> None:
    clients = [LLMClient(fake_llm_settings) for _ in range(3)] + [
        LLMClient(fake_llm_settings, metrics_prefix="other_llm")
    ]

    assert clients[0]._metrics is clients[1]._metrics is clients[2]._metrics
    assert clients[3]._metrics is not clients[0]._metrics
    for client in clients:
        await client.aclose()


async def test_azure_provider_uses_the_deployment_path(fake_llm: FakeLLMServer) -> None:
    settings = LLMSettings(provider="azure", azure_endpoint=fake_llm.root_url, model="gpt-4o-study", api_key="k")
    client = LLMClient(settings)

    await client.structured(turn_messages("Ana"), AgentTurn)
    await client.aclose()

    (record,) = fake_llm.stats.requests
    assert record.path == "/openai/deployments/gpt-4o-study/chat/completions"


async def test_no_endpoint_configured_is_a_clear_error() -> None:
    client = LLMClient(LLMSettings(base_url=None))

    with pytest.raises(LLMUnavailableError, match="LLM_BASE_URL"):
        await client.structured(turn_messages("Ana"), AgentTurn)


def test_an_unknown_provider_or_response_format_is_rejected() -> None:
    with pytest.raises(ValueError, match="provider"):
        LLMClient(LLMSettings(base_url="http://127.0.0.1:1/v1", provider="bedrock"))
    with pytest.raises(ValueError):
        LLMClient(LLMSettings(base_url="http://127.0.0.1:1/v1", response_format="xml"))
