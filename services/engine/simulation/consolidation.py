"""The model consolidates an agent's evicted events into its memory summary, as TinyTroupe's consolidator does.

One structured call per agent whose evicted events reached the batch, all agents at once, alongside
the next round's turns (`Consolidations`). In a crowded room each event is shortened so that they fit
one prompt; only when even short they do not, they take more calls, one after another. The prompt is
a function of the agent's name, its summary so far and the events, so a replayed round meets the
answer in the cache. A call that fails, or an empty summary, folds the events deterministically
instead: memory stays bounded whatever the model does.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from functools import lru_cache

from pydantic import BaseModel, Field, create_model

from services.engine.llm_port import Messages, StructuredLLM
from services.engine.simulation.memory import (
    MemoryPolicy,
    consolidation_due,
    describe_event,
    evicted_events,
    fold_events,
    shorten,
)
from services.engine.simulation.state import AgentState, MemoryEvent
from services.llm.errors import LLMError

log = logging.getLogger(__name__)

LABEL = "simulation.memory"
_CHARS_PER_TOKEN = 3


@lru_cache(maxsize=16)
def summary_model(max_chars: int) -> type[BaseModel]:
    """The output of a consolidation: the new summary, its length hinted in the schema."""
    return create_model("MemorySummary", summary=(str, Field(json_schema_extra={"maxLength": max_chars})))


@dataclass(frozen=True)
class Consolidated:
    """What consolidating one agent's memory cost."""

    calls: int = 0
    failed_calls: int = 0
    events: int = 0


MIN_EVENT_CHARS = 80
"""Shortest rendering of an event in a crowded consolidation, before the events take several calls."""


def event_line(event: MemoryEvent, max_chars: int) -> str:
    return "- " + shorten(f"(round {event.round}) {describe_event(event)}", max_chars)


def event_width(count: int, policy: MemoryPolicy) -> int:
    """How long each of `count` events may be so that they fit one call (never under MIN_EVENT_CHARS)."""
    return max(MIN_EVENT_CHARS, min(policy.event_chars, policy.consolidation_chars // max(count, 1) - 3))


def _chunks(events: list[MemoryEvent], width: int, policy: MemoryPolicy) -> list[list[MemoryEvent]]:
    """The events in order, cut into runs whose lines fit `consolidation_chars` (at least one event each)."""
    chunks: list[list[MemoryEvent]] = [[]]
    size = 0
    for event in events:
        length = len(event_line(event, width)) + 1
        if chunks[-1] and size + length > policy.consolidation_chars:
            chunks.append([])
            size = 0
        chunks[-1].append(event)
        size += length
    return chunks


def consolidation_messages(
    name: str, summary: str, events: list[MemoryEvent], policy: MemoryPolicy, width: int | None = None
) -> Messages:
    system = (
        f"You keep the memory of {name}, a participant in a research conversation. Merge the new events "
        f"into the summary of what {name} remembers: who said what, {name}'s own views, feelings, "
        "promises and open questions; drop repetition and small talk. Write it in the second person "
        f'("You said ...", "Ana told you ..."), in at most {policy.summary_chars} characters, oldest '
        'first. Answer in JSON: "summary", the whole new summary.'
    )
    user = f"Summary so far:\n{summary or '(nothing yet)'}\n\nNew events, oldest first:\n" + "\n".join(
        event_line(event, width or policy.event_chars) for event in events
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


async def summarised(
    llm: StructuredLLM, name: str, summary: str, events: list[MemoryEvent], policy: MemoryPolicy, *, session: str
) -> tuple[str, Consolidated]:
    """The summary with `events` merged in by the model (folded where a call fails), and what it cost."""
    calls = failed = 0
    output_model = summary_model(policy.summary_chars)
    width = event_width(len(events), policy)
    for chunk in _chunks(events, width, policy):
        calls += 1
        text = ""
        try:
            reply = await llm.structured(
                consolidation_messages(name, summary, chunk, policy, width),
                output_model,
                session=session,
                label=LABEL,
                max_tokens=policy.summary_chars // _CHARS_PER_TOKEN + 64,
                temperature=0.0,
            )
            text = shorten(reply.summary, policy.summary_chars)
        except LLMError as error:
            failed += 1
            log.warning("memory consolidation of %s failed, folding instead: %s", name, error)
        summary = text or fold_events(summary, chunk, policy)
    return summary, Consolidated(calls=calls, failed_calls=failed, events=len(events))


class Consolidations:
    """The consolidations due at the start of a round, run while the round's turns run.

    They read the memory as it is when they start (the events between the prefix and the window, and
    the summary) and are applied when the round's turns are done: an agent only appends to its memory,
    so the consolidated events are still where they were. The round costs one model latency, not two;
    its checkpoint holds the result; a resumed round starts the same consolidations from its checkpoint
    and meets them in the cache."""

    def __init__(self, llm: StructuredLLM, agents: list[AgentState], policy: MemoryPolicy, *, session: str) -> None:
        self._policy = policy
        self._started: list[tuple[AgentState, int, asyncio.Task[tuple[str, Consolidated]]]] = []
        for agent in agents:
            if consolidation_due(agent, policy):
                events = list(evicted_events(agent, policy))
                task = asyncio.ensure_future(
                    summarised(llm, agent.name, agent.memory_summary, events, policy, session=session)
                )
                self._started.append((agent, len(events), task))

    async def apply(self) -> list[Consolidated]:
        """Waits for every consolidation and puts its summary in place of its events."""
        outcomes = []
        for agent, count, task in self._started:
            summary, outcome = await task
            del agent.memory[self._policy.first_events : self._policy.first_events + count]
            agent.memory_summary = summary
            outcomes.append(outcome)
        self._started = []
        return outcomes

    async def cancel(self) -> None:
        tasks = [task for _, _, task in self._started]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._started = []


async def consolidate_all(
    llm: StructuredLLM, agents: list[AgentState], policy: MemoryPolicy, *, session: str
) -> list[Consolidated]:
    """Consolidates every agent's memory that is due, all at once, and applies the results."""
    return await Consolidations(llm, agents, policy, session=session).apply()
