"""Prices, the cost of each call, reasoning and cached prompt tokens, the usage sink and the usage metrics."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from services.llm import LLMClient
from services.llm.accounting import TokenUsage
from services.llm.errors import LLMBudgetExhaustedError
from services.llm.pricing import ModelPrice, PriceTable, parse_prices
from services.runtime.config import LLMSettings
from tests.fake_llm import FakeLLMServer
from tests.llm.models import AgentTurn, turn_messages


def test_prices_parse_from_json_and_yaml_and_an_unknown_model_has_no_cost() -> None:
    from_json = parse_prices('{"gpt-4o-mini": {"input": 0.15, "cached_input": 0.075, "output": 0.6}}')
    from_yaml = parse_prices("gpt-4o-mini:\n  input: 0.15\n  cached_input: 0.075\n  output: 0.6\n")
    assert from_json == from_yaml
    table = PriceTable(from_json)
    # 1M prompt tokens of which 400k cached, and 100k completion tokens (reasoning included).
    assert table.cost("gpt-4o-mini", 1_000_000, 100_000, 400_000) == pytest.approx(0.09 + 0.03 + 0.06)
    assert table.cost("some-other-model", 10, 10) is None, "unknown, never 0"
    assert table.cost("gemma-3-270m", 10_000, 10_000) == 0.0, "the embedded model is free"
    with pytest.raises(ValueError):
        parse_prices('{"m": {"input": -1, "output": 1}}')
    with pytest.raises(ValueError):
        parse_prices('{"m": {"output": 1}}')


def test_prices_come_from_the_environment_and_a_file(tmp_path, monkeypatch) -> None:
    prices_file = tmp_path / "prices.yaml"
    prices_file.write_text("a: {input: 1, output: 2}\nb: {input: 3, output: 4}\n")
    monkeypatch.setenv("LLM_PRICES_FILE", str(prices_file))
    monkeypatch.setenv("LLM_PRICES", '{"b": {"input": 5, "output": 6}}')
    table = PriceTable.from_settings(LLMSettings())
    assert table.price_of("a") == ModelPrice(input=1, output=2)
    assert table.price_of("b") == ModelPrice(input=5, output=6), "the variable wins over the file"


def test_reasoning_and_cached_prompt_tokens_are_read_from_the_answer() -> None:
    answer = LLMClient._read_answer(
        {
            "choices": [{"message": {"content": "{}"}, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": 1000,
                "completion_tokens": 900,
                "prompt_tokens_details": {"cached_tokens": 600},
                "completion_tokens_details": {"reasoning_tokens": 800},
            },
        },
        0,
    )
    assert (answer.prompt_tokens, answer.completion_tokens) == (1000, 900)
    assert (answer.cached_prompt_tokens, answer.reasoning_tokens) == (600, 800)


class RecordingSink:
    def __init__(self, exhausted: bool = False) -> None:
        self.records: list[tuple[str, str, str, TokenUsage]] = []
        self.spent = exhausted

    async def exhausted(self, session: str) -> bool:
        return self.spent

    async def record(self, session: str, model: str, agent: str, usage: TokenUsage) -> None:
        self.records.append((session, model, agent, usage))


async def test_each_call_is_priced_reported_and_counted_in_the_metrics(fake_llm: FakeLLMServer) -> None:
    settings = LLMSettings(
        base_url=fake_llm.base_url,
        model=fake_llm.config.model,
        prices={fake_llm.config.model: {"input": 1, "output": 4}},
    )
    sink = RecordingSink()
    client = LLMClient(settings, usage_sink=sink, service="simulation")
    labels = {"tenant": "", "model": fake_llm.config.model, "service": "simulation"}
    cost_before = REGISTRY.get_sample_value("llm_cost_dollars_total", labels) or 0.0
    tokens_before = REGISTRY.get_sample_value("llm_usage_tokens_total", {**labels, "kind": "prompt"}) or 0.0
    try:
        await client.structured(turn_messages("Ana"), AgentTurn, session="sessions/s")
    finally:
        await client.aclose()

    usage = client.usage("sessions/s")
    assert usage.cost == pytest.approx((usage.prompt_tokens * 1 + usage.completion_tokens * 4) / 1_000_000)
    assert usage.cost_known and usage.unpriced_requests == 0
    reported = TokenUsage()
    for _, _, _, one in sink.records:
        for name in TokenUsage.model_fields:
            setattr(reported, name, getattr(reported, name) + getattr(one, name))
    assert (reported.calls, reported.prompt_tokens, reported.cost) == (1, usage.prompt_tokens, usage.cost)
    assert REGISTRY.get_sample_value("llm_cost_dollars_total", labels) == pytest.approx(cost_before + usage.cost)
    assert REGISTRY.get_sample_value("llm_usage_tokens_total", {**labels, "kind": "prompt"}) == (
        tokens_before + usage.prompt_tokens
    )


async def test_an_unpriced_model_counts_its_calls_as_of_unknown_cost(fake_llm: FakeLLMServer) -> None:
    client = LLMClient(LLMSettings(base_url=fake_llm.base_url, model="no-price-model"))
    try:
        await client.structured(turn_messages("Ana"), AgentTurn, session="sessions/u")
    finally:
        await client.aclose()
    usage = client.usage("sessions/u")
    assert usage.unpriced_requests == 1 and not usage.cost_known and usage.cost == 0


async def test_no_model_call_is_made_for_a_session_whose_budget_is_spent(fake_llm: FakeLLMServer) -> None:
    client = LLMClient(
        LLMSettings(base_url=fake_llm.base_url, model=fake_llm.config.model), usage_sink=RecordingSink(True)
    )
    before = fake_llm.stats.total_requests
    try:
        with pytest.raises(LLMBudgetExhaustedError):
            await client.structured(turn_messages("Ana"), AgentTurn, session="sessions/spent")
    finally:
        await client.aclose()
    assert fake_llm.stats.total_requests == before
