import inspect

import pytest

from services.engine.llm_port import StructuredLLM
from tests.engine.support import FakeLLM


def _parameters(function) -> list[tuple[str, object, object]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


def test_the_mesh_client_has_the_ports_signature():
    client_module = pytest.importorskip("services.llm.client")
    assert _parameters(client_module.LLMClient.structured) == _parameters(StructuredLLM.structured)
    assert inspect.iscoroutinefunction(client_module.LLMClient.structured)


def test_the_test_fake_has_the_ports_signature():
    assert _parameters(FakeLLM.structured) == _parameters(StructuredLLM.structured)
