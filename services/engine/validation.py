"""Persona validation in TinyTroupe's manner: an LLM judges how well a persona meets expectations."""

from __future__ import annotations

import math

from pydantic import BaseModel

from services.engine import prompts
from services.engine.llm_port import StructuredLLM
from services.engine.persona import Persona

JUDGEMENT_MAX_TOKENS = 512


class PersonaJudgement(BaseModel):
    justification: str
    score: float


def clamp_score(score: float) -> float:
    """The score within [0, 1]; a non-number counts as 0."""
    return min(1.0, max(0.0, score)) if math.isfinite(score) else 0.0


async def validate_persona(llm: StructuredLLM, persona: Persona, expectations: str, *, session: str = "",
                           label: str = "persona.validation") -> tuple[float, str]:
    """(score in [0, 1], justification) for how well `persona` matches `expectations`."""
    judgement = await llm.structured(prompts.validation_messages(persona, expectations), PersonaJudgement,
                                     session=session, label=label, max_tokens=JUDGEMENT_MAX_TOKENS)
    return clamp_score(judgement.score), judgement.justification.strip()
