"""Output models shared by the LLM layer's tests."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Action(BaseModel):
    type: Literal["THINK", "TALK", "DONE"]
    content: str = Field(max_length=200)
    target: str | None = None


class AgentTurn(BaseModel):
    """An agent's turn as the simulation asks for it."""

    actions: list[Action] = Field(min_length=1, max_length=3)
    emotions: str


class Person(BaseModel):
    name: str
    age: int = Field(ge=18, le=90)
    occupation: str


def turn_messages(agent: str, prompt: str = "What do you think about the offer?") -> list[dict[str, str]]:
    return [
        {"role": "system", "content": f"You are {agent}, a focus group participant."},
        {"role": "user", "content": prompt},
    ]
