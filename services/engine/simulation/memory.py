"""Episodic memory as TinyTroupe keeps it: a fixed prefix, a recent window, and a summary of the rest.

An agent remembers every event. The first `first_events` stay verbatim for good (the stimulus and
the first reactions) and so do the latest `recent_events`; once `consolidation_batch` events have
fallen between the two, the model consolidates them into the agent's running summary at the end of
the round (`services.engine.simulation.consolidation`), for every agent at once. Until then they stay
in memory, so nothing is lost from the prompt. The consolidation prompt is a function of the state,
so a replay meets its answer in the cache, and its result is in the round's checkpoint.

With `consolidation_batch` 0 folding is deterministic and costs no model call: each evicted event
becomes one compact line of the summary, which keeps only its newest lines within a character budget.
Either way an agent's memory and the prompt made from it stay bounded however long the run.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.engine.simulation.state import AgentState, MemoryEvent, MemoryKind

_ELLIPSIS = "\u2026"
_SUMMARY_TRIMMED = _ELLIPSIS + "\n"


@dataclass(frozen=True)
class MemoryPolicy:
    first_events: int = 4
    """Events kept verbatim from the start (the stimulus and the first reactions)."""
    recent_events: int = 16
    """Most recent events kept verbatim."""
    summary_chars: int = 800
    """Longest running summary; its oldest lines go first."""
    summary_line_chars: int = 100
    """Longest summary line for one evicted event (deterministic folding, and a failed consolidation)."""
    consolidation_batch: int = 8
    """Evicted events that make the model consolidate them into the summary (one call for the agent at
    the end of the round); 0 folds each evicted event deterministically, without the model."""
    consolidation_chars: int = 4000
    """Longest list of events given to one consolidation call; more events take further calls."""
    event_chars: int = 280
    """Longest rendering of one event in a consolidation prompt."""

    @classmethod
    def for_context(cls, context_tokens: int) -> MemoryPolicy:
        """The window of a model whose context holds `context_tokens`: 16 recent events and an 800-character
        summary at 4k tokens, growing with the context up to 128 events and 8,000 characters."""
        recent = min(max(context_tokens // 256, 8), 128)
        return cls(
            first_events=min(max(context_tokens // 2048, 4), 16),
            recent_events=recent,
            summary_chars=min(max(context_tokens // 5, 800), 8000),
            summary_line_chars=100 if context_tokens < 8192 else 200,
            consolidation_batch=max(8, recent // 4),
            consolidation_chars=min(max(context_tokens, 4000), 60_000),
            event_chars=280 if context_tokens < 8192 else 800,
        )


def shorten(text: str, max_chars: int) -> str:
    """`text` on one line, cut to `max_chars` with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= max_chars else flat[: max_chars - 1].rstrip() + _ELLIPSIS


def describe_event(event: MemoryEvent) -> str:
    """One event as the agent recalls it, e.g. `Ana said: ...`, `you thought: ...`."""
    if event.kind is MemoryKind.SAID:
        return f"you said: {event.content}"
    if event.kind is MemoryKind.THOUGHT:
        return f"you thought: {event.content}"
    if event.kind is MemoryKind.STIMULUS:
        return f"{event.source}: {event.content}"
    return f"{event.source} said: {event.content}"


def summary_line(event: MemoryEvent, max_chars: int) -> str:
    return shorten(f"r{event.round} {describe_event(event)}", max_chars)


def fold_summary(summary: str, line: str, max_chars: int) -> str:
    """The summary with `line` appended, its oldest lines dropped to fit `max_chars`."""
    lines = [kept for kept in summary.removeprefix(_SUMMARY_TRIMMED).split("\n") if kept]
    lines.append(line)
    trimmed = False
    while len(lines) > 1 and sum(len(kept) + 1 for kept in lines) > max_chars - len(_SUMMARY_TRIMMED):
        lines.pop(0)
        trimmed = True
    text = "\n".join(lines)
    if trimmed or summary.startswith(_SUMMARY_TRIMMED):
        text = _SUMMARY_TRIMMED + text
    return text[:max_chars]


def remember(agent: AgentState, event: MemoryEvent, policy: MemoryPolicy) -> None:
    """Adds an event to the agent's memory; with deterministic folding, folds the oldest middle event
    into the summary (the model consolidates at the end of the round otherwise)."""
    agent.memory.append(event)
    if policy.consolidation_batch > 0:
        return
    while len(agent.memory) > policy.first_events + policy.recent_events:
        evicted = agent.memory.pop(policy.first_events)
        agent.memory_summary = fold_events(agent.memory_summary, [evicted], policy)


def fold_events(summary: str, events: list[MemoryEvent], policy: MemoryPolicy) -> str:
    """The summary with one compact line per event appended (its oldest lines dropped to fit)."""
    for event in events:
        summary = fold_summary(summary, summary_line(event, policy.summary_line_chars), policy.summary_chars)
    return summary


def evicted_events(agent: AgentState, policy: MemoryPolicy) -> list[MemoryEvent]:
    """The events between the fixed prefix and the recent window, waiting to be consolidated."""
    return agent.memory[policy.first_events : max(policy.first_events, len(agent.memory) - policy.recent_events)]


def consolidation_due(agent: AgentState, policy: MemoryPolicy) -> bool:
    return policy.consolidation_batch > 0 and len(evicted_events(agent, policy)) >= policy.consolidation_batch
