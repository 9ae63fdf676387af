"""A study plan's extraction: one model call per agent for the fields of every step, split back per step.

Each step's plan reads only the interactions of its step. An agent's call shows its part of each step under
the step's heading and names each field `{step}.{field}`, its objective prefixed by the step; the answers are
split back per step and become each step's results with their own statistics and quality. At most
MAX_FIELDS fields go in one call (a larger plan asks each agent a few times, at once).
"""

from __future__ import annotations

import asyncio

from services.common.hints import FieldSpec
from services.common.limits import MAX_FIELDS
from services.engine.llm_port import StructuredLLM
from services.extraction import prompts, transcript
from services.extraction.extractor import EXTRACTION_TEMPERATURE, RawResult
from services.extraction.output_model import FieldAnswer, agent_answer_model
from services.extraction.validation import StepPlan
from services.llm.errors import LLMError

LABEL = "extraction.steps"


def batches(steps: list[StepPlan]) -> list[list[StepPlan]]:
    """The steps in calls of at most MAX_FIELDS fields, in plan order."""
    grouped: list[list[StepPlan]] = []
    size = 0
    for step in steps:
        fields = len(step.plan.specs)
        if not grouped or size + fields > MAX_FIELDS:
            grouped.append([])
            size = 0
        grouped[-1].append(step)
        size += fields
    return grouped


def joint_name(step: StepPlan, spec: FieldSpec) -> str:
    return f"{step.name}.{spec.name}"


class StepExtractor:
    def __init__(self, llm: StructuredLLM) -> None:
        self._llm = llm

    async def extract(self, steps: list[StepPlan]) -> dict[str, list[RawResult]]:
        """Each step's raw results by step name, one per agent in the agents' order."""
        names = steps[0].plan.agent_names if steps else []
        by_step: dict[str, list[RawResult]] = {step.name: [] for step in steps}
        for batch in batches(steps):
            specs = [
                spec.model_copy(update={"name": joint_name(step, spec)}) for step in batch for spec in step.plan.specs
            ]
            model = agent_answer_model(specs)
            answers = await asyncio.gather(*(self._one_agent(batch, specs, model, name) for name in names))
            for per_step in answers:
                for step in batch:
                    by_step[step.name].append(per_step[step.name])
        return by_step

    async def _one_agent(self, batch: list[StepPlan], specs: list[FieldSpec], model, name: str) -> dict[str, RawResult]:
        said = {step.name: transcript.words_of(step.plan.transcript, name) for step in batch}
        spoken = [step for step in batch if said[step.name].strip()]
        silent = RawResult.without_answers(name, "the agent said nothing in this step")
        if not spoken:
            return {step.name: silent for step in batch}
        budget = transcript.MAX_TRANSCRIPT_CHARS // len(spoken)
        text = "\n\n".join(
            f"Step {step.name}:\n{transcript.as_text(transcript.agent_view(step.plan.transcript, name), budget)}"
            for step in spoken
        )
        objective = "\n".join(
            f"Step {step.name}: {step.plan.objective.strip()}" for step in batch if step.plan.objective.strip()
        )
        situation = next((step.plan.situation for step in batch if step.plan.situation.strip()), "")
        messages = prompts.agent_messages(objective, situation, specs, name, text)
        try:
            answer = await self._llm.structured(
                messages,
                model,
                session=batch[0].plan.session,
                label=LABEL,
                max_tokens=prompts.output_token_budget(specs),
                temperature=EXTRACTION_TEMPERATURE,
            )
        except LLMError as error:
            failed = RawResult.without_answers(name, f"the extraction call failed: {error}", error)
            return {step.name: failed for step in batch}
        answers: dict[str, FieldAnswer | None] = answer.answers()
        return {
            step.name: RawResult(
                name,
                {spec.name: answers.get(joint_name(step, spec)) for spec in step.plan.specs},
                said[step.name],
            )
            if said[step.name].strip()
            else silent
            for step in batch
        }
