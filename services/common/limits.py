"""The mesh's maxima on what callers send, each defined once and checked alike by every service.

SECURITY.md lists them with the other limits. Each check returns the violations it finds as
`(field, description)` pairs, so a validator can report every problem of a request at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from services.runtime.errors import InvalidArgument

MAX_STIMULUS_CHARS = 20_000
"""A stimulus's content and context."""
MAX_INSTRUCTION_CHARS = 20_000
"""Contexts, particularities, expectations, objectives, situations, requirements and instructions."""
MAX_HINT_CHARS = 1_000
"""One field's hint."""
MAX_STIMULUS_OPTIONS = 8
"""Options of one stimulus."""
MAX_OPTION_NAME_CHARS = 200
"""An option's name."""
MAX_DOCUMENT_CHARS = 500_000
"""A document: content to enrich, a grounding source's text, a demographics file."""
MAX_AGENT_SPEC_CHARS = 1_000_000
"""One agent specification (persona, memories and state) as JSON."""
MAX_SOURCES = 16
"""Grounding sources of one persona."""

MAX_PARTICIPANTS = 1000
"""Participants of one study, and agents of one extraction."""
MAX_SIMULATION_AGENTS = 5000
"""Agents of one simulation's world."""
MAX_ROUNDS = 50
"""Rounds of one simulation."""
MAX_ACTIONS_PER_TURN = 10
"""Actions of one agent turn (0 in a request means DEFAULT_MAX_ACTIONS_PER_TURN)."""
DEFAULT_MAX_ACTIONS_PER_TURN = 4
DEFAULT_MAX_FAILED_FRACTION = 0.5
"""The share of agents that may fail before a simulation fails (0 in a request means this)."""
MAX_FIELDS = 32
"""Extraction fields of one request."""
MAX_FIELD_NAME_CHARS = 64


def text_violations(field: str, text: str, limit: int) -> list[tuple[str, str]]:
    if len(text) > limit:
        return [(field, f"is {len(text)} characters; at most {limit}")]
    return []


def texts_violations(checks: Iterable[tuple[str, str, int]]) -> list[tuple[str, str]]:
    """The violations of several `(field, text, limit)` checks."""
    return [violation for field, text, limit in checks for violation in text_violations(field, text, limit)]


def require_texts_within(checks: Iterable[tuple[str, str, int]]) -> None:
    """Raises InvalidArgument naming every `(field, text, limit)` check that fails."""
    if violations := texts_violations(checks):
        (field, description), *more = violations
        raise InvalidArgument(field, description, more=more)


def stimulus_violations(prefix: str, content: str, context: str) -> list[tuple[str, str]]:
    return texts_violations(
        [
            (f"{prefix}.content", content, MAX_STIMULUS_CHARS),
            (f"{prefix}.context", context, MAX_STIMULUS_CHARS),
        ]
    )


def extraction_text_violations(
    prefix: str, objective: str, situation: str, hints: Mapping[str, str]
) -> list[tuple[str, str]]:
    return texts_violations(
        [
            (f"{prefix}.extraction_objective", objective, MAX_INSTRUCTION_CHARS),
            (f"{prefix}.situation", situation, MAX_INSTRUCTION_CHARS),
            *((f"{prefix}.fields_hints[{name}]", hint, MAX_HINT_CHARS) for name, hint in hints.items()),
        ]
    )
