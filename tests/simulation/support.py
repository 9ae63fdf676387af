"""Test support for the simulation: a scripted structured LLM and world builders."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
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
    follow_up: list[dict[str, str]] = field(default_factory=list)
    """The messages after the turn's prompt: an earlier answer and what to change in it."""

    @property
    def prompt(self) -> str:
        return f"{self.system}\n{self.user}"


Script = Callable[[TurnCall], dict[str, Any] | Exception]


def talk(*contents: str, target: str = "", **state: str) -> dict[str, Any]:
    """A reply with one TALK per content."""
    return {
        "actions": [{"type": "TALK", "content": content, "target": target} for content in contents],
        "goals": state.get("goals", "listen"),
        "attention": state.get("attention", "the group"),
        "emotions": state.get("emotions", "calm"),
    }


@dataclass
class SideCall:
    """A call that is not a turn (a memory consolidation, a quality check): its label and messages."""

    label: str
    messages: list[dict[str, str]]
    output_model: type[BaseModel]
    session: str

    @property
    def prompt(self) -> str:
        return "\n".join(message["content"] for message in self.messages)


def summarise(call: SideCall) -> dict[str, Any]:
    """A consolidation answer that depends only on its prompt: the events' first words, in order."""
    events = call.messages[1]["content"].split("New events, oldest first:\n", 1)[1].splitlines()
    return {"summary": " | ".join(line[2:40].strip() for line in events)}


def judge(*scores: int, critique: str = "fine") -> Callable[[SideCall], dict[str, Any]]:
    """A quality check answering `scores` (0-10) for the checks asked, in order; the last repeats."""

    def answer(call: SideCall) -> dict[str, Any]:
        checks = [name for name in call.output_model.model_fields if name != "critique"]
        values = list(scores) + [scores[-1]] * len(checks)
        return {"critique": critique, **dict(zip(checks, values, strict=False))}

    return answer


def default_side_script(call: SideCall) -> dict[str, Any]:
    """Consolidations summarise their events; quality checks find every turn flawless."""
    return summarise(call) if call.label == "simulation.memory" else judge(10)(call)


class ScriptedLLM:
    """A StructuredLLM whose answers come from `script(call)`; records every call and the concurrency.

    Turns go to `script` and `calls`; other calls (memory consolidations, quality checks) go to
    `side_script` (by default: a summary of the events) and `side_calls`."""

    def __init__(
        self,
        names: list[str],
        script: Script,
        latency_s: float = 0.0,
        side_script: Callable[[SideCall], dict[str, Any] | Exception] = default_side_script,
    ) -> None:
        self.names = sorted(names, key=len, reverse=True)
        self.script = script
        self.side_script = side_script
        self.latency_s = latency_s
        self.calls: list[TurnCall] = []
        self.side_calls: list[SideCall] = []
        self.in_flight = 0
        self.peak_in_flight = 0

    def _agent_of(self, system: str) -> str:
        return next(name for name in self.names if system.startswith(f"You are {name}."))

    async def structured(self, messages, output_model, *, session="", label="", max_tokens=None, temperature=None):
        if label != "simulation.turn":
            side = SideCall(label, messages, output_model, session)
            self.side_calls.append(side)
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                if self.latency_s:
                    await asyncio.sleep(self.latency_s)
                answer = self.side_script(side)
            finally:
                self.in_flight -= 1
            if isinstance(answer, Exception):
                raise answer
            return output_model.model_validate(answer)
        system, user = messages[0]["content"], messages[1]["content"]
        round_number = int(user.split("Round ", 1)[1].split(" ", 1)[0])
        call = TurnCall(
            self._agent_of(system), round_number, system, user, output_model, session, max_tokens, list(messages[2:])
        )
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
        return [
            call for call in self.calls if call.agent == agent and (round_number is None or call.round == round_number)
        ]


def agents(*names: str) -> list[AgentState]:
    return [AgentState(name=name, persona_description=f"{name} is a 40-year-old teacher.") for name in names]


def world(
    names: list[str],
    environment: EnvironmentType = EnvironmentType.FOCUS_GROUP,
    *,
    rounds: int = 2,
    stimulus: str = "What do you think of the SolarKettle?",
    targets: list[str] | None = None,
    **config: Any,
) -> WorldState:
    return new_world(
        WorldConfig(environment=environment, rounds=rounds, **config),
        Stimulus(type="product_concept", content=stimulus, context="A product test.", target_agents=targets or []),
        agents(*names),
    )


async def run_all(
    state: WorldState, llm: ScriptedLLM, settings: TurnSettings | None = None, session: str = "sessions/test"
) -> list[SimulationEvent]:
    return [event async for event in Simulation(state, llm, session=session, settings=settings).run()]


def fixture_spec(name: str) -> str:
    return json.dumps(json.loads((AGENT_FIXTURES / f"{name}.agent.json").read_text()))
