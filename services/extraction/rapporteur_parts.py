"""The rapporteur over many participants, in bounded parts.

One call over the transcript of hundreds of participants would exceed the model's context (the
transcript is cut to its limit, so most participants go unread). Above `PART_AGENTS` participants the
rapporteur reads them in parts: each part's call consolidates what that part's participants said (and
the stimuli they all heard), all parts at once; one last call consolidates the parts' results, weighted
by their sizes, into the group's result. Every call's prompt stays bounded; the evidence quotes of the
last call come from the parts' quotes, so they still ground in the participants' words.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence

from tinytroupe_mesh_api.common.v1 import study_pb2

from services.extraction import prompts, transcript
from services.extraction.output_model import ExtractionAnswer, FieldAnswer
from services.extraction.validation import ExtractionPlan
from services.llm.errors import LLMError

PART_AGENTS = 50
"""Most participants one rapporteur call reads."""

Ask = Callable[[prompts.Messages, str], Awaitable[ExtractionAnswer]]


def parts_of(names: Sequence[str], size: int = PART_AGENTS) -> list[list[str]]:
    """The participants in consecutive parts of at most `size`, as even as possible."""
    count = -(-len(names) // size)
    base, extra = divmod(len(names), count)
    parts, start = [], 0
    for index in range(count):
        end = start + base + (1 if index < extra else 0)
        parts.append(list(names[start:end]))
        start = end
    return parts


def part_transcript(interactions: Sequence[study_pb2.Interaction], names: Sequence[str]) -> list:
    """What the part's participants did, and every stimulus."""
    members = set(names)
    return [
        interaction
        for interaction in interactions
        if interaction.agent_name in members or interaction.action == study_pb2.ACTION_TYPE_STIMULUS
    ]


def _report(index: int, size: int, answers: dict[str, FieldAnswer | None]) -> str:
    fields = {
        name: None if answer is None else {"value": answer.value, "evidence": answer.evidence}
        for name, answer in answers.items()
    }
    return f"Part {index} ({size} participants): {json.dumps(fields, ensure_ascii=False, default=str)}"


def consolidation_messages(plan: ExtractionPlan, reports: list[str]) -> prompts.Messages:
    """The last call: the parts' results, to be consolidated into the whole group's result."""
    text = "\n".join(reports)
    messages = prompts.rapporteur_messages(plan.objective, plan.situation, plan.specs, text)
    messages[-1]["content"] = messages[-1]["content"].replace(
        "Transcript:\n",
        "The discussion was too large for one reading: rapporteurs consolidated it in parts. "
        "Their results, with the participants' words they quote:\n",
        1,
    ) + (" Weigh each part by its number of participants, and quote evidence only from the parts' quotes.")
    return messages


async def rapporteur_in_parts(plan: ExtractionPlan, ask: Ask) -> dict[str, FieldAnswer | None]:
    """The group's answers, from a rapporteur call per part and one over their results. Parts whose call
    failed are left out; LLMError when every part failed or the last call did."""
    parts = parts_of(plan.agent_names)

    async def one(names: list[str]) -> dict[str, FieldAnswer | None] | LLMError:
        text = transcript.as_text(part_transcript(plan.transcript, names))
        messages = prompts.rapporteur_messages(plan.objective, plan.situation, plan.specs, text)
        try:
            return (await ask(messages, "extraction.rapporteur.part")).answers()
        except LLMError as error:
            return error

    outcomes = await asyncio.gather(*(one(names) for names in parts))
    reports = [
        _report(index, len(names), outcome)
        for index, (names, outcome) in enumerate(zip(parts, outcomes, strict=True), start=1)
        if not isinstance(outcome, LLMError)
    ]
    if not reports:
        raise next(outcome for outcome in outcomes if isinstance(outcome, LLMError))
    return (await ask(consolidation_messages(plan, reports), "extraction.rapporteur")).answers()
