"""Who hears what in each world, and in which order agents act."""

from __future__ import annotations

import time

from services.engine.simulation import (
    MODERATOR,
    ActionRecorded,
    ActionType,
    EnvironmentType,
    MemoryKind,
    TurnOrder,
)
from tests.simulation.support import ScriptedLLM, run_all, talk, world

NAMES = ["Ana", "Bruno", "Carla"]


def secret(agent: str, round_number: int) -> str:
    return f"{agent} secret number {round_number}"


def speak_secrets(call):
    return talk(secret(call.agent, call.round))


def others_secrets(agent: str, rounds: int) -> list[str]:
    return [secret(other, r) for other in NAMES if other != agent for r in range(1, rounds + 1)]


async def test_survey_agents_never_hear_each_other():
    state = world(NAMES, EnvironmentType.SURVEY, rounds=3)
    llm = ScriptedLLM(NAMES, speak_secrets)
    await run_all(state, llm)
    assert len(llm.calls) == 9
    for call in llm.calls:
        assert not any(text in call.prompt for text in others_secrets(call.agent, 3))
        assert "nobody else hears your answers" in call.system
    assert not state.pending_messages
    for agent in state.agents:
        assert {event.source for event in agent.memory} == {MODERATOR, agent.name}
    spoken = [i.content for i in state.transcript if i.action is ActionType.TALK]
    assert sorted(spoken) == sorted(secret(name, r) for name in NAMES for r in (1, 2, 3))


async def test_focus_group_broadcast_reaches_every_other_agent():
    state = world(NAMES, rounds=2, broadcast_mode=True)
    llm = ScriptedLLM(NAMES, speak_secrets)
    await run_all(state, llm)
    for name in NAMES:
        first, second = llm.calls_of(name, 1)[0], llm.calls_of(name, 2)[0]
        assert not any(secret(other, 1) in first.user for other in NAMES if other != name)
        new_part = second.user.split("Round 2 of 2. New:", 1)[1]
        for other in NAMES:
            if other != name:
                assert f"{other} said: {secret(other, 1)}" in new_part
        assert f"you said: {secret(name, 1)}" in second.user
        assert secret(name, 1) not in new_part


async def test_broadcast_off_delivers_targeted_talk_to_its_target_only():
    def script(call):
        if call.agent == "Ana":
            return talk("psst, only for you", target="bruno")  # names resolve case-insensitively
        if call.agent == "Carla":
            return talk("hello everyone")
        return talk("fine")

    state = world(NAMES, rounds=2, broadcast_mode=False)
    llm = ScriptedLLM(NAMES, script)
    await run_all(state, llm)
    bruno, carla, ana = (llm.calls_of(name, 2)[0].user for name in ("Bruno", "Carla", "Ana"))
    assert "Ana said: (to you) psst, only for you" in bruno
    assert "psst" not in carla
    assert "Carla said: hello everyone" in ana and "Carla said: hello everyone" in bruno
    targeted = next(i for i in state.transcript if i.agent_name == "Ana" and i.action is ActionType.TALK)
    assert targeted.target == "Bruno"


async def test_broadcast_on_lets_everyone_overhear_targeted_talk():
    state = world(NAMES, rounds=2, broadcast_mode=True)
    llm = ScriptedLLM(NAMES, lambda call: talk("psst", target="Bruno") if call.agent == "Ana" else talk("ok"))
    await run_all(state, llm)
    assert "Ana said: (to you) psst" in llm.calls_of("Bruno", 2)[0].user
    assert "Ana said: (to Bruno) psst" in llm.calls_of("Carla", 2)[0].user


async def test_unknown_or_own_target_means_everyone():
    state = world(NAMES, rounds=2, broadcast_mode=False)
    llm = ScriptedLLM(
        NAMES,
        lambda call: (
            talk("hi", target="the room")
            if call.agent == "Ana"
            else talk("me", target="Bruno")
            if call.agent == "Bruno"
            else talk("ok")
        ),
    )
    await run_all(state, llm)
    talks = {i.agent_name: i.target for i in state.transcript if i.action is ActionType.TALK and i.round == 1}
    assert talks["Ana"] == "" and talks["Bruno"] == ""
    assert "Ana said: hi" in llm.calls_of("Carla", 2)[0].user


async def test_stimulus_reaches_only_its_target_agents():
    state = world(NAMES, rounds=1, targets=["Carla"])
    llm = ScriptedLLM(NAMES, lambda call: talk("ok"))
    await run_all(state, llm)
    assert "SolarKettle" in llm.calls_of("Carla", 1)[0].user
    assert "SolarKettle" not in llm.calls_of("Ana", 1)[0].user
    stimulus_entries = [i for i in state.transcript if i.action is ActionType.STIMULUS]
    assert [(i.round, i.agent_name, i.target) for i in stimulus_entries] == [(0, MODERATOR, "Carla")]


