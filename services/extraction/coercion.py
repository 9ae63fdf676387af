"""Turning the extractor's raw answer for a field into a value of the field's kind, or a problem.

Numbers come from numbers or number-like text ("7/10", "7 out of 10", "70%", "seven"); categories
and booleans from the answer's words ("Yes." is yes); a missing or unusable answer yields no value
and says why. A value is never invented: what cannot be read as the field's kind is a problem.

A text or list value that only repeats the field's hint ("the participant's biggest worry") or the
question asked (the extraction objective, the stimulus) says nothing about the participant: a small
model fills the schema with the words it was given. Such a value is missing (`HINT_ECHO`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from services.common.extracted_values import HINT_ECHO, Value
from services.common.hints import FieldSpec, ValueKind

MISSING_MARKERS = frozenset(
    {
        "",
        "null",
        "none",
        "nil",
        "n/a",
        "na",
        "unknown",
        "not mentioned",
        "not stated",
        "not specified",
        "not applicable",
        "not given",
        "no answer",
        "not available",
        "-",
        "?",
    }
)

_NUMBER_WORDS = {
    word: index
    for index, word in enumerate(
        (
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        )
    )
}
_NUMBER = r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_FRACTION = re.compile(rf"({_NUMBER})\s*(?:/|out of|of)\s*({_NUMBER})", re.IGNORECASE)
_PERCENT = re.compile(rf"({_NUMBER})\s*(?:%|percent\b)", re.IGNORECASE)
_PLAIN_NUMBER = re.compile(_NUMBER)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_LIST_SEPARATORS = re.compile(r"\s*(?:\n|;|•|\u2022|^\s*[-*]\s+)\s*", re.MULTILINE)

_EMPTY_LIST_ANSWERS = frozenset({"none", "nothing", "no concerns", "no suggestions", "no points"})
_TRUE_WORDS = frozenset({"yes", "y", "true", "yeah", "yep", "sure", "definitely", "certainly", "absolutely"})
_FALSE_WORDS = frozenset({"no", "n", "false", "nope", "never", "not"})


QUESTION_ECHO_MIN_WORDS = 3
"""Content words a value needs before it can count as repeating the question (a word or two of the
question's topic is an answer: "price")."""
QUESTION_ECHO_SHARE = 0.6
"""Share of the question's content words a value must exceed, repeating nothing else, to count as repeating it."""
_STOP_WORDS = frozenset(
    "a an the of to in on at for by with and or but is are was were be been it its this that these those "
    "their there they them he she his her him you your i me my we our us as from about into than then so "
    "if not no do does did has have had will would can could should may might must what which who whom "
    "whose how why when where s".split()
)


@dataclass(frozen=True)
class Coerced:
    """A typed value, or None with the reason there is none."""

    value: Value | None
    problem: str = ""

    @property
    def usable(self) -> bool:
        return self.value is not None

    @property
    def echoed(self) -> bool:
        """Whether the value was left out because it only repeats the field's hint or the question."""
        return self.problem.startswith(HINT_ECHO)


def _content_words(text: str) -> set[str]:
    return {word for word in _WORD.findall(text.lower().replace("_", " ")) if word not in _STOP_WORDS}


def echo_of(text: str, spec: FieldSpec, questions: Sequence[str] = ()) -> str:
    """What `text` only repeats: "the field's hint" (its hint or name), "the question" (one of
    `questions`), or "" when it says something of its own."""
    words = _content_words(text)
    if not words:
        return ""
    if words <= _content_words(f"{spec.name} {spec.hint}"):
        return "the field's hint"
    for question in questions:
        asked = _content_words(question)
        if len(words) >= QUESTION_ECHO_MIN_WORDS and words <= asked and len(words) > QUESTION_ECHO_SHARE * len(asked):
            return "the question"
    return ""


def _echo(spec: FieldSpec, raw: Any, echoed: str) -> Coerced:
    return Coerced(None, f"{HINT_ECHO} {echoed} (field {spec.name!r}, got {raw!r})")


def _missing(reason: str = "the transcript gives no value") -> Coerced:
    return Coerced(None, f"missing: {reason}")


def _invalid(spec: FieldSpec, raw: Any, why: str) -> Coerced:
    return Coerced(None, f"invalid: {why} (field {spec.name!r} wants {spec.hint!r}, got {raw!r})")


def _normalised(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def _is_missing(raw: Any) -> bool:
    if isinstance(raw, str):
        return raw.strip().lower() in MISSING_MARKERS or _normalised(raw) in MISSING_MARKERS
    return raw is None


def _to_float(token: str) -> float:
    return float(token.replace(",", ""))


def _number_from_text(text: str, spec: FieldSpec) -> float | None:
    if match := _FRACTION.search(text):
        numerator, denominator = _to_float(match.group(1)), _to_float(match.group(2))
        if denominator <= 0:
            return None
        if spec.maximum is None or denominator == spec.maximum:
            return numerator
        return numerator / denominator * spec.maximum
    if match := _PERCENT.search(text):
        percent = _to_float(match.group(1))
        return percent / 100 if spec.maximum is not None and spec.maximum <= 1 else percent
    if match := _PLAIN_NUMBER.search(text):
        return _to_float(match.group(0))
    words = _WORD.findall(text.lower())
    spelled = [_NUMBER_WORDS[word] for word in words if word in _NUMBER_WORDS]
    return float(spelled[0]) if spelled else None


def _coerce_number(spec: FieldSpec, raw: Any) -> Coerced:
    if isinstance(raw, bool):
        return _invalid(spec, raw, "a yes/no answer is not a number")
    if isinstance(raw, int | float):
        number = float(raw)
    elif isinstance(raw, str):
        found = _number_from_text(raw, spec)
        if found is None:
            return _invalid(spec, raw, "no number in the answer")
        number = found
    else:
        return _invalid(spec, raw, "not a number")
    if not math.isfinite(number):
        return _invalid(spec, raw, "not a finite number")
    if spec.integer:
        number = float(math.floor(number + 0.5))
    low, high = spec.minimum, spec.maximum
    if (low is not None and number < low) or (high is not None and number > high):
        return _invalid(
            spec,
            raw,
            f"{number:g} is outside {low:g}-{high:g}"
            if low is not None and high is not None
            else f"{number:g} is out of range",
        )
    return Coerced(number)


def _coerce_category(spec: FieldSpec, raw: Any) -> Coerced:
    if not isinstance(raw, str | int | float) or isinstance(raw, bool):
        return _invalid(spec, raw, "not a category")
    text = _normalised(str(raw))
    by_normal = {_normalised(category): category for category in spec.categories}
    if text in by_normal:
        return Coerced(by_normal[text])
    leading = [category for normal, category in by_normal.items() if text.startswith(normal + " ")]
    if len(leading) == 1:
        return Coerced(leading[0])
    padded = f" {text} "
    mentioned = [category for normal, category in by_normal.items() if f" {normal} " in padded]
    if len(mentioned) == 1:
        return Coerced(mentioned[0])
    why = "names several categories" if mentioned else "matches none of " + "/".join(spec.categories)
    return _invalid(spec, raw, why)


def _coerce_boolean(spec: FieldSpec, raw: Any) -> Coerced:
    if isinstance(raw, bool):
        return Coerced(raw)
    if isinstance(raw, int | float) and raw in (0, 1):
        return Coerced(bool(raw))
    if isinstance(raw, str):
        words = _normalised(raw).split()
        if words and words[0] in _TRUE_WORDS:
            return Coerced(True)
        if words and words[0] in _FALSE_WORDS:
            return Coerced(False)
        return _invalid(spec, raw, "neither yes nor no")
    return _invalid(spec, raw, "not a yes/no answer")


def _coerce_list(spec: FieldSpec, raw: Any, questions: Sequence[str] = ()) -> Coerced:
    if isinstance(raw, str):
        if _normalised(raw) in _EMPTY_LIST_ANSWERS:
            return Coerced([])
        if _is_missing(raw):
            return _missing()
        parts = _LIST_SEPARATORS.split(raw)
        if len(parts) == 1:
            parts = raw.split(",")
        raw_items: list[Any] = parts
    elif isinstance(raw, list | tuple):
        raw_items = list(raw)
    else:
        return _invalid(spec, raw, "not a list")
    items: list[str] = []
    echoed = ""
    for item in raw_items:
        if item is None or isinstance(item, dict | list):
            continue
        text = str(item).strip().strip("-*•").strip()
        if (repeated := echo_of(text, spec, questions)) and text:
            echoed = echoed or repeated
            continue
        if text and not _is_missing(text) and text.lower() not in {seen.lower() for seen in items}:
            items.append(text)
    if echoed and not items:
        return _echo(spec, raw, echoed)
    return Coerced(items)


def _coerce_text(spec: FieldSpec, raw: Any, questions: Sequence[str] = ()) -> Coerced:
    if isinstance(raw, list):
        raw = "; ".join(str(item).strip() for item in raw if item is not None and str(item).strip())
    if isinstance(raw, bool):
        raw = "yes" if raw else "no"
    if isinstance(raw, int | float):
        raw = f"{raw:g}"
    if not isinstance(raw, str):
        return _invalid(spec, raw, "not text")
    text = raw.strip()
    if echoed := echo_of(text, spec, questions):
        return _echo(spec, raw, echoed)
    return Coerced(text) if text else _missing()


_COERCERS = {
    ValueKind.NUMBER: _coerce_number,
    ValueKind.CATEGORY: _coerce_category,
    ValueKind.BOOLEAN: _coerce_boolean,
    ValueKind.LIST: _coerce_list,
    ValueKind.TEXT: _coerce_text,
}


def coerce(spec: FieldSpec, raw: Any, questions: Sequence[str] = ()) -> Coerced:
    """The value of `spec`'s kind read from the extractor's raw answer, or the problem with it.

    `questions`: what the participants and the extractor were asked; a text or list value that only
    repeats one of them, or the field's hint, is missing."""
    if raw is None or (spec.kind is not ValueKind.LIST and _is_missing(raw)):
        return _missing()
    if spec.kind in (ValueKind.LIST, ValueKind.TEXT):
        return _COERCERS[spec.kind](spec, raw, questions)
    return _COERCERS[spec.kind](spec, raw)
