"""Memory like TinyTroupe's: a fixed prefix, a recent window, and the model consolidating what falls between."""

from __future__ import annotations

import json

from services.engine.simulation import (
    MemoryKind,
    MemoryPolicy,
    RoundCompleted,
    Simulation,
    TurnSettings,
    WorldState,
)
from services.engine.simulation.consolidation import LABEL, consolidation_messages
from services.llm.errors import LLMUnavailableError
from tests.simulation.support import ScriptedLLM, SideCall, run_all, summarise, talk, world

NAMES = ["Ana", "Bruno", "Carla"]
POLICY = MemoryPolicy(first_events=2, recent_events=4, summary_chars=300, consolidation_batch=4)
SETTINGS = TurnSettings(memory=POLICY)


def speak(call):
    return talk(f"{call.agent} point {call.round}")


async def test_evicted_events_are_consolidated_by_the_model_into_the_summary():
    state = world(NAMES, rounds=5)
    llm = ScriptedLLM(NAMES, speak, side_script=lambda call: {"summary": f"summary #{len(llm.side_calls)}"})
    await run_all(state, llm, settings=SETTINGS)
    consolidations = [call for call in llm.side_calls if call.label == LABEL]
    # each agent remembers the stimulus and what it says in round 1, then 3 events a round (2 heard, 1 said):
    # 2, 5, 8, 11 events; with 4 or more between the prefix of 2 and the window of 4 after round 4, the
    # consolidation runs alongside round 5's turns and is applied when they are done
    assert len(consolidations) == 3
    for agent in state.agents:
        assert agent.memory[0].kind is MemoryKind.STIMULUS
        assert agent.memory_summary.startswith("summary #")
        prompt = next(call for call in consolidations if f"memory of {agent.name}," in call.prompt).prompt
        assert "Summary so far:\n(nothing yet)" in prompt
        assert f"(round 2) you said: {agent.name} point 2" in prompt
        assert "(round 4)" not in prompt and f"you said: {agent.name} point 1" not in prompt  # window, prefix
        assert [event.round for event in agent.memory] == [1, 1, 3, 4, 4, 4, 5, 5, 5]
        assert "Then, in short:" not in llm.calls_of(agent.name, 5)[0].user  # round 5 still saw the events


async def test_consolidations_run_alongside_the_next_rounds_turns():
    names = [f"Agent{index}" for index in range(12)]
    state = world(names, rounds=3)
    llm = ScriptedLLM(names, speak, latency_s=0.05)
    await run_all(
        state, llm, settings=TurnSettings(memory=MemoryPolicy(first_events=1, recent_events=4, consolidation_batch=8))
    )
    assert len(llm.side_calls) == 12  # due after round 2
    assert llm.peak_in_flight == 24  # round 3's turns and consolidations at once: one latency a round


async def test_the_summary_reaches_the_next_turn_and_is_carried_forward():
    state = world(["Ana"], rounds=14)  # one event a round: due after rounds 9 and 13
    llm = ScriptedLLM(["Ana"], speak)
    await run_all(state, llm, settings=SETTINGS)
    consolidations = [call for call in llm.side_calls if call.label == LABEL]
    assert len(consolidations) == 2
    first_answer = summarise(consolidations[0])["summary"]
    assert f"Summary so far:\n{first_answer}" in consolidations[1].prompt  # merged into what it wrote before
    assert "Then, in short:" in llm.calls_of("Ana", 11)[0].user
    assert "Then, in short:" not in llm.calls_of("Ana", 10)[0].user


async def test_a_failed_consolidation_folds_the_events_and_the_run_goes_on():
    state = world(NAMES, rounds=5)
    llm = ScriptedLLM(NAMES, speak, side_script=lambda call: LLMUnavailableError("down"))
    events = await run_all(state, llm, settings=SETTINGS)
    assert [event.round for event in events if isinstance(event, RoundCompleted)] == [1, 2, 3, 4, 5]
    for agent in state.agents:
        assert len(agent.memory) == 9
        assert f"r2 you said: {agent.name} point 2" in agent.memory_summary  # one deterministic line per event


