"""The embedded model: its chat format, its server's command line and client settings, and concurrent
end-to-end calls on real llama.cpp with real weights."""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import re
import time
import tomllib
from pathlib import Path
from typing import Any, Literal

import aiohttp
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from services.llm import InMemoryResponseCache, LLMClient, embedded
from services.llm.embedded import EmbeddedModelServer, default_slots, default_threads
from services.llm.llama_server import GEMMA3_CHAT_TEMPLATE, gemma3_prompt

ROOT = Path(__file__).resolve().parents[2]


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


def flag(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_llama_cpp_server_runs_one_slot_per_core_with_a_context_each() -> None:
    server = EmbeddedModelServer(port=18123, n_ctx=2048, slots=3, threads=2, binary=Path("/opt/llama-server"))
    command = server.command(Path("/models/m.gguf"))
    assert command[0] == "/opt/llama-server"
    for name, value in (
        ("--port", "18123"),
        ("--parallel", "3"),
        ("--ctx-size", str(3 * 2048)),
        ("--seed", "42"),
        ("--threads", "2"),
        ("--alias", "gemma-3-270m"),
        ("--repeat-penalty", "1.1"),
    ):
        assert flag(command, name) == value
    assert "--jinja" in command and flag(command, "--chat-template") == GEMMA3_CHAT_TEMPLATE
    settings = server.llm_settings()
    assert settings.base_url == "http://127.0.0.1:18123/v1"
    assert settings.response_format == "json_schema" and settings.max_concurrency == 3
    assert settings.attempt_tokens_per_s == 0, "a slow answer is a busy machine: a retry would be no faster"


def test_slots_follow_the_cores_and_threads_leave_one_to_the_mesh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded.os, "cpu_count", lambda: 1)
    assert (default_slots(), default_threads()) == (2, 1)
    monkeypatch.setattr(embedded.os, "cpu_count", lambda: 2)
    assert (default_slots(), default_threads()) == (2, 1)
    monkeypatch.setattr(embedded.os, "cpu_count", lambda: 8)
    assert (default_slots(), default_threads()) == (8, 7)
    assert EmbeddedModelServer(binary=Path("/opt/llama-server")).llm_settings().max_concurrency == 8


def test_without_the_built_server_llama_cpp_python_serves_one_call_at_a_time(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(embedded, "LLAMA_SERVER_BINARY", tmp_path / "missing" / "llama-server")
    server = EmbeddedModelServer(port=18123, n_ctx=2048, slots=4, threads=2)
    command = server.command(Path("/models/m.gguf"))
    assert command[1:3] == ["-m", "services.llm.llama_server"]
    for name, value in (("--port", "18123"), ("--n_ctx", "2048"), ("--seed", "42"), ("--chat_format", "gemma3")):
        assert flag(command, name) == value
    settings = server.llm_settings()
    assert settings.response_format == "json_object_schema" and settings.max_concurrency == 1
    assert settings.attempt_tokens_per_s == 0


def test_the_install_script_builds_the_llama_cpp_of_the_pinned_llama_cpp_python() -> None:
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["embedded"]
    [pin] = [requirement for requirement in extra if requirement.startswith("llama-cpp-python")]
    script = (ROOT / "scripts" / "install-llama-server.sh").read_text()
    [version] = re.findall(r'^LLAMA_CPP_PYTHON_VERSION="([^"]+)"$', script, re.MULTILINE)
    assert pin.endswith(f"=={version}")
    assert "--target llama-server" in script and "-DLLAMA_BUILD_UI=OFF" in script


ROLES = st.sampled_from(["system", "developer", "user", "assistant", "tool"])
TEXT = st.text(st.sampled_from(list('ab {}\n"\\é')), max_size=12)
CONTENT = st.one_of(
    TEXT, st.none(), st.lists(st.fixed_dictionaries({"type": st.just("text"), "text": TEXT}), max_size=2)
)


@functools.cache
def jinja_template() -> Any:
    return pytest.importorskip("jinja2").Environment().from_string(GEMMA3_CHAT_TEMPLATE)


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.lists(st.fixed_dictionaries({"role": ROLES, "content": CONTENT}), min_size=1, max_size=6))
def test_the_jinja_template_renders_the_gemma3_prompt(messages: list[dict[str, Any]]) -> None:
    assert jinja_template().render(messages=messages, add_generation_prompt=True) == gemma3_prompt(messages)