async def test_interview_asks_each_agent_to_elaborate_and_keeps_them_apart():
    state = world(NAMES, EnvironmentType.INTERVIEW, rounds=3)
    llm = ScriptedLLM(NAMES, speak_secrets)
    events = await run_all(state, llm)
    for name in NAMES:
        round2 = llm.calls_of(name, 2)[0].user.split("Round 2 of 3. New:", 1)[1]
        assert f'moderator: You said: "{secret(name, 1)}". Could you elaborate on that?' in round2
        round3 = llm.calls_of(name, 3)[0].user.split("Round 3 of 3. New:", 1)[1]
        assert f'You said: "{secret(name, 2)}"' in round3
        for call in llm.calls_of(name):
            assert not any(text in call.prompt for text in others_secrets(name, 3))
        assert "interviewed one to one" in llm.calls_of(name, 1)[0].system
    follow_ups = [i for i in state.transcript if i.action is ActionType.STIMULUS and i.round > 0]
    assert [(i.round, i.target) for i in follow_ups] == [(r, n) for r in (2, 3) for n in NAMES]
    streamed = [e.interaction for e in events if isinstance(e, ActionRecorded)]
    assert streamed == state.transcript
    assert [i.sequence for i in state.transcript] == list(range(len(state.transcript)))


async def test_interview_follow_up_after_silence_asks_for_more():
    state = world(["Ana"], EnvironmentType.INTERVIEW, rounds=2)
    llm = ScriptedLLM(
        ["Ana"],
        lambda call: {"actions": [{"type": "DONE", "content": ""}], "goals": "", "attention": "", "emotions": ""},
    )
    await run_all(state, llm)
    assert (
        "Is there anything you would like to add about: What do you think of the SolarKettle?"
        in llm.calls_of("Ana", 2)[0].user
    )


async def test_concurrent_round_acts_on_one_snapshot_and_costs_one_latency():
    names = [f"Agent{index:02d}" for index in range(20)]
    state = world(names, rounds=1)
    llm = ScriptedLLM(names, speak_secrets, latency_s=0.1)
    started = time.perf_counter()
    await run_all(state, llm)
    elapsed = time.perf_counter() - started
    assert llm.peak_in_flight == 20
    assert elapsed < 0.5
    for call in llm.calls:
        assert "secret" not in call.user


async def test_sequential_order_lets_later_agents_hear_earlier_ones():
    state = world(NAMES, rounds=2, turn_order=TurnOrder.SEQUENTIAL)
    llm = ScriptedLLM(NAMES, speak_secrets, latency_s=0.01)
    await run_all(state, llm)
    assert llm.peak_in_flight == 1
    assert [call.agent for call in llm.calls] == NAMES * 2
    ana1, bruno1, carla1 = (llm.calls_of(name, 1)[0].user for name in NAMES)
    assert "secret" not in ana1
    assert f"Ana said: {secret('Ana', 1)}" in bruno1
    assert f"Ana said: {secret('Ana', 1)}" in carla1 and f"Bruno said: {secret('Bruno', 1)}" in carla1
    ana2_new = llm.calls_of("Ana", 2)[0].user.split("New:", 1)[1]
    assert f"Bruno said: {secret('Bruno', 1)}" in ana2_new and f"Carla said: {secret('Carla', 1)}" in ana2_new
    carla2_new = llm.calls_of("Carla", 2)[0].user.split("New:", 1)[1]
    assert secret("Ana", 1) not in carla2_new  # heard in round 1 already, not delivered twice
    assert f"Ana said: {secret('Ana', 2)}" in carla2_new


async def test_memory_switch_off_gives_only_the_current_stimulus():
    state = world(NAMES, EnvironmentType.SURVEY, rounds=2, enable_memory=False)
    llm = ScriptedLLM(NAMES, speak_secrets)
    await run_all(state, llm)
    for name in NAMES:
        second = llm.calls_of(name, 2)[0].user
        assert "You remember" not in second
        assert secret(name, 1) not in second
        assert "Remember: (product concept) What do you think of the SolarKettle?" in second
    assert all(not agent.memory for agent in state.agents)


async def test_memory_switch_on_recalls_own_words_and_stimulus():
    state = world(NAMES, EnvironmentType.SURVEY, rounds=2)
    llm = ScriptedLLM(NAMES, speak_secrets)
    await run_all(state, llm)
    second = llm.calls_of("Ana", 2)[0].user
    assert "You remember:" in second and f"you said: {secret('Ana', 1)}" in second
    assert "moderator: (product concept) What do you think of the SolarKettle?" in second
    kinds = [event.kind for event in state.agents[0].memory]
    assert kinds == [MemoryKind.STIMULUS, MemoryKind.SAID, MemoryKind.SAID]
