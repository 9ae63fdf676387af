"""Spans of model calls: the model, the label and session, the tokens of an answer, and cache hits."""

from __future__ import annotations

from opentelemetry.trace import SpanKind

from services.llm.cache import InMemoryResponseCache
from services.llm.client import LLMClient
from services.runtime import tracing
from tests.fake_llm.settings import client_settings
from tests.llm.models import AgentTurn, turn_messages
from tests.tracing.support import traced_services

SESSION = "sessions/traced-1"


async def test_a_model_call_and_its_replay_from_the_cache_are_spans(fake_llm):
    client = LLMClient(client_settings(fake_llm), cache=InMemoryResponseCache())
    try:
        with traced_services() as exporter, tracing.service_scope("simulation"):
            with client.session_scope(SESSION):
                await client.structured(turn_messages("Ana"), AgentTurn, session=SESSION, label="simulation.turn")
            with client.session_scope(SESSION):  # a resumed study asks the same again
                await client.structured(turn_messages("Ana"), AgentTurn, session=SESSION, label="simulation.turn")
            answered, replayed = exporter.get_finished_spans()
    finally:
        await client.aclose()

    assert fake_llm.stats.total_requests == 1
    for span in (answered, replayed):
        assert span.name == f"chat {fake_llm.config.model}" and span.kind == SpanKind.CLIENT
        assert span.resource.attributes["service.name"] == "tinytroupe-simulation"
        assert span.attributes["gen_ai.request.model"] == fake_llm.config.model
        assert span.attributes["llm.label"] == "simulation.turn"
        assert span.attributes["mesh.session"] == SESSION
    assert answered.attributes["llm.cache_hit"] is False
    assert answered.attributes["gen_ai.usage.input_tokens"] > 0
    assert answered.attributes["gen_ai.usage.output_tokens"] > 0
    assert replayed.attributes["llm.cache_hit"] is True
    assert replayed.attributes["llm.cached_tokens"] == (
        answered.attributes["gen_ai.usage.input_tokens"] + answered.attributes["gen_ai.usage.output_tokens"]
    )
    assert "gen_ai.usage.input_tokens" not in replayed.attributes


async def test_model_calls_make_no_spans_while_tracing_is_off(fake_llm):
    client = LLMClient(client_settings(fake_llm))
    try:
        with traced_services(environ={}) as exporter:
            await client.structured(turn_messages("Ben"), AgentTurn, label="simulation.turn")
            assert exporter.get_finished_spans() == ()
    finally:
        await client.aclose()
