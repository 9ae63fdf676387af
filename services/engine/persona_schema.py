"""The structured output a persona-creating LLM call returns, and its conversion to a TinyPerson spec.

It covers TinyTroupe's persona fields while staying small enough for a small model to fill in.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from services.engine.names import clean_name
from services.engine.persona import PERSON_TYPE, Persona


class GeneratedOccupation(BaseModel):
    title: str
    organization: str
    description: str


class GeneratedBigFive(BaseModel):
    openness: str
    conscientiousness: str
    extraversion: str
    agreeableness: str
    neuroticism: str


class GeneratedPersonality(BaseModel):
    traits: list[str]
    big_five: GeneratedBigFive


class GeneratedPreferences(BaseModel):
    interests: list[str]
    likes: list[str]
    dislikes: list[str]


class GeneratedRelationship(BaseModel):
    name: str
    description: str


class GeneratedPersona(BaseModel):
    name: str = Field(min_length=1)
    age: int = Field(ge=0, le=120)
    gender: str
    nationality: str
    residence: str
    education: str
    long_term_goals: list[str]
    occupation: GeneratedOccupation
    style: str
    personality: GeneratedPersonality
    preferences: GeneratedPreferences
    beliefs: list[str]
    skills: list[str]
    behaviors: list[str]
    health: str
    relationships: list[GeneratedRelationship]
    other_facts: list[str]

    def to_persona(self) -> dict[str, Any]:
        """The persona object in TinyTroupe's field order, behaviors under `general` as TinyTroupe has."""
        persona = self.model_dump()
        persona["name"] = clean_name(self.name)
        persona["behaviors"] = {"general": persona["behaviors"]}
        order = (
            "name",
            "age",
            "gender",
            "nationality",
            "residence",
            "education",
            "long_term_goals",
            "occupation",
            "style",
            "personality",
            "preferences",
            "skills",
            "beliefs",
            "behaviors",
            "health",
            "relationships",
            "other_facts",
        )
        return {key: persona[key] for key in order}

    def to_persona_spec(self) -> Persona:
        """The validated TinyPerson spec; raises SpecError (e.g. for a name that is only quotes)."""
        return Persona({"type": PERSON_TYPE, "persona": self.to_persona()})
