"""A fake OpenAI-compatible server for tests and benchmarks (`python -m tests.fake_llm --port N`)."""

from tests.fake_llm.schema_instance import InstanceGenerator, NameRegistry
from tests.fake_llm.server import FakeConfig, FakeLLMServer, FakeStats, RequestRecord, ScriptRule

__all__ = [
    "FakeConfig",
    "FakeLLMServer",
    "FakeStats",
    "InstanceGenerator",
    "NameRegistry",
    "RequestRecord",
    "ScriptRule",
]
