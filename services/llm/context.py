"""How many tokens the model's context holds: the prompt budgets of the mesh follow it.

Resolved in this order:

1. `LLM_CONTEXT_TOKENS`, when set (above 0);
2. the embedded model's own context (`services.llm.embedded.DEFAULT_N_CTX`) when the mesh runs it: no
   `LLM_BASE_URL`;
3. what the server reports: vLLM's `GET /v1/models` (`max_model_len` of the model's entry; also
   `context_length` or `context_window` where a server names it so), llama.cpp's `GET /props`
   (`default_generation_settings.n_ctx`, a slot's context, or `n_ctx`);
4. the embedded model's context again when the endpoint serves the embedded model by its name and does
   not say (llama-cpp-python's server reports nothing);
5. `DEFAULT_CONTEXT_TOKENS` (8192).

Azure OpenAI is never probed. A process resolves its context once (`ContextWindow`) and keeps it, so
every prompt it builds, and so every cache key, stays the same; set `LLM_CONTEXT_TOKENS` to make
replicas agree whatever their endpoint answers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import structlog

from services.llm.embedded import DEFAULT_N_CTX as EMBEDDED_CONTEXT_TOKENS
from services.llm.embedded import MODEL_ALIAS as EMBEDDED_MODEL
from services.runtime.config import LLMSettings

log = structlog.get_logger(__name__)

DEFAULT_CONTEXT_TOKENS = 8192
"""The context assumed of a remote model that does not say: what every current chat model holds at least."""
PROBE_TIMEOUT_S = 3.0
_CONTEXT_KEYS = ("max_model_len", "context_length", "context_window", "max_context_length")


@dataclass(frozen=True)
class ContextSize:
    tokens: int
    source: str
    """Where the figure comes from: `setting`, `embedded`, `server` or `default`."""


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return int(value)


def context_from_models(payload: Any, model: str) -> int | None:
    """The context reported by an OpenAI-compatible `GET /v1/models` answer (vLLM's `max_model_len`):
    the named model's entry first, else the first entry that reports one."""
    entries = payload.get("data") if isinstance(payload, Mapping) else None
    if not isinstance(entries, list):
        return None
    entries = [entry for entry in entries if isinstance(entry, Mapping)]
    named = [entry for entry in entries if entry.get("id") == model]
    for entry in [*named, *entries]:
        for key in _CONTEXT_KEYS:
            if (tokens := _positive_int(entry.get(key))) is not None:
                return tokens
    return None


def context_from_props(payload: Any) -> int | None:
    """The context reported by llama.cpp's `GET /props` answer: a slot's `n_ctx` (what one request gets when
    the server runs several slots), else a top-level `n_ctx`."""
    if not isinstance(payload, Mapping):
        return None
    settings = payload.get("default_generation_settings")
    nested = settings.get("n_ctx") if isinstance(settings, Mapping) else None
    return _positive_int(nested) or _positive_int(payload.get("n_ctx"))


def _root(base_url: str) -> str:
    url = base_url.rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


async def probe_context_tokens(
    base_url: str, *, model: str, api_key: str = "", timeout_s: float = PROBE_TIMEOUT_S
) -> int | None:
    """The context the server at `base_url` reports, or None when it reports none or cannot be reached."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    probes: list[tuple[str, Callable[[Any], int | None]]] = [
        (f"{base_url.rstrip('/')}/models", lambda payload: context_from_models(payload, model)),
        (f"{_root(base_url)}/props", context_from_props),
    ]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s), headers=headers) as http:
        for url, read in probes:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError, ValueError):
                async with http.get(url) as response:
                    if response.status == 200:
                        tokens = read(await response.json(content_type=None))
                        if tokens is not None:
                            return tokens
    return None


async def resolve_context(settings: LLMSettings) -> ContextSize:
    """The context of the configured model (see the module's docstring for the order)."""
    if settings.context_tokens > 0:
        return ContextSize(settings.context_tokens, "setting")
    if settings.provider == "azure":
        return ContextSize(DEFAULT_CONTEXT_TOKENS, "default")
    if not settings.base_url:
        return ContextSize(EMBEDDED_CONTEXT_TOKENS, "embedded")
    reported = await probe_context_tokens(
        settings.base_url, model=settings.model, api_key=settings.api_key.get_secret_value()
    )
    if reported is not None:
        return ContextSize(reported, "server")
    if settings.model == EMBEDDED_MODEL:
        return ContextSize(EMBEDDED_CONTEXT_TOKENS, "embedded")
    return ContextSize(DEFAULT_CONTEXT_TOKENS, "default")


class ContextWindow:
    """The context of one process's model, resolved on first use and then kept."""

    def __init__(
        self, settings: LLMSettings, resolve: Callable[[LLMSettings], Awaitable[ContextSize]] = resolve_context
    ) -> None:
        self._settings = settings
        self._resolve = resolve
        self._size: ContextSize | None = None
        self._lock = asyncio.Lock()

    async def size(self) -> ContextSize:
        async with self._lock:
            if self._size is None:
                self._size = await self._resolve(self._settings)
                log.info("llm_context", tokens=self._size.tokens, source=self._size.source)
            return self._size
