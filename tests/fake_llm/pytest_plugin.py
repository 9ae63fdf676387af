"""Pytest fixtures around the fake server.

Register once for the whole suite with `pytest_plugins = ["tests.fake_llm.pytest_plugin"]` in the
top-level `tests/conftest.py` (or `-p tests.fake_llm.pytest_plugin`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.runtime.config import LLMSettings
from tests.fake_llm.server import FakeLLMServer


@pytest.fixture
async def fake_llm() -> AsyncIterator[FakeLLMServer]:
    """A running fake server with no latency and no faults; tests `configure()` what they need."""
    async with FakeLLMServer() as server:
        yield server


@pytest.fixture
def fake_llm_settings(fake_llm: FakeLLMServer) -> LLMSettings:
    """LLM settings aimed at `fake_llm`, with short timeouts and backoff suited to tests."""
    return LLMSettings(
        base_url=fake_llm.base_url,
        model=fake_llm.config.model,
        response_format="json_schema",
        timeout_s=5.0,
        max_retries=4,
        backoff_base_s=0.01,
        backoff_max_s=0.1,
    )
