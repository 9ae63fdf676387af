"""The mesh's maxima on the text callers send, shared by every service that takes such text.

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
MAX_DOCUMENT_CHARS = 500_000
"""A document: content to enrich, a grounding source's text, a demographics file."""
MAX_AGENT_SPEC_CHARS = 1_000_000
"""One agent specification (persona, memories and state) as JSON."""
MAX_SOURCES = 16
"""Grounding sources of one persona."""


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
    return texts_violations([
        (f"{prefix}.content", content, MAX_STIMULUS_CHARS),
        (f"{prefix}.context", context, MAX_STIMULUS_CHARS),
    ])


def extraction_text_violations(prefix: str, objective: str, situation: str,
                               hints: Mapping[str, str]) -> list[tuple[str, str]]:
    return texts_violations([
        (f"{prefix}.extraction_objective", objective, MAX_INSTRUCTION_CHARS),
        (f"{prefix}.situation", situation, MAX_INSTRUCTION_CHARS),
        *((f"{prefix}.fields_hints[{name}]", hint, MAX_HINT_CHARS) for name, hint in hints.items()),
    ])
