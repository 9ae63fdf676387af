"""Persona validation in TinyTroupe's manner: an interview, judged by the model against expectations.

`interview_persona` is TinyTroupe's validator: the model draws questions from the expectations, the
agent answers each in character (its whole persona where it fits, and its memory), all questions at
once, and the model judges the answers: a score in [0, 1], a justification and the transcript.
`validate_persona` judges the persona's spec alone, in one call.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from pydantic import BaseModel, Field, create_model

from services.engine import prompts
from services.engine.llm_port import StructuredLLM
from services.engine.persona import Persona
from services.engine.simulation.guards import echo_correction, scaffolding_echo

JUDGEMENT_MAX_TOKENS = 512
DEFAULT_QUESTIONS = 3
MAX_QUESTIONS = 10
QUESTION_CHARS = 300
ANSWER_CHARS = 800
ANSWER_MAX_TOKENS = 320
FALLBACK_QUESTION = "Tell me about yourself: who you are, what you do and what matters to you."


class PersonaJudgement(BaseModel):
    justification: str
    score: float


def clamp_score(score: float) -> float:
    """The score within [0, 1]; a non-number counts as 0."""
    return min(1.0, max(0.0, score)) if math.isfinite(score) else 0.0


async def validate_persona(
    llm: StructuredLLM, persona: Persona, expectations: str, *, session: str = "", label: str = "persona.validation"
) -> tuple[float, str]:
    """(score in [0, 1], justification) for how well `persona` matches `expectations`."""
    judgement = await llm.structured(
        prompts.validation_messages(persona, expectations),
        PersonaJudgement,
        session=session,
        label=label,
        max_tokens=JUDGEMENT_MAX_TOKENS,
    )
    return clamp_score(judgement.score), judgement.justification.strip()


class InterviewAnswer(BaseModel):
    answer: str = Field(json_schema_extra={"maxLength": ANSWER_CHARS})


@lru_cache(maxsize=16)
def questions_model(count: int) -> type[BaseModel]:
    item = {"type": "string", "maxLength": QUESTION_CHARS}
    return create_model(
        "InterviewQuestions",
        questions=(list[str], Field(json_schema_extra={"minItems": 1, "maxItems": count, "items": item})),
    )


@dataclass(frozen=True)
class PersonaValidation:
    score: float
    justification: str
    interview: list[tuple[str, str]] = field(default_factory=list)
    """(question, answer) in order."""


def _one_line(text: str, max_chars: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= max_chars else flat[: max_chars - 1].rstrip() + "\u2026"


def _questions(drawn: Sequence[str], count: int) -> list[str]:
    kept: list[str] = []
    for question in drawn:
        text = _one_line(question, QUESTION_CHARS)
        if text and text.casefold() not in {seen.casefold() for seen in kept}:
            kept.append(text)
    return kept[:count] or [FALLBACK_QUESTION]


async def _answer(
    llm: StructuredLLM,
    name: str,
    persona_text: str,
    memory: Sequence[str],
    summary: str,
    question: str,
    *,
    session: str,
    label: str,
) -> str:
    """The agent's answer in character; an answer that repeats the prompt is asked for once more."""
    messages = prompts.interview_answer_messages(name, persona_text, memory, summary, question)
    asked = messages
    for _ in range(2):
        reply = await llm.structured(asked, InterviewAnswer, session=session, label=label, max_tokens=ANSWER_MAX_TOKENS)
        answer = _one_line(reply.answer, ANSWER_CHARS)
        echo = scaffolding_echo(answer, persona_text)
        if not echo:
            return answer
        asked = [
            *messages,
            {"role": "assistant", "content": reply.model_dump_json()},
            {"role": "user", "content": echo_correction(echo, name)},
        ]
    return ""


async def interview_persona(
    llm: StructuredLLM,
    persona: Persona,
    expectations: str,
    *,
    session: str = "",
    questions: int = DEFAULT_QUESTIONS,
    memory: Sequence[str] = (),
    memory_summary: str = "",
    persona_chars: int = prompts.MAX_PERSONA_CHARS,
    label: str = "persona.validation",
) -> PersonaValidation:
    """TinyTroupe's validation interview of `persona` against `expectations` (see the module's docstring).

    Calls: one for the questions, one per question (all at once), one for the judgement. Raises the LLM
    layer's errors."""
    count = min(max(questions or DEFAULT_QUESTIONS, 1), MAX_QUESTIONS)
    drawn = await llm.structured(
        prompts.interview_questions_messages(persona.name, expectations, count),
        questions_model(count),
        session=session,
        label=f"{label}.questions",
        max_tokens=count * 100 + 32,
    )
    asked = _questions(drawn.questions, count)
    persona_text = persona.describe(persona_chars)
    answers = await asyncio.gather(
        *(
            _answer(
                llm,
                persona.name,
                persona_text,
                memory,
                memory_summary,
                question,
                session=session,
                label=f"{label}.answer",
            )
            for question in asked
        )
    )
    interview = list(zip(asked, answers, strict=True))
    judgement = await llm.structured(
        prompts.interview_judgement_messages(persona.name, expectations, interview),
        PersonaJudgement,
        session=session,
        label=label,
        max_tokens=JUDGEMENT_MAX_TOKENS,
    )
    return PersonaValidation(clamp_score(judgement.score), judgement.justification.strip(), interview)
