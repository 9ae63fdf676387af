"""The embedded model: its chat format, and one end-to-end call on real llama.cpp with real weights."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, Field

from services.llm import InMemoryResponseCache, LLMClient
from services.llm.embedded import EmbeddedModelServer
from services.llm.llama_server import gemma3_prompt


class EmbeddedAction(BaseModel):
    type: Literal["THINK", "TALK", "DONE"]
    content: str = Field(max_length=160)
    target: str | None = Field(default=None, max_length=40)


class EmbeddedTurn(BaseModel):
    """An agent turn bounded the way a small model needs: string lengths cap the answer."""

    actions: list[EmbeddedAction] = Field(min_length=1, max_length=3)
    emotions: str = Field(max_length=40)


def test_gemma3_prompt_keeps_the_system_prompt_in_the_first_user_turn() -> None:
    prompt = gemma3_prompt(
        [
            {"role": "system", "content": "You are Lisa."},
            {"role": "user", "content": "Hello?"},
            {"role": "assistant", "content": '{"a": 1}'},
            {"role": "user", "content": "Fix it."},
            {"role": "user", "content": "Now."},
        ]
    )
    assert prompt == (
        "<start_of_turn>user\nYou are Lisa.\n\nHello?<end_of_turn>\n"
        '<start_of_turn>model\n{"a": 1}<end_of_turn>\n'
        "<start_of_turn>user\nFix it.\n\nNow.<end_of_turn>\n"
        "<start_of_turn>model\n"
    )


def test_gemma3_prompt_with_only_a_system_message() -> None:
    assert gemma3_prompt([{"role": "system", "content": "Describe a person."}]) == (
        "<start_of_turn>user\nDescribe a person.<end_of_turn>\n<start_of_turn>model\n"
    )


def test_the_server_command_scrubs_nothing_it_needs() -> None:
    server = EmbeddedModelServer(port=18123, n_ctx=2048, threads=2)
    command = server.command(Path("/models/m.gguf"))
    assert command[1:3] == ["-m", "services.llm.llama_server"]
    for flag, value in (
        ("--port", "18123"),
        ("--n_ctx", "2048"),
        ("--seed", "42"),
        ("--chat_format", "gemma3"),
    ):
        assert command[command.index(flag) + 1] == value
    settings = server.llm_settings()
    assert settings.base_url == "http://127.0.0.1:18123/v1"
    assert settings.response_format == "json_object_schema" and settings.max_concurrency == 1


@pytest.mark.slow
@pytest.mark.embedded
async def test_the_embedded_model_answers_a_schema_valid_agent_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (pip install -e '.[embedded]')")
    monkeypatch.setenv("PORT", "1")  # a mesh process's own PORT must not reach the model server
    messages = [
        {
            "role": "system",
            "content": "You are Lisa Carter, a 28-year-old data scientist in a focus group. Each turn you "
            "return your actions (THINK, TALK, then DONE) and your emotions.",
        },
        {"role": "user", "content": "The moderator asks: what do you think about electric cars?"},
    ]
    cache = InMemoryResponseCache()
    async with EmbeddedModelServer(log_path=tmp_path / "model.log") as server:
        client = LLMClient(server.llm_settings(), cache=cache)
        started = time.monotonic()
        turn = await client.structured(messages, EmbeddedTurn, session="sessions/e2e")
        elapsed = time.monotonic() - started
        replayed = await LLMClient(server.llm_settings(), cache=cache).structured(
            messages, EmbeddedTurn, session="sessions/e2e"
        )
        await client.aclose()

    assert isinstance(turn, EmbeddedTurn) and 1 <= len(turn.actions) <= 3
    assert all(action.type in ("THINK", "TALK", "DONE") for action in turn.actions)
    usage = client.usage("sessions/e2e")
    assert usage.model_requests >= 1 and usage.completion_tokens > 5
    assert replayed == turn
    print(
        f"embedded turn in {elapsed:.1f}s, {usage.completion_tokens} completion tokens: {turn.model_dump_json()}"
    )
