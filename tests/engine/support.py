"""Test support for the persona engine: fixture paths and a fake structured LLM."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from services.engine.persona_schema import GeneratedPersona
from tests.fixtures import TINYTROUPE_FIXTURES

AGENT_FILES = sorted((TINYTROUPE_FIXTURES / "agents").glob("*.agent.json"))
FRAGMENT_FILES = sorted((TINYTROUPE_FIXTURES / "fragments").glob("*.fragment.json"))
POPULATION_FILES = sorted((TINYTROUPE_FIXTURES / "populations").glob("*.json"))


@dataclass
class FakeCall:
    messages: list[dict[str, str]]
    output_model: type[BaseModel]
    session: str
    label: str
    max_tokens: int | None
    temperature: float | None

    @property
    def prompt(self) -> str:
        return "\n".join(message["content"] for message in self.messages)


Responder = Callable[[FakeCall], BaseModel | Awaitable[BaseModel]]


class FakeLLM:
    """Implements StructuredLLM with a responder function; records every call and the peak concurrency."""

    def __init__(self, respond: Responder) -> None:
        self.respond = respond
        self.calls: list[FakeCall] = []
        self.in_flight = 0
        self.peak_in_flight = 0
        self.completed = 0

    async def structured(self, messages, output_model, *, session="", label="", max_tokens=None, temperature=None):
        call = FakeCall(messages, output_model, session, label, max_tokens, temperature)
        self.calls.append(call)
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            answer = self.respond(call)
            if inspect.isawaitable(answer):
                answer = await answer
        finally:
            self.in_flight -= 1
        assert isinstance(answer, output_model), f"the responder answered {type(answer)} for {output_model}"
        self.completed += 1
        return answer


def refuse_calls(call: FakeCall) -> BaseModel:
    raise AssertionError(f"no LLM call expected, got {call.label}")


def generated_persona(name: str = "Ana Souza", **overrides: Any) -> GeneratedPersona:
    fields: dict[str, Any] = {
        "name": name,
        "age": 34,
        "gender": "Female",
        "nationality": "Brazilian",
        "residence": "Recife, Brazil",
        "education": "Nursing degree from a public university.",
        "long_term_goals": ["To open a small clinic in your neighbourhood."],
        "occupation": {
            "title": "Nurse",
            "organization": "Hospital da Restauração",
            "description": "You are a nurse in a busy emergency ward.",
        },
        "style": "Warm and direct.",
        "personality": {
            "traits": ["You are patient.", "You are practical."],
            "big_five": {
                "openness": "Medium.",
                "conscientiousness": "High.",
                "extraversion": "High.",
                "agreeableness": "High.",
                "neuroticism": "Low.",
            },
        },
        "preferences": {"interests": ["Forró"], "likes": ["Beach weekends"], "dislikes": ["Long queues"]},
        "beliefs": ["Public health care must be protected."],
        "skills": ["Triage under pressure."],
        "behaviors": ["Checks on neighbours after night shifts."],
        "health": "Good.",
        "relationships": [{"name": "João", "description": "Your brother."}],
        "other_facts": ["You grew up in Olinda."],
    }
    fields.update(overrides)
    return GeneratedPersona.model_validate(fields)
