"""Fixtures of the LLM layer's tests (the fake server's `fake_llm` and `fake_llm_settings` come from
`tests.fake_llm.pytest_plugin`, registered by the suite's conftest)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from prometheus_client import REGISTRY

from services.llm import LLMClient
from services.llm.cache import ResponseCache
from services.runtime.config import LLMSettings

ClientFactory = Callable[..., LLMClient]


def counted(metric: str, **labels: str) -> float:
    """The value of the client's counter `llm_<metric>_total` with `labels` (0 before its first count)."""
    return REGISTRY.get_sample_value(f"llm_{metric}_total", labels) or 0.0


async def eventually(condition: Callable[[], bool], within_s: float = 10.0) -> None:
    """Polls `condition` until it holds, for what has no event to wait on (the fake server notices a
    dropped connection a moment later)."""
    give_up = time.monotonic() + within_s
    while not condition():
        assert time.monotonic() < give_up, "condition not met in time"
        await asyncio.sleep(0.01)


@pytest.fixture
async def make_client(fake_llm_settings: LLMSettings) -> AsyncIterator[ClientFactory]:
    """Makes clients on the fake server, with settings overridden per test; closes them after."""
    clients: list[LLMClient] = []

    def make(cache: ResponseCache | None = None, **overrides: Any) -> LLMClient:
        settings = fake_llm_settings.model_copy(update=overrides)
        client = LLMClient(settings, cache=cache)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