TURN_MESSAGES = [
    {
        "role": "system",
        "content": "You are {name}, a 28-year-old data scientist in a focus group. Each turn you "
        "return your actions (THINK, TALK, then DONE) and your emotions.",
    },
    {"role": "user", "content": "The moderator asks: what do you think about {topic}?"},
]


def turn_messages(name: str, topic: str) -> list[dict[str, str]]:
    return [{**message, "content": message["content"].format(name=name, topic=topic)} for message in TURN_MESSAGES]


@pytest.mark.slow
@pytest.mark.embedded
async def test_the_embedded_model_answers_concurrent_schema_valid_agent_turns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if embedded.llama_server_binary() is None and importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("no embedded model server: run scripts/install-llama-server.sh or pip install -e '.[embedded]'")
    monkeypatch.setenv("PORT", "1")  # a mesh process's own PORT must not reach the model server
    monkeypatch.setenv("LLAMA_ARG_CTX_SIZE", "64")  # nor llama-server's settings
    calls = [
        turn_messages(name, topic)
        for name, topic in (
            ("Lisa Carter", "electric cars"),
            ("Oscar Diaz", "remote work"),
            ("Marcos Lima", "bike lanes"),
        )
    ]
    cache = InMemoryResponseCache()
    async with EmbeddedModelServer(log_path=tmp_path / "model.log") as server:
        if server.binary is not None:
            async with aiohttp.ClientSession() as http, http.get(f"http://{server.host}:{server.port}/props") as props:
                assert (await props.json())["total_slots"] == server.slots
        client = LLMClient(server.llm_settings(), cache=cache)
        started = time.monotonic()
        turns = await asyncio.gather(
            *(client.structured(messages, EmbeddedTurn, session="sessions/e2e") for messages in calls)
        )
        elapsed = time.monotonic() - started
        replaying = LLMClient(server.llm_settings(), cache=cache)
        replayed = await asyncio.gather(
            *(replaying.structured(messages, EmbeddedTurn, session="sessions/e2e") for messages in calls)
        )
        await client.aclose()
        await replaying.aclose()

    for turn in turns:
        assert isinstance(turn, EmbeddedTurn) and 1 <= len(turn.actions) <= 3
        assert all(action.type in ("THINK", "TALK", "DONE") for action in turn.actions)
    usage = client.usage("sessions/e2e")
    assert usage.calls == len(calls) and usage.completion_tokens > 5 * len(calls)
    assert replayed == turns and replaying.usage("sessions/e2e").cached_calls == len(calls)
    print(
        f"{len(calls)} concurrent embedded turns on {server.server_name} ({server.slots} slots) in {elapsed:.1f}s, "
        f"{usage.completion_tokens} completion tokens ({usage.completion_tokens / elapsed:.0f}/s): "
        f"{turns[0].model_dump_json()}"
    )


@pytest.mark.slow
@pytest.mark.embedded
async def test_llama_cpp_server_renders_the_gemma3_prompt(tmp_path: Path) -> None:
    if embedded.llama_server_binary() is None:
        pytest.skip("llama.cpp's server is not built: scripts/install-llama-server.sh")
    conversations = [
        [
            {"role": "system", "content": "You are Lisa."},
            {"role": "user", "content": "Hello?"},
            {"role": "assistant", "content": '{"a": 1}'},
            {"role": "user", "content": "Fix it."},
            {"role": "user", "content": "Now."},
        ],
        [{"role": "system", "content": "Describe a person."}],
        [
            {"role": "user", "content": " A "},
            {"role": "system", "content": "S1"},
            {"role": "developer", "content": "S2"},
            {"role": "assistant", "content": "B"},
            {"role": "system", "content": "S3"},
        ],
    ]  # (llama.cpp joins a message's text parts before the template sees them: text only here)
    async with EmbeddedModelServer(slots=2, log_path=tmp_path / "model.log") as server, aiohttp.ClientSession() as http:
        for messages in conversations:
            async with http.post(
                f"http://{server.host}:{server.port}/apply-template", json={"messages": messages}
            ) as response:
                rendered = (await response.json())["prompt"]
            assert rendered.removeprefix("<bos>") == gemma3_prompt(messages)
