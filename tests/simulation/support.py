"""Test support for the simulation: a scripted structured LLM and world builders."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from services.engine.simulation import (
    AgentState,
    EnvironmentType,
    Simulation,
    SimulationEvent,
    Stimulus,
    TurnSettings,
    WorldConfig,
    WorldState,
    new_world,
)
from tests.fixtures import TINYTROUPE_FIXTURES

AGENT_FIXTURES = TINYTROUPE_FIXTURES / "agents"


@dataclass
class TurnCall:
    agent: str
    round: int
    system: str
    user: str
    output_model: type[BaseModel]
    session: str
    max_tokens: int | None

    @property
    def prompt(self) -> str:
        return f"{self.system}\n{self.user}"


Script = Callable[[TurnCall], dict[str, Any] | Exception]


def talk(*contents: str, target: str = "", **state: str) -> dict[str, Any]:
    """A reply with one TALK per content."""
    return {"actions": [{"type": "TALK", "content": content, "target": target} for content in contents],
            "goals": state.get("goals", "listen"), "attention": state.get("attention", "the group"),
            "emotions": state.get("emotions", "calm")}


class ScriptedLLM:
    """A StructuredLLM whose answers come from `script(call)`; records every call and the concurrency."""

    def __init__(self, names: list[str], script: Script, latency_s: float = 0.0) -> None:
        self.names = sorted(names, key=len, reverse=True)
        self.script = script
        self.latency_s = latency_s
        self.calls: list[TurnCall] = []
        self.in_flight = 0
        self.peak_in_flight = 0

    def _agent_of(self, system: str) -> str:
        return next(name for name in self.names if system.startswith(f"You are {name}."))

    async def structured(self, messages, output_model, *, session="", label="", max_tokens=None,
                         temperature=None):
        system, user = messages[0]["content"], messages[1]["content"]
        round_number = int(user.split("Round ", 1)[1].split(" ", 1)[0])
        call = TurnCall(self._agent_of(system), round_number, system, user, output_model, session, max_tokens)
        self.calls.append(call)
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            answer = self.script(call)
        finally:
            self.in_flight -= 1
        if isinstance(answer, Exception):
            raise answer
        return output_model.model_validate(answer)

    def calls_of(self, agent: str, round_number: int | None = None) -> list[TurnCall]:
        return [call for call in self.calls
                if call.agent == agent and (round_number is None or call.round == round_number)]


def agents(*names: str) -> list[AgentState]:
    return [AgentState(name=name, persona_description=f"{name} is a 40-year-old teacher.") for name in names]


def world(names: list[str], environment: EnvironmentType = EnvironmentType.FOCUS_GROUP, *, rounds: int = 2,
          stimulus: str = "What do you think of the SolarKettle?", targets: list[str] | None = None,
          **config: Any) -> WorldState:
    return new_world(WorldConfig(environment=environment, rounds=rounds, **config),
                     Stimulus(type="product_concept", content=stimulus, context="A product test.",
                              target_agents=targets or []),
                     agents(*names))


async def run_all(state: WorldState, llm: ScriptedLLM, settings: TurnSettings | None = None,
                  session: str = "sessions/test") -> list[SimulationEvent]:
    return [event async for event in Simulation(state, llm, session=session, settings=settings).run()]


def fixture_spec(name: str) -> str:
    return json.dumps(json.loads((AGENT_FIXTURES / f"{name}.agent.json").read_text()))
