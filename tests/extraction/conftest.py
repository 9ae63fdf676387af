"""Shared builders of the extraction tests: transcripts, requests and a scripted fake model."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from tinytroupe_mesh_api.common.v1 import agent_pb2, study_pb2
from tinytroupe_mesh_api.extraction.v1 import extraction_pb2

from services.runtime.config import LLMSettings, MeshSettings
from tests.fake_llm import FakeLLMServer
from tests.fake_llm.settings import client_settings

TALK = study_pb2.ACTION_TYPE_TALK
THINK = study_pb2.ACTION_TYPE_THINK
STIMULUS = study_pb2.ACTION_TYPE_STIMULUS

STIMULUS_TEXT = "What do you think of the new SolarBrew coffee maker at 89 dollars?"


def said(name: str, rating: int) -> str:
    """What agent `name` says in the standard test transcript."""
    return f"I would rate it {rating} out of 10. My worry is the high price, {name} thinks."


def transcript(
    lines: list[tuple[str, int, str]] | None = None,
    *,
    ratings: dict[str, int] | None = None,
) -> list[study_pb2.Interaction]:
    """A moderator stimulus then, per agent, one TALK; or the given (agent, action, content) lines."""
    entries: list[study_pb2.Interaction] = [
        study_pb2.Interaction(round=0, agent_name="moderator", action=STIMULUS, content=STIMULUS_TEXT, sequence=0)
    ]
    if lines is None:
        lines = [(name, TALK, said(name, rating)) for name, rating in (ratings or {}).items()]
    for index, (name, action, content) in enumerate(lines, start=1):
        entries.append(study_pb2.Interaction(round=1, agent_name=name, action=action, content=content, sequence=index))
    return entries


def agent(name: str) -> agent_pb2.Agent:
    return agent_pb2.Agent(name=name, spec_json=json.dumps({"type": "TinyPerson", "persona": {"name": name}}))


def extraction_request(
    names: list[str],
    interactions: list[study_pb2.Interaction],
    *,
    fields: list[str],
    hints: dict[str, str] | None = None,
    statistics: bool = True,
    mode: int = study_pb2.ExtractionConfig.MODE_PER_AGENT,
    session: str = "",
    failed: list[str] = (),
    request_id: str = "",
) -> extraction_pb2.ExtractResultsRequest:
    return extraction_pb2.ExtractResultsRequest(
        session=session,
        agents=[agent(name) for name in names],
        transcript=interactions,
        config=study_pb2.ExtractionConfig(
            extract_results=True,
            extraction_objective="Find each participant's opinion of the product.",
            situation="A focus group about a coffee maker.",
            fields=fields,
            fields_hints=hints or {},
            statistical_analysis=statistics,
            mode=mode,
        ),
        failed_agents=list(failed),
        request_id=request_id,
    )


AGENT_PROMPT = re.compile(r"Extract the fields for (.+)\.\s*$")


def answer_per_agent(answers: Callable[[str], dict[str, Any]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A fake-model script answering a per-agent extraction with `answers(agent_name)`."""

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        last_user = [message for message in body["messages"] if message["role"] == "user"][-1]["content"]
        match = AGENT_PROMPT.search(last_user)
        assert match, f"not a per-agent extraction prompt: {last_user[-200:]}"
        return answers(match.group(1))

    return answer


@pytest.fixture
async def fake_llm() -> AsyncIterator[FakeLLMServer]:
    async with FakeLLMServer(latency=0.05) as server:
        yield server


def llm_settings(fake: FakeLLMServer, **overrides: Any) -> LLMSettings:
    return client_settings(fake, **overrides)


@pytest.fixture
def mesh_settings(fake_llm: FakeLLMServer, tmp_path) -> MeshSettings:
    """Extraction settings aimed at the fake model; control on an address nothing listens on."""
    return MeshSettings(
        data_dir=tmp_path,
        metrics_port=0,
        log_level="WARNING",
        llm=llm_settings(fake_llm),
        control_address="127.0.0.1:9",
    )
