"""Fixtures of the LLM layer's tests (the fake server's `fake_llm` and `fake_llm_settings` come from
`tests.fake_llm.pytest_plugin`, registered by the suite's conftest)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from services.llm import LLMClient
from services.llm.cache import ResponseCache
from services.runtime.config import LLMSettings

ClientFactory = Callable[..., LLMClient]


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
