"""The model calls of each extraction mode, returning raw field answers per result.

- per agent: one call per agent over what it said and heard, all agents concurrently;
- rapporteur: one call consolidating the whole discussion into one result (above 50 participants,
  one per part and one over the parts: services/extraction/rapporteur_parts.py);
- whole world: one call over the whole transcript returning one result per agent.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel

from services.engine.llm_port import StructuredLLM
from services.extraction import prompts, transcript
from services.extraction.output_model import (
    ExtractionAnswer,
    FieldAnswer,
    agent_answer_model,
    world_answer_model,
)
from services.extraction.rapporteur_parts import PART_AGENTS, rapporteur_in_parts
from services.extraction.validation import ExtractionMode, ExtractionPlan
from services.llm.accounting import acting_for
from services.llm.errors import LLMError

RAPPORTEUR_NAME = "rapporteur"
EXTRACTION_TEMPERATURE = 0.0

AnswerT = TypeVar("AnswerT", bound=BaseModel)


@dataclass(frozen=True)
class RawResult:
    """The extractor's answers for one result, before coercion and grounding."""

    agent_name: str
    answers: dict[str, FieldAnswer | None]
    evidence_source: str
    """The words the evidence quotes must come from."""
    missing_reason: str = ""
    """Why every field is absent when no answer was asked for or received (else empty)."""
    error: LLMError | None = None
    """The model call's failure, when it failed."""

    @property
    def failed(self) -> bool:
        return self.error is not None

    @classmethod
    def without_answers(cls, agent_name: str, reason: str, error: LLMError | None = None) -> RawResult:
        return cls(agent_name, {}, "", missing_reason=reason, error=error)


class Extractor:
    """Runs the model calls of one extraction plan."""

    def __init__(self, llm: StructuredLLM) -> None:
        self._llm = llm

    async def extract(self, plan: ExtractionPlan) -> list[RawResult]:
        if not plan.agent_names:
            return []
        if plan.mode is ExtractionMode.RAPPORTEUR:
            return [await self._rapporteur(plan)]
        if plan.mode is ExtractionMode.WORLD:
            return await self._world(plan)
        output_model = agent_answer_model(plan.specs)
        return list(await asyncio.gather(*(self._one_agent(plan, name, output_model) for name in plan.agent_names)))

    async def _ask(
        self,
        plan: ExtractionPlan,
        messages: prompts.Messages,
        output_model: type[AnswerT],
        label: str,
        results: int = 1,
    ) -> AnswerT:
        return await self._llm.structured(
            messages,
            output_model,
            session=plan.session,
            label=label,
            max_tokens=prompts.output_token_budget(plan.specs, results),
            temperature=EXTRACTION_TEMPERATURE,
        )

    async def _one_agent(
        self, plan: ExtractionPlan, agent_name: str, output_model: type[ExtractionAnswer]
    ) -> RawResult:
        own_words = transcript.words_of(plan.transcript, agent_name)
        if not own_words.strip():
            return RawResult.without_answers(agent_name, "the agent said nothing in the transcript")
        text = transcript.as_text(transcript.agent_view(plan.transcript, agent_name))
        messages = prompts.agent_messages(plan.objective, plan.situation, plan.specs, agent_name, text)
        try:
            with acting_for(agent_name):
                answer = await self._ask(plan, messages, output_model, "extraction.agent")
        except LLMError as error:
            return RawResult.without_answers(agent_name, f"the extraction call failed: {error}", error)
        return RawResult(agent_name, answer.answers(), own_words)

    async def _rapporteur(self, plan: ExtractionPlan) -> RawResult:
        participants_words = transcript.words_of(plan.transcript)
        output_model = agent_answer_model(plan.specs)
        try:
            if len(plan.agent_names) > PART_AGENTS:  # many participants: in bounded parts
                answers = await rapporteur_in_parts(
                    plan, lambda messages, label: self._ask(plan, messages, output_model, label)
                )
            else:
                text = transcript.as_text(plan.transcript)
                messages = prompts.rapporteur_messages(plan.objective, plan.situation, plan.specs, text)
                answers = (await self._ask(plan, messages, output_model, "extraction.rapporteur")).answers()
        except LLMError as error:
            return RawResult.without_answers(RAPPORTEUR_NAME, f"the extraction call failed: {error}", error)
        return RawResult(RAPPORTEUR_NAME, answers, participants_words)

    async def _world(self, plan: ExtractionPlan) -> list[RawResult]:
        names = plan.agent_names
        messages = prompts.world_messages(
            plan.objective, plan.situation, plan.specs, names, transcript.as_text(plan.transcript)
        )
        try:
            answer = await self._ask(
                plan, messages, world_answer_model(plan.specs, names), "extraction.world", results=len(names)
            )
        except LLMError as error:
            return [RawResult.without_answers(name, f"the extraction call failed: {error}", error) for name in names]
        by_name: dict[str, dict[str, FieldAnswer | None]] = {}
        for entry in answer.results:
            by_name.setdefault(entry.agent_name.strip(), entry.answers())
        return [
            RawResult(name, by_name[name], transcript.words_of(plan.transcript, name))
            if name in by_name
            else RawResult.without_answers(name, "the extractor's answer has no entry for this agent")
            for name in names
        ]
