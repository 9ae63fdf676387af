"""The LLM layer: one async client for every service, the embedded local model, the response cache."""

from __future__ import annotations

import asyncio

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
from services.runtime.config import LLMSettings, load_settings

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
    "close_llm_client",
    "get_llm_client",
]

_process_client: LLMClient | None = None
_process_client_loop: asyncio.AbstractEventLoop | None = None


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def get_llm_client(settings: LLMSettings | None = None, cache: ResponseCache | None = None) -> LLMClient:
    """The process-wide client, made on first use from `settings` (default: the environment's).

    Later calls return the same client and ignore their arguments, except when the event loop it
    was made in has closed (each test has its own loop): then a fresh client replaces it.
    """
    global _process_client, _process_client_loop
    loop = _running_loop()
    stale = _process_client_loop is not None and _process_client_loop.is_closed()
    if _process_client is None or stale:
        _process_client = LLMClient(settings or load_settings().llm, cache=cache)
        _process_client_loop = loop
    elif _process_client_loop is None:
        _process_client_loop = loop
    return _process_client


async def close_llm_client() -> None:
    """Closes the process-wide client (at server shutdown); the next `get_llm_client` makes a new one."""
    global _process_client, _process_client_loop
    client, _process_client, _process_client_loop = _process_client, None, None
    if client is not None:
        await client.aclose()
