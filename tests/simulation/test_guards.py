"""A turn that repeats the prompt's scaffolding (persona fence, rules, schema, profile) is invalid and asked again."""

from __future__ import annotations

import json

from services.engine.persona import Persona
from services.engine.simulation import ActionType, AgentFailed, TurnSettings
from services.engine.simulation.guards import scaffolding_echo
from services.engine.simulation.prompt import SCAFFOLDING_TEXTS
from tests.simulation.support import AGENT_FIXTURES, ScriptedLLM, run_all, talk, world

PROFILE = Persona.load(AGENT_FIXTURES / "Lisa.agent.json").describe(100_000)


def test_the_fence_the_schema_the_rules_and_a_pasted_profile_are_echoes():
    assert scaffolding_echo("<persona>\nName: Mei Lin (age 31)\n</persona> I like it", PROFILE) == "the persona fence"
    assert scaffolding_echo('{"type": "TALK", "content": "hello"}', PROFILE) == "the output schema"
    assert (
        scaffolding_echo("Stay in character as the person profiled between the lines", PROFILE)
        == "the rules of the turn"
    )
    assert scaffolding_echo("Round 1 of 2. New: moderator asks", PROFILE) == "the rules of the turn"
    assert scaffolding_echo("The person profiled is talking to me about the bike.", PROFILE) == "the rules of the turn"
    assert scaffolding_echo("target:", PROFILE) == scaffolding_echo("TALK", PROFILE) == "the output schema"
    pasted = " ".join(PROFILE.split()[40:75])
    assert scaffolding_echo(f"Well, {pasted}", PROFILE) == "your persona profile"


def test_speaking_in_character_is_not_an_echo():
    assert scaffolding_echo("I would subscribe if the price were lower; 49 EUR is a lot for me.", PROFILE) == ""
    # quoting one belief of the profile is speaking as the person
    assert scaffolding_echo("Honestly, privacy and security are fundamental in technology development.", PROFILE) == ""
    assert scaffolding_echo("I am a data scientist, so I want to see the numbers first.", PROFILE) == ""


def test_every_fixed_rule_is_known():
    assert any("Stay in character" in text for text in SCAFFOLDING_TEXTS)
    assert any('"actions": up to' in text for text in SCAFFOLDING_TEXTS)


async def test_an_echoing_answer_is_asked_again_with_the_reason_and_only_the_good_one_is_kept():
    def script(call):
        if not call.follow_up:
            return talk(f"<persona>\n{call.system.split('<persona>')[1][:200]}")
        return talk("I would try it for a month.")

    state = world(["Ana", "Bruno"], rounds=1)
    llm = ScriptedLLM(["Ana", "Bruno"], script)
    events = await run_all(state, llm)
    assert not any(isinstance(event, AgentFailed) for event in events)
    assert len(llm.calls) == 4
    retry = llm.calls_of("Ana")[1]
    assert retry.follow_up[0]["role"] == "assistant" and "<persona>" in retry.follow_up[0]["content"]
    assert json.loads(retry.follow_up[0]["content"])["actions"][0]["type"] == "TALK"
    assert "repeated the persona fence instead of speaking as Ana" in retry.follow_up[1]["content"]
    said = [i.content for i in state.transcript if i.action is ActionType.TALK]
    assert said == ["I would try it for a month.", "I would try it for a month."]
    assert all("<persona>" not in event.content for agent in state.agents for event in agent.memory)


async def test_a_turn_whose_every_answer_echoes_is_silent_and_the_agent_stays():
    state = world(["Ana", "Bruno"], rounds=1)
    llm = ScriptedLLM(
        ["Ana", "Bruno"], lambda call: talk('{"actions": []}') if call.agent == "Ana" else talk("Fine by me.")
    )
    events = await run_all(state, llm, settings=TurnSettings(echo_retries=1))
    assert not [event for event in events if isinstance(event, AgentFailed)]
    said = {(i.agent_name, i.content) for i in state.transcript if i.action is ActionType.TALK}
    assert said == {("Bruno", "Fine by me.")}
    assert all('{"actions"' not in event.content for agent in state.agents for event in agent.memory)
    assert len(llm.calls_of("Ana")) == 2 and len(llm.calls_of("Bruno")) == 1


async def test_retries_are_a_deterministic_function_of_the_answers():
    def script(call):
        return talk("Types: THINK (a private thought), TALK (what you say") if not call.follow_up else talk("ok then")

    first, second = world(["Ana"], rounds=2), world(["Ana"], rounds=2)
    llm_a, llm_b = ScriptedLLM(["Ana"], script), ScriptedLLM(["Ana"], script)
    await run_all(first, llm_a)
    await run_all(second, llm_b)
    assert [(c.system, c.user, c.follow_up) for c in llm_a.calls] == [
        (c.system, c.user, c.follow_up) for c in llm_b.calls
    ]
    assert first.transcript == second.transcript
    assert [bool(c.follow_up) for c in llm_a.calls] == [False, True, False, True]


def test_what_is_never_recorded_is_not_checked():
    from types import SimpleNamespace

    from services.engine.simulation.guards import reply_echo

    said = SimpleNamespace(type="TALK", content="I like it.")
    done = SimpleNamespace(type="DONE", content="done")
    after = SimpleNamespace(type="TALK", content="<persona>")
    assert reply_echo([said, done, after], PROFILE) == ""
    assert reply_echo([SimpleNamespace(type="THINK", content="type: TALK")], PROFILE) == "the output schema"
