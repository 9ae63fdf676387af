"""Bounded episodic memory: the first events and the most recent ones verbatim, the rest summarised.

Folding is deterministic and costs no model call: each evicted event becomes one compact line of the
running summary, and the summary keeps only its newest lines within a character budget. However long
a run, an agent's memory and the prompt made from it stay the same bounded size.
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
    """Longest summary line for one evicted event."""


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
    """Adds an event to the agent's memory, folding the oldest middle event into the summary."""
    agent.memory.append(event)
    while len(agent.memory) > policy.first_events + policy.recent_events:
        evicted = agent.memory.pop(policy.first_events)
        line = summary_line(evicted, policy.summary_line_chars)
        agent.memory_summary = fold_summary(agent.memory_summary, line, policy.summary_chars)
