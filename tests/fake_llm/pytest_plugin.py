"""Pytest fixtures around the fake server.

Register once for the whole suite with `pytest_plugins = ["tests.fake_llm.pytest_plugin"]` in the
top-level `tests/conftest.py` (or `-p tests.fake_llm.pytest_plugin`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.runtime.config import LLMSettings
from tests.fake_llm.server import FakeLLMServer
from tests.fake_llm.settings import client_settings


@pytest.fixture
async def fake_llm() -> AsyncIterator[FakeLLMServer]:
    """A running fake server with no latency and no faults; tests `configure()` what they need."""
    async with FakeLLMServer() as server:
        yield server


@pytest.fixture
def fake_llm_settings(fake_llm: FakeLLMServer) -> LLMSettings:
    """LLM settings aimed at `fake_llm`, with short timeouts and backoff suited to tests."""
    return client_settings(fake_llm, response_format="json_schema", max_retries=4, backoff_max_s=0.1)
