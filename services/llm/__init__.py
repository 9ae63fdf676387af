"""The LLM layer: one async client for every service (see services.common.model_access), the embedded local
model, the response cache."""

from __future__ import annotations

from services.llm.accounting import TokenUsage
from services.llm.cache import InMemoryResponseCache, ResponseCache
from services.llm.client import LLMClient
from services.llm.errors import (
    LLMDeadlineError,
    LLMError,
    LLMInvalidOutputError,
    LLMRequestError,
    LLMUnavailableError,
)

__all__ = [
    "InMemoryResponseCache",
    "LLMClient",
    "LLMDeadlineError",
    "LLMError",
    "LLMInvalidOutputError",
    "LLMRequestError",
    "LLMUnavailableError",
    "ResponseCache",
    "TokenUsage",
]
