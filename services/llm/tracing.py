"""Spans of model calls: one CLIENT span per `LLMClient.structured` call, with the model, the call's
label and session, whether the session's cache answered, and the tokens the answer took (OpenTelemetry's
`gen_ai.*` names where they exist). Nothing happens while tracing is off."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from opentelemetry.trace import SpanKind

from services.runtime import tracing

R = TypeVar("R")

CACHE_HIT = "llm.cache_hit"
CACHED_TOKENS = "llm.cached_tokens"
"""Tokens of a cached answer: spent once, by the call that first got it, not by this one."""
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
MODEL = "gen_ai.request.model"


def traced_model_call(structured: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
    """Decorates `LLMClient.structured`: the call runs in a span named `chat <model>`."""

    @functools.wraps(structured)
    async def traced(client: Any, *args: Any, **kwargs: Any) -> R:
        tracer = tracing.tracer()
        if tracer is None:
            return await structured(client, *args, **kwargs)
        model = client.settings.model
        attributes = {
            "gen_ai.operation.name": "chat",
            MODEL: model,
            "llm.label": kwargs.get("label", ""),
            "mesh.session": kwargs.get("session", ""),
        }
        with tracer.start_as_current_span(f"chat {model}", kind=SpanKind.CLIENT, attributes=attributes) as span:
            span.set_attribute(CACHE_HIT, False)
            return await structured(client, *args, **kwargs)

    return traced


def record_cache_hit(prompt_tokens: int, completion_tokens: int) -> None:
    """The current model call was answered from the session's cache."""
    if (span := tracing.current_span()) is not None:
        span.set_attribute(CACHE_HIT, True)
        span.set_attribute(CACHED_TOKENS, prompt_tokens + completion_tokens)


def record_answer(prompt_tokens: int, completion_tokens: int) -> None:
    """The current model call's answer and the tokens it took (all its attempts together)."""
    if (span := tracing.current_span()) is not None:
        span.set_attribute(INPUT_TOKENS, prompt_tokens)
        span.set_attribute(OUTPUT_TOKENS, completion_tokens)
