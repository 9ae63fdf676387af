"""What `troupe up` tells the servers about the model, and what it checks of an endpoint before it starts them."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import pytest
from aiohttp import web

from services.llm.embedded import EmbeddedModelServer
from services.mesh import launcher
from services.mesh.launcher import LocalMesh, apply_environment, check_llm_endpoint, free_port, settings_environment
from services.mesh.processes import ChildProcess, MeshStartError
from services.runtime.config import LLMSettings
from tests.fake_llm import FakeLLMServer


@pytest.fixture
def no_llm_variables(monkeypatch):
    for name in list(os.environ):
        if name.upper().startswith("LLM_"):
            monkeypatch.delenv(name)


def test_the_variables_give_a_server_exactly_the_embedded_models_client_settings(no_llm_variables, monkeypatch):
    wanted = EmbeddedModelServer(port=8123).llm_settings()
    changes = settings_environment(wanted, LLMSettings())
    assert changes["LLM_BASE_URL"] == "http://127.0.0.1:8123/v1"
    assert "LLM_ATTEMPT_TOKENS_PER_S" in changes or wanted.attempt_tokens_per_s == LLMSettings().attempt_tokens_per_s
    for name, value in changes.items():
        monkeypatch.setenv(name, value)
    assert LLMSettings() == wanted, "a server that reads its environment gets every setting llm_settings() changed"


def test_a_setting_changed_to_none_is_unset():
    changes = settings_environment(LLMSettings(seed=None), LLMSettings(seed=4))
    assert changes == {"LLM_SEED": None}
    environment = {"LLM_SEED": "4", "LLM_MODEL": "m"}
    apply_environment(environment, changes)
    assert environment == {"LLM_MODEL": "m"}


@dataclass
class StubModelServer:
    """In place of EmbeddedModelServer: client settings that change more than the launcher ever named."""

    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def llm_settings(self) -> LLMSettings:
        return LLMSettings().model_copy(
            update={
                "base_url": self.base_url,
                "model": "fake-model",
                "attempt_tokens_per_s": 0.0,
                "max_concurrency": 3,
                "hedge_quantile": 0.9,
                "attempt_first_token_s": 45.0,
            }
        )


class FakeModelProcess(ChildProcess):
    """The fake LLM server on the port the launcher gives the embedded model."""

    def __post_init__(self) -> None:
        port = self.command[self.command.index("--port") + 1]
        self.command = [sys.executable, "-m", "tests.fake_llm", "--port", port]


async def test_the_launcher_passes_every_changed_setting_to_the_servers(no_llm_variables, monkeypatch, tmp_path):
    monkeypatch.setattr(launcher, "EmbeddedModelServer", StubModelServer)
    monkeypatch.setattr(launcher, "ChildProcess", FakeModelProcess)
    mesh = LocalMesh(data_dir=tmp_path)
    try:
        environment = await mesh._model_environment()
    finally:
        await mesh.stop(grace_s=2)
    assert environment["LLM_ATTEMPT_TOKENS_PER_S"] == "0.0"
    assert environment["LLM_HEDGE_QUANTILE"] == "0.9" and environment["LLM_ATTEMPT_FIRST_TOKEN_S"] == "45.0"
    assert environment["LLM_MAX_CONCURRENCY"] == "3" and environment["LLM_MODEL"] == "fake-model"
    assert environment["LLM_BASE_URL"] == mesh.llm_base_url == mesh.model_url
    assert "LLM_TIMEOUT_S" not in environment, "what llm_settings() leaves alone is not set"


async def test_a_base_url_without_its_v1_is_refused_with_the_fix():
    async with FakeLLMServer() as fake:
        assert await check_llm_endpoint(fake.base_url, model="fake-model") is None
        with pytest.raises(MeshStartError) as refused:
            await check_llm_endpoint(fake.root_url, model="fake-model")
        assert str(refused.value).endswith(f"Set LLM_BASE_URL={fake.root_url}/v1")
        assert "LLM_MODEL=gpt-x is not among the models" in await check_llm_endpoint(fake.base_url, model="gpt-x")
        warning = await check_llm_endpoint(f"{fake.root_url}/api", model="fake-model")
        assert "answers HTTP 404" in warning and "usually ends in /v1" in warning


async def test_an_endpoint_that_refuses_the_key_or_is_not_there_is_a_warning():
    async def refuse(request: web.Request) -> web.Response:
        return web.json_response({"error": "bad key"}, status=401)

    app = web.Application()
    app.router.add_get("/v1/models", refuse)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        warning = await check_llm_endpoint(f"http://127.0.0.1:{port}/v1", api_key="sk-wrong")
    finally:
        await runner.cleanup()
    assert "refuses the key (HTTP 401" in warning and "LLM_API_KEY" in warning and "sk-wrong" not in warning
    nobody = await check_llm_endpoint(f"http://127.0.0.1:{free_port()}/v1", timeout_s=2)
    assert nobody.startswith("nothing answers at LLM_BASE_URL=http://127.0.0.1:")
