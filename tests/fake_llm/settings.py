"""The LLM client's settings aimed at a fake server, with the short timeouts and backoff tests want."""

from __future__ import annotations

from typing import Any

from services.runtime.config import LLMSettings
from tests.fake_llm.server import FakeLLMServer


def client_settings(fake: FakeLLMServer, **overrides: Any) -> LLMSettings:
    """Settings for a client of `fake`: 5 s calls, 2 retries, 10-50 ms backoff, unless `overrides` say else."""
    defaults = {"timeout_s": 5.0, "max_retries": 2, "backoff_base_s": 0.01, "backoff_max_s": 0.05}
    return LLMSettings(base_url=fake.base_url, model=fake.config.model, **{**defaults, **overrides})
