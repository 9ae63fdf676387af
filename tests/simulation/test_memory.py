"""Bounded episodic memory and the prompt budget, however long the run and however loud the room."""

from __future__ import annotations

from services.engine.simulation import MemoryEvent, MemoryKind, MemoryPolicy, PromptLimits, TurnSettings
from services.engine.simulation.memory import fold_summary, remember
from services.engine.simulation.prompt import TurnView, turn_messages
from services.engine.simulation.state import AgentState, EnvironmentType
from tests.simulation.support import ScriptedLLM, run_all, talk, world


def said(round_number: int, text: str) -> MemoryEvent:
    return MemoryEvent(round=round_number, kind=MemoryKind.SAID, source="Ana", content=text)


def test_deterministic_folding_keeps_first_and_recent_events_and_folds_the_middle():
    agent = AgentState(name="Ana", persona_description="")
    policy = MemoryPolicy(
        first_events=2, recent_events=3, summary_chars=200, summary_line_chars=40, consolidation_batch=0
    )
    for index in range(1, 11):
        remember(agent, said(index, f"point number {index}"), policy)
    assert [event.round for event in agent.memory] == [1, 2, 8, 9, 10]
    assert agent.memory_summary.splitlines()[-1] == "r7 you said: point number 7"
    assert agent.memory_summary.splitlines()[0] == "r3 you said: point number 3"


def test_summary_drops_its_oldest_lines_to_stay_within_budget():
    summary = ""
    for index in range(100):
        summary = fold_summary(summary, f"r{index} something was said here", 120)
        assert len(summary) <= 120
    lines = summary.splitlines()
    assert lines[0] == "\u2026" and lines[-1] == "r99 something was said here"
    assert "r98 something was said here" in lines


async def test_memory_and_prompts_stay_bounded_over_200_rounds():
    names = ["Ana", "Bruno", "Carla"]
    settings = TurnSettings(
        memory=MemoryPolicy(first_events=4, recent_events=12, summary_chars=600), prompt=PromptLimits(total_chars=4000)
    )
    state = world(names, rounds=200)
    llm = ScriptedLLM(
        names,
        lambda call: talk(
            f"{call.agent} round {call.round}: " + "blah " * 80,
            f"and a second thought from {call.agent} in round {call.round}",
        ),
    )
    await run_all(state, llm, settings=settings)
    assert state.rounds_completed == 200 and len(llm.calls) == 600
    for agent in state.agents:
        assert 16 <= len(agent.memory) < 16 + settings.memory.consolidation_batch
        assert len(agent.memory_summary) <= 600
        assert agent.memory[0].kind is MemoryKind.STIMULUS  # the first events stay verbatim
        assert agent.memory[-1].round == 200
    sizes = [len(call.system) + len(call.user) for call in llm.calls]
    assert max(sizes) <= 4000
    assert max(sizes[-30:]) == max(sizes[300:])  # flat: no growth once memory is full
    assert "SolarKettle" in llm.calls[-1].user
    assert "Then, in short:" in llm.calls[-1].user and "Most recently:" in llm.calls[-1].user


def test_a_crowded_room_is_counted_not_pasted():
    agent = AgentState(name="Ana", persona_description="A teacher.")
    inbox = [
        MemoryEvent(round=3, kind=MemoryKind.HEARD, source=f"Agent{index}", content="word " * 60)
        for index in range(200)
    ]
    view = TurnView(
        round=3,
        rounds=5,
        environment=EnvironmentType.FOCUS_GROUP,
        others=tuple(f"Agent{index}" for index in range(200)),
    )
    limits = PromptLimits(total_chars=5000)
    messages = turn_messages(agent, inbox, view, first_events=4, limits=limits)
    size = sum(len(message["content"]) for message in messages)
    assert size <= limits.total_chars
    assert "more messages not shown)" in messages[1]["content"]
    assert "Agent0, Agent1" in messages[0]["content"] and "and 188 others" in messages[0]["content"]
