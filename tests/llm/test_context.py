"""The model's context: the setting, the embedded model's, what vLLM or llama.cpp report, else the default."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from services.llm.context import (
    DEFAULT_CONTEXT_TOKENS,
    ContextSize,
    ContextWindow,
    context_from_models,
    context_from_props,
    resolve_context,
)
from services.llm.embedded import DEFAULT_N_CTX, MODEL_ALIAS
from services.runtime.config import LLMSettings


@contextlib.asynccontextmanager
async def endpoint(routes: dict[str, Any]) -> AsyncIterator[str]:
    """A server answering GET `path` with the JSON `routes[path]` (404 elsewhere); yields its base URL."""
    seen: list[str] = []

    async def answer(request: web.Request) -> web.Response:
        seen.append(request.path)
        if request.path not in routes:
            raise web.HTTPNotFound()
        return web.json_response(routes[request.path])

    app = web.Application()
    app.router.add_get("/{tail:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        await runner.cleanup()


VLLM_MODELS = {
    "object": "list",
    "data": [
        {"id": "other", "object": "model", "max_model_len": 4096},
        {"id": "Qwen/Qwen2.5-7B-Instruct", "object": "model", "max_model_len": 32768},
    ],
}
LLAMA_CPP_PROPS = {"default_generation_settings": {"n_ctx": 16384}, "total_slots": 4}


def test_the_reports_are_read_from_vllm_and_llama_cpp():
    assert context_from_models(VLLM_MODELS, "Qwen/Qwen2.5-7B-Instruct") == 32768
    assert context_from_models(VLLM_MODELS, "unknown") == 4096  # the first that says
    assert context_from_models({"data": [{"id": "m"}]}, "m") is None
    assert context_from_models({"data": "nonsense"}, "m") is None
    assert context_from_props(LLAMA_CPP_PROPS) == 16384
    assert context_from_props({"n_ctx": 8192}) == 8192
    assert context_from_props({"n_ctx": -1}) is None


async def test_a_setting_wins_and_no_server_is_asked():
    assert await resolve_context(LLMSettings(base_url="http://127.0.0.1:9/v1", context_tokens=65536)) == ContextSize(
        65536, "setting"
    )


async def test_the_embedded_model_has_its_own_context():
    assert await resolve_context(LLMSettings(base_url=None)) == ContextSize(DEFAULT_N_CTX, "embedded")


async def test_vllm_reports_max_model_len():
    async with endpoint({"/v1/models": VLLM_MODELS}) as url:
        settings = LLMSettings(base_url=url, model="Qwen/Qwen2.5-7B-Instruct")
        assert await resolve_context(settings) == ContextSize(32768, "server")


async def test_llama_cpp_reports_n_ctx_at_its_root():
    async with endpoint({"/v1/models": {"data": [{"id": "local"}]}, "/props": LLAMA_CPP_PROPS}) as url:
        assert await resolve_context(LLMSettings(base_url=url, model="local")) == ContextSize(16384, "server")


async def test_a_server_that_says_nothing_gets_the_default_or_the_embedded_models_own(fake_llm):
    assert await resolve_context(LLMSettings(base_url=fake_llm.base_url, model="some-model")) == ContextSize(
        DEFAULT_CONTEXT_TOKENS, "default"
    )
    assert await resolve_context(LLMSettings(base_url=fake_llm.base_url, model=MODEL_ALIAS)) == ContextSize(
        DEFAULT_N_CTX, "embedded"
    )
    assert await resolve_context(LLMSettings(base_url="http://127.0.0.1:9/v1", model="m")) == ContextSize(
        DEFAULT_CONTEXT_TOKENS, "default"
    )  # unreachable


async def test_azure_is_not_probed():
    settings = LLMSettings(provider="azure", azure_endpoint="http://127.0.0.1:9")
    assert await resolve_context(settings) == ContextSize(DEFAULT_CONTEXT_TOKENS, "default")


async def test_a_process_resolves_its_context_once():
    calls = []

    async def resolve(settings: LLMSettings) -> ContextSize:
        calls.append(settings)
        return ContextSize(12345, "server")

    window = ContextWindow(LLMSettings(base_url="http://x/v1"), resolve)
    assert [await window.size() for _ in range(3)] == [ContextSize(12345, "server")] * 3
    assert len(calls) == 1
