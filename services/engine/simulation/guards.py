"""Answers that repeat the prompt instead of acting in it: a small model's failure, caught before the transcript.

A turn repeats the prompt's scaffolding when an action's content holds the persona fence, the rules
of the turn or the output schema, or copies a long run of the persona profile word for word. Such a
turn is invalid output: the agent is asked again, shown its answer and what was wrong with it.
Quoting one belief of the profile is speaking in character; pasting the profile is not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from services.engine.simulation.prompt import FENCE_TAG, SCAFFOLDING_TEXTS

RULE_RUN_WORDS = 6
"""Words in a row copied from the turn's rules (or the prompt's headings) that make an echo."""
PROFILE_RUN_WORDS = 20
"""Words in a row copied from the persona profile that make an echo: more than one belief or fact."""

_WORD = re.compile(r"[a-z0-9]+")
_SCHEMA_KEY = re.compile(r'"\s*(?:actions|type|content|target|goals|attention|emotions)\s*"\s*:')
_PROMPT_MARKERS = re.compile(
    r"\bround \d+ of \d+\b|\bnothing new has happened\b|^\s*(?:you remember|most recently|then, in short)\s*:"
    r"|\bperson profiled\b|\bprofiled between\b",
    re.IGNORECASE | re.MULTILINE,
)
_SCHEMA_WORDS = frozenset(
    {"actions", "action", "type", "content", "target", "goals", "attention", "emotions", "think", "talk", "done"}
)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def _runs(words: list[str], length: int) -> set[tuple[str, ...]]:
    return {tuple(words[index : index + length]) for index in range(len(words) - length + 1)}


@lru_cache(maxsize=4096)
def _reference_runs(text: str, length: int) -> frozenset[tuple[str, ...]]:
    return frozenset(_runs(_words(text), length))


_RULE_RUNS = frozenset().union(*(_reference_runs(text, RULE_RUN_WORDS) for text in SCAFFOLDING_TEXTS))


def _copies(content: str, reference: frozenset[tuple[str, ...]], length: int) -> bool:
    return bool(reference) and not reference.isdisjoint(_runs(_words(content), length))


def scaffolding_echo(content: str, persona_description: str) -> str:
    """What of the turn prompt's scaffolding `content` repeats ("" when none): the persona fence, the
    rules, the output schema or the persona profile."""
    if FENCE_TAG.search(content):
        return "the persona fence"
    words = _words(content)
    if _SCHEMA_KEY.search(content) or (words and set(words) <= _SCHEMA_WORDS):
        return "the output schema"
    if _PROMPT_MARKERS.search(content) or _copies(content, _RULE_RUNS, RULE_RUN_WORDS):
        return "the rules of the turn"
    if _copies(content, _reference_runs(persona_description, PROFILE_RUN_WORDS), PROFILE_RUN_WORDS):
        return "your persona profile"
    return ""


def reply_echo(actions: Sequence[Any], persona_description: str) -> str:
    """The first scaffolding echo among what a reply thinks and says ("" when none); the content of DONE
    and what follows it are never recorded."""
    for action in actions:
        if str(getattr(action, "type", "")).upper() == "DONE":
            break
        if echo := scaffolding_echo(getattr(action, "content", "") or "", persona_description):
            return echo
    return ""


def echo_correction(echo: str, name: str) -> str:
    """The follow-up that shows the model why its answer is invalid."""
    return (
        f"Your answer repeated {echo} instead of speaking as {name}. That is not valid. Answer the "
        f"turn again as {name}, in your own words: what you think and say now, in the first person. "
        "Never copy the profile, the rules or the format description."
    )
