"""One agent turn: the action rules, the cognitive state, failures and determinism."""

from __future__ import annotations

import pytest

from services.engine.simulation import (
    ActionType,
    AgentFailed,
    EnvironmentType,
    RoundCompleted,
    Simulation,
    SimulationFinished,
    TooManyAgentsFailed,
    WorldState,
)
from services.llm.errors import LLMInvalidOutputError, LLMUnavailableError
from tests.simulation.support import ScriptedLLM, run_all, talk, world

NAMES = ["Ana", "Bruno", "Carla", "Davi"]


def reply(*actions: tuple[str, str], **state: str) -> dict:
    return {
        "actions": [{"type": kind, "content": content} for kind, content in actions],
        "goals": state.get("goals", ""),
        "attention": state.get("attention", ""),
        "emotions": state.get("emotions", ""),
    }


async def test_thinking_off_drops_think_and_tells_the_model_not_to_think():
    state = world(["Ana"], rounds=1, enable_thinking=False)
    llm = ScriptedLLM(["Ana"], lambda call: reply(("TALK", "I would buy it")))
    await run_all(state, llm)
    call = llm.calls[0]
    assert "never use THINK" in call.system
    schema_types = call.output_model.model_json_schema()["$defs"]["SpeakingAction"]["properties"]["type"]["enum"]
    assert schema_types == ["TALK", "DONE"]
    assert [i.action for i in state.transcript[1:]] == [ActionType.TALK]


async def test_thinking_on_keeps_thoughts_private():
    names = ["Ana", "Bruno"]
    state = world(names, rounds=2)
    llm = ScriptedLLM(names, lambda call: reply(("THINK", f"{call.agent} private idea"), ("TALK", "hello")))
    await run_all(state, llm)
    assert "THINK (a private thought)" in llm.calls[0].system
    assert "Bruno private idea" not in llm.calls_of("Ana", 2)[0].user
    assert "you thought: Ana private idea" in llm.calls_of("Ana", 2)[0].user
    assert [i.action for i in state.transcript if i.agent_name == "Ana"] == [ActionType.THINK, ActionType.TALK] * 2


async def test_actions_are_capped_and_nothing_follows_done():
    state = world(["Ana"], rounds=2, max_actions_per_turn=2)
    contents = ["first point", "second point", "third point", "fourth point"]
    llm = ScriptedLLM(
        ["Ana"],
        lambda call: (
            reply(*[("TALK", c) for c in contents])
            if call.round == 1
            else reply(("TALK", "only this"), ("DONE", ""), ("TALK", "after done"))
        ),
    )
    await run_all(state, llm)
    assert '"actions": up to 2 actions' in llm.calls[0].system
    actions_schema = llm.calls[0].output_model.model_json_schema()["properties"]["actions"]
    assert (actions_schema["minItems"], actions_schema["maxItems"]) == (1, 2)
    acted = [(i.round, i.action, i.content) for i in state.transcript if i.agent_name == "Ana"]
    assert acted == [
        (1, ActionType.TALK, "first point"),
        (1, ActionType.TALK, "second point"),
        (2, ActionType.TALK, "only this"),
        (2, ActionType.DONE, ""),
    ]


async def test_near_identical_repeated_actions_are_cut():
    state = world(["Ana"], rounds=1)
    llm = ScriptedLLM(
        ["Ana"],
        lambda call: reply(
            ("TALK", "I love the design!"),
            ("TALK", "i love the design"),
            ("THINK", "I love the design"),
            ("TALK", "I love the designs."),
            ("TALK", "The price is too high"),
            ("TALK", "   "),
        ),
    )
    await run_all(state, llm)
    acted = [(i.action, i.content) for i in state.transcript[1:]]
    assert acted == [
        (ActionType.TALK, "I love the design!"),
        (ActionType.THINK, "I love the design"),
        (ActionType.TALK, "The price is too high"),
    ]


async def test_cognitive_state_follows_the_model_and_keeps_what_it_omits():
    state = world(["Ana"], rounds=2)
    llm = ScriptedLLM(
        ["Ana"],
        lambda call: (
            reply(("TALK", "hm"), goals="judge the price; stay polite", emotions="curious")
            if call.round == 1
            else reply(("TALK", "ok"), attention="the price tag")
        ),
    )
    await run_all(state, llm)
    cognitive = state.agents[0].cognitive_state
    assert cognitive.goals == ["judge the price", "stay polite"]
    assert cognitive.emotions == "curious" and cognitive.attention == "the price tag"
    assert cognitive.context == "A product test."
    second = llm.calls_of("Ana", 2)[0].user
    assert "Situation: A product test." in second
    assert "Your goals: judge the price; stay polite. Emotions: curious." in second


