"""Prompt budgets follow the model's context: from 8k tokens on, every fact of the persona is in every turn."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from tinytroupe_mesh_api.common.v1 import agent_pb2

from services.engine.fragments import apply_fragments
from services.engine.persona import Persona
from services.engine.simulation import MemoryPolicy, PromptLimits, TurnSettings
from services.engine.simulation.prompt import WHOLE_PERSONA_CONTEXT
from services.simulation.convert import agent_from_proto
from tests.engine.support import AGENT_FILES, FRAGMENT_FILES
from tests.simulation.mesh import run_request, running_mesh, spec_named
from tests.simulation.support import ScriptedLLM, run_all, talk, world


def leaves(value: Any) -> Iterator[str]:
    """Every leaf fact of a persona: its texts and numbers, nested ones included."""
    if isinstance(value, dict):
        for item in value.values():
            yield from leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from leaves(item)
    elif value is not None and str(value).strip():
        yield " ".join(str(value).split())


def share_whole(persona: dict[str, Any], prompt: str) -> float:
    flat = " ".join(prompt.split())
    facts = list(leaves(persona))
    return sum(fact in flat for fact in facts) / len(facts)


def merged_with_fragments(path) -> Persona:
    fragments = [
        json.loads(fragment.read_text())
        for fragment in FRAGMENT_FILES
        if fragment.name.startswith(("genuine", "loving_parent", "picky_customer"))
    ]
    return apply_fragments(Persona.load(path), fragments)


async def turn_prompt(persona: Persona, settings: TurnSettings) -> str:
    proto = agent_pb2.Agent(spec_json=persona.to_spec_json(indent=None))
    agent = agent_from_proto(proto, persona, settings.prompt.persona_chars)
    state = world([agent.name], rounds=1)
    state.agents = [agent]
    llm = ScriptedLLM([agent.name], lambda call: talk("I see."))
    await run_all(state, llm, settings=settings)
    (call,) = llm.calls
    assert len(call.system) + len(call.user) <= settings.prompt.total_chars
    return call.prompt


@pytest.mark.parametrize("context_tokens", [WHOLE_PERSONA_CONTEXT, 32768, 131072])
@pytest.mark.parametrize("path", AGENT_FILES, ids=lambda path: path.name)
async def test_with_a_large_context_the_turn_prompt_holds_every_fact_of_the_persona(path, context_tokens):
    persona = merged_with_fragments(path)
    prompt = await turn_prompt(persona, TurnSettings.for_context(context_tokens))
    flat = " ".join(prompt.split())
    missing = [fact for fact in leaves(persona.persona) if fact not in flat]
    assert missing == []
    assert "Other facts:" in prompt and "Behaviors:" in prompt


@pytest.mark.parametrize("path", AGENT_FILES, ids=lambda path: path.name)
async def test_a_small_context_gets_the_compact_rendering(path):
    persona = Persona.load(path)
    small = await turn_prompt(persona, TurnSettings.for_context(2048))
    assert small.count("\n") < 40 and f"Name: {persona.name}" in small
    assert share_whole(persona.persona, small) < 0.5


def test_budgets_grow_with_the_context():
    small, embedded, large = (TurnSettings.for_context(tokens) for tokens in (2048, 4096, 131072))
    assert small.prompt.total_chars < embedded.prompt.total_chars < large.prompt.total_chars
    assert small.prompt.persona_chars < embedded.prompt.persona_chars < large.prompt.persona_chars
    assert small.memory.recent_events < embedded.memory.recent_events < large.memory.recent_events
    assert embedded.memory == MemoryPolicy.for_context(4096) and embedded.memory.recent_events == 16
    assert large.prompt == PromptLimits.for_context(131072, 256)
    # the prompt, the reply and a follow-up fit the context at three characters a token
    for tokens, settings in ((2048, small), (4096, embedded)):
        assert settings.prompt.total_chars / 3 + 2 * settings.max_tokens <= tokens


async def test_the_service_sizes_prompts_to_the_models_context(tmp_path):
    """The fake model reports no context: the default (8192 tokens) puts the whole persona in every turn."""
    async with running_mesh(tmp_path, latency_s=0.0) as mesh:
        session = await mesh.begin_session()
        events = [
            event
            async for event in mesh.simulation.RunSimulation(
                run_request(session, ["Lisa Carter", "Oscar Diaz"], rounds=1), timeout=30
            )
        ]
        assert events[-1].HasField("finished")
        persona = json.loads(spec_named("Oscar Diaz"))["persona"]
        systems = [
            record.body["messages"][0]["content"]
            for record in mesh.fake.stats.requests
            if record.body and record.body["messages"][0]["content"].startswith("You are Oscar Diaz.")
        ]
        assert len(systems) == 1
        assert share_whole(persona, systems[0]) == 1.0