async def test_many_events_take_several_calls_within_the_prompt_budget():
    policy = MemoryPolicy(
        first_events=1, recent_events=2, consolidation_batch=2, consolidation_chars=200, event_chars=120
    )
    state = world(NAMES, rounds=4)
    llm = ScriptedLLM(NAMES, lambda call: talk(f"{call.agent} says " + "word " * 30))
    await run_all(state, llm, settings=TurnSettings(memory=policy))
    ana = [call for call in llm.side_calls if "memory of Ana," in call.prompt]
    # round 3: 2 events shortened to 97 characters fit one call; round 4: 3 events even at 80 take two
    assert len(ana) == 3
    assert all(len(call.messages[1]["content"].split("oldest first:\n", 1)[1]) <= 200 for call in ana)
    for before, after in zip(ana, ana[1:], strict=False):
        assert f"Summary so far:\n{summarise(before)['summary']}" in after.prompt


class RecordingCache:
    """A model behind a cache keyed on the whole request: a replay must find every answer in it."""

    def __init__(self, llm: ScriptedLLM | None) -> None:
        self.llm = llm
        self.answers: dict[str, object] = {}
        self.misses = 0

    async def structured(self, messages, output_model, **options):
        key = json.dumps([messages, output_model.__name__, options.get("label")], sort_keys=True)
        if key not in self.answers:
            self.misses += 1
            assert self.llm is not None, f"a replay asked the model: {messages[-1]['content'][:200]}"
            self.answers[key] = await self.llm.structured(messages, output_model, **options)
        return self.answers[key]


async def test_a_replayed_or_resumed_run_meets_every_consolidation_in_the_cache():
    live = RecordingCache(ScriptedLLM(NAMES, speak))
    original = world(NAMES, rounds=7)
    await run_all(original, live, settings=SETTINGS)
    assert any(call.label == LABEL for call in live.llm.side_calls)

    replay = RecordingCache(None)
    replay.answers = dict(live.answers)
    again = world(NAMES, rounds=7)
    await run_all(again, replay, settings=SETTINGS)
    assert replay.misses == 0 and again == original

    interrupted = world(NAMES, rounds=7)
    run = Simulation(interrupted, replay, session="sessions/test", settings=SETTINGS).run()
    async for event in run:
        if isinstance(event, RoundCompleted) and event.round == 5:
            snapshot = interrupted.model_dump_json()  # what the round's checkpoint holds
            break
    await run.aclose()
    resumed = WorldState.model_validate_json(snapshot)
    assert resumed.agents[0].memory_summary  # the consolidation is in the checkpoint
    await run_all(resumed, replay, settings=SETTINGS)
    assert replay.misses == 0 and resumed == original


def test_the_consolidation_prompt_is_a_function_of_its_inputs():
    state = world(["Ana"], rounds=1)
    events = state.agents[0].memory
    assert consolidation_messages("Ana", "before", events, POLICY) == consolidation_messages(
        "Ana", "before", list(events), POLICY
    )


def test_side_calls_are_recorded_apart_from_turns():
    call = SideCall(
        LABEL,
        [{"role": "system", "content": "s"}, {"role": "user", "content": "New events, oldest first:\n- (round 1) a"}],
        object,
        "",
    )
    assert summarise(call) == {"summary": "(round 1) a"}


async def test_a_crowded_room_is_consolidated_in_one_call_per_agent_with_shorter_events():
    names = [f"Agent{index}" for index in range(12)]
    policy = MemoryPolicy(
        first_events=1, recent_events=2, consolidation_batch=2, consolidation_chars=2000, event_chars=800
    )
    state = world(names, rounds=3)
    llm = ScriptedLLM(names, lambda call: talk(f"{call.agent} says " + "word " * 60))
    await run_all(state, llm, settings=TurnSettings(memory=policy))
    assert len(llm.side_calls) == 12  # one per agent: due after round 2
    for call in llm.side_calls:
        events = call.messages[1]["content"].split("oldest first:\n", 1)[1]
        assert len(events) <= 2000 and events.count("\n- ") >= 10
