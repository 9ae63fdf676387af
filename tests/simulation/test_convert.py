"""The world state survives the trip through its proto unchanged: what resume relies on."""

from __future__ import annotations

import pytest
from tinytroupe_mesh_api.common.v1 import agent_pb2, study_pb2

from services.engine.simulation import EVERYONE, EnvironmentType, TurnOrder
from services.llm import LLMUnavailableError
from services.simulation.convert import agent_from_proto, config_from_proto, world_from_proto, world_to_proto
from tests.simulation.mesh import agents_named
from tests.simulation.support import ScriptedLLM, run_all, talk, world

NAMES = ["Lisa Carter", "Oscar Diaz", "Marcos Lima"]


@pytest.mark.parametrize("environment", list(EnvironmentType))
async def test_world_state_round_trips_through_its_proto(environment):
    base = {
        agent.name: proto
        for agent, proto in zip(
            [agent_from_proto(proto) for proto in agents_named(*NAMES)], agents_named(*NAMES), strict=True
        )
    }
    state = world(
        NAMES,
        environment,
        rounds=3,
        broadcast_mode=False,
        turn_order=TurnOrder.SEQUENTIAL,
        targets=["Oscar Diaz", "Lisa Carter"],
    )
    for agent in state.agents:
        agent.persona_description = agent_from_proto(base[agent.name]).persona_description

    def script(call):
        if call.agent == "Marcos Lima" and call.round == 2:
            return LLMUnavailableError("down")
        return talk(f"{call.agent} in round {call.round}", target="Lisa Carter" if call.agent == "Oscar Diaz" else "")

    await run_all(state, ScriptedLLM(NAMES, script))
    usage = study_pb2.TokenUsage(calls=7, cached_calls=1, prompt_tokens=900, completion_tokens=80)
    proto = world_to_proto(state, base, usage)
    restored, restored_base = world_from_proto(proto)
    assert restored == state
    assert world_to_proto(restored, restored_base, usage).SerializeToString(
        deterministic=True
    ) == proto.SerializeToString(deterministic=True)
    assert proto.failed_agents == {"Marcos Lima": 2}
    assert proto.agents[0].agent_id == "agents/0" and proto.agents[0].cognitive_state.emotions == "calm"
    if environment is EnvironmentType.FOCUS_GROUP:
        assert {message.recipient for message in proto.pending_messages} <= {*NAMES, EVERYONE}
        assert any(message.target == "Lisa Carter" for message in proto.pending_messages)


def test_zero_config_values_take_their_documented_defaults():
    config = config_from_proto(study_pb2.SimulationConfig(environment_type=study_pb2.ENVIRONMENT_TYPE_SURVEY, rounds=2))
    assert config.max_actions_per_turn == 4 and config.max_failed_fraction == 0.5
    assert config.turn_order is TurnOrder.CONCURRENT


def test_memory_and_cognitive_state_given_with_an_agent_are_kept():
    proto = agents_named("Lisa Carter")[0]
    proto.cognitive_state.goals.append("find a gift")
    proto.episodic_memory.append(
        agent_pb2.MemoryEvent(
            round=1, kind=agent_pb2.MemoryEvent.KIND_SAID, source="Lisa Carter", content="I like tea."
        )
    )
    proto.memory_summary = "r0 earlier talk"
    agent = agent_from_proto(proto)
    assert agent.cognitive_state.goals == ["find a gift"]
    assert agent.memory[0].content == "I like tea." and agent.memory_summary == "r0 earlier talk"
    assert agent.persona_description.startswith("Name: Lisa Carter")