async def test_failed_agent_is_marked_and_the_others_continue():
    def script(call):
        if call.agent == "Bruno" and call.round == 1:
            return LLMUnavailableError("endpoint kept failing")
        return talk(f"{call.agent} speaks in round {call.round}")

    state = world(NAMES, rounds=2)
    llm = ScriptedLLM(NAMES, script)
    events = await run_all(state, llm)
    failures = [e for e in events if isinstance(e, AgentFailed)]
    assert failures == [AgentFailed(1, "Bruno", "LLMUnavailableError: endpoint kept failing")]
    completed = [e for e in events if isinstance(e, RoundCompleted)]
    assert [(e.agents_succeeded, e.agents_failed) for e in completed] == [(3, 1), (4, 0)]
    finished = events[-1]
    assert isinstance(finished, SimulationFinished)
    assert (finished.participants_total, finished.participants_successful, finished.participants_failed) == (4, 3, 1)
    assert state.failed_agents == {"Bruno": 1}
    assert "Ana speaks in round 1" in llm.calls_of("Bruno", 2)[0].user  # it still heard the others


async def test_more_failures_than_allowed_abort_the_run():
    state = world(NAMES, rounds=3, max_failed_fraction=0.5)
    llm = ScriptedLLM(
        NAMES, lambda call: LLMInvalidOutputError("bad", raw_text="{") if call.agent != "Ana" else talk("fine")
    )
    events = []
    with pytest.raises(TooManyAgentsFailed) as failure:
        async for event in Simulation(state, llm, session="sessions/s").run():
            events.append(event)
    assert (failure.value.round, failure.value.failed, failure.value.total) == (1, 3, 4)
    assert "3 of 4 agents failed in round 1" in str(failure.value)
    assert sum(isinstance(e, AgentFailed) for e in events) == 3
    assert not any(isinstance(e, RoundCompleted) for e in events)
    assert state.rounds_completed == 0


async def test_exactly_the_allowed_share_of_failures_is_tolerated():
    state = world(NAMES, rounds=1, max_failed_fraction=0.5)
    llm = ScriptedLLM(
        NAMES, lambda call: LLMUnavailableError("down") if call.agent in ("Ana", "Bruno") else talk("fine")
    )
    events = await run_all(state, llm)
    assert isinstance(events[-1], SimulationFinished) and events[-1].participants_failed == 2


async def test_every_call_carries_the_session_and_a_modest_token_budget():
    state = world(NAMES, rounds=1)
    llm = ScriptedLLM(NAMES, lambda call: talk("ok"))
    await run_all(state, llm, session="sessions/abc")
    assert {(call.session, call.max_tokens) for call in llm.calls} == {("sessions/abc", 256)}


def scripted_by_prompt(call) -> dict:
    """An answer that depends only on the prompt, as a cached model's would."""
    return talk(f"{call.agent} reacts to {len(call.user)} characters in round {call.round}")


async def test_resumed_world_continues_exactly_like_an_uninterrupted_one():
    uninterrupted = world(NAMES, rounds=4)
    llm_full = ScriptedLLM(NAMES, scripted_by_prompt)
    await run_all(uninterrupted, llm_full)

    interrupted = world(NAMES, rounds=4)
    llm_first = ScriptedLLM(NAMES, scripted_by_prompt)
    run = Simulation(interrupted, llm_first, session="sessions/test").run()
    async for event in run:
        if isinstance(event, RoundCompleted) and event.round == 2:
            snapshot = interrupted.model_dump_json()
            break
    await run.aclose()
    restored = WorldState.model_validate_json(snapshot)
    assert restored.rounds_completed == 2
    llm_rest = ScriptedLLM(NAMES, scripted_by_prompt)
    events = await run_all(restored, llm_rest)
    assert restored.transcript == uninterrupted.transcript
    assert restored.agents == uninterrupted.agents
    assert [(c.agent, c.round, c.system, c.user) for c in llm_rest.calls] == [
        (c.agent, c.round, c.system, c.user) for c in llm_full.calls if c.round > 2
    ]
    assert not any(getattr(event, "interaction", None) and event.interaction.round == 0 for event in events)


async def test_prompts_are_a_deterministic_function_of_the_state():
    first, second = world(NAMES, EnvironmentType.INTERVIEW, rounds=3), world(NAMES, EnvironmentType.INTERVIEW, rounds=3)
    llm_a, llm_b = ScriptedLLM(NAMES, scripted_by_prompt, 0.01), ScriptedLLM(NAMES, scripted_by_prompt)
    await run_all(first, llm_a)
    await run_all(second, llm_b)
    key = sorted((c.agent, c.round, c.system, c.user) for c in llm_a.calls)
    assert key == sorted((c.agent, c.round, c.system, c.user) for c in llm_b.calls)
    assert first.transcript == second.transcript
