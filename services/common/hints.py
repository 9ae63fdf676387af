"""Field hints ("integer 1-10", "one of yes/no/maybe", "list of short phrases") parsed into typed specs.

A hint names the kind of a field's value and its constraints. The kind is given by the earliest
recognised phrase in the hint, so "text of 50-100 words" is text and "integer 1-10" is a number;
words after it describe the field to the extractor. A hint with no recognisable kind is an error.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ValidationError, model_validator


class ValueKind(StrEnum):
    NUMBER = "number"
    CATEGORY = "category"
    LIST = "list"
    TEXT = "text"
    BOOLEAN = "boolean"


class FieldSpec(BaseModel, frozen=True):
    """A field to extract: its name, the kind of its value and the constraints the value must meet."""

    name: str
    kind: ValueKind
    hint: str
    integer: bool = False
    minimum: float | None = None
    maximum: float | None = None
    categories: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> FieldSpec:
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"empty range {self.minimum:g}-{self.maximum:g}")
        if self.kind is ValueKind.CATEGORY and len(self.categories) < 2:
            raise ValueError("a category field needs at least two categories")
        return self


DEFAULT_HINTS: dict[str, str] = {
    # behavioural
    "response": "text",
    "engagement_score": "integer 1-10",
    "purchase_intent": "one of yes/no/maybe",
    # sentiment
    "emotional_response": "one of positive/neutral/negative/mixed",
    "satisfaction": "integer 1-10",
    "concerns": "list of short phrases",
    # quantitative
    "rating": "integer 1-10",
    "likelihood_score": "number 0-1",
    "predicted_value": "number",
    # qualitative
    "reasoning": "text",
    "key_points": "list of short phrases",
    "suggestions": "list of short phrases",
}
"""Hints of the standard field names, used when the caller gives none; any other field is text."""


class HintError(ValueError):
    """The hint names no kind of value, or constraints that cannot hold."""


_NUMBER_TOKEN = r"-?\d+(?:\.\d+)?"
_RANGE = re.compile(rf"(?:between\s+)?({_NUMBER_TOKEN})\s*(?:-|–|—|\.\.|to|and)\s*({_NUMBER_TOKEN})", re.IGNORECASE)

_KIND_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    # Listed by priority: at the same position the first pattern wins ("yes/no" is boolean, not a slash list).
    ("category", re.compile(r"\b(?:one of|either|choose from|choice of|categor(?:y|ies))\b", re.IGNORECASE)),
    (
        "boolean",
        re.compile(
            r"\b(?:yes\s*/\s*no|yes or no|y\s*/\s*n|true\s*/\s*false|true or false|boolean|bool)\b", re.IGNORECASE
        ),
    ),
    ("list", re.compile(r"\b(?:list|array|comma[- ]separated|bullets?|bulleted)\b", re.IGNORECASE)),
    (
        "number",
        re.compile(
            r"\b(?:integer|int|whole number|number|numeric|float|decimal|real|score|scale|percentage|percent"
            r"|probability)\b",
            re.IGNORECASE,
        ),
    ),
    ("range", _RANGE),
    ("slashes", re.compile(r"^\s*[\w' -]+(?:\s*[/|]\s*[\w' -]+)+\s*$")),
    (
        "text",
        re.compile(
            r"\b(?:text|string|sentences?|paragraphs?|summary|free[- ]form|phrases?|words|description|quote"
            r"|explanation)\b",
            re.IGNORECASE,
        ),
    ),
]
_KIND_PRIORITY = {name: index for index, (name, _) in enumerate(_KIND_PATTERNS)}

_INTEGER_WORDS = re.compile(r"\b(?:integer|int|whole number|scale)\b", re.IGNORECASE)
_REAL_WORDS = re.compile(r"\b(?:number|numeric|float|decimal|real|probability|percentage|percent)\b", re.IGNORECASE)
_CATEGORY_SPLIT = re.compile(r"\s*(?:,|;|\bor\b)\s*", re.IGNORECASE)
_BOOLEAN_SETS = ({"yes", "no"}, {"true", "false"})


def _earliest_kind(hint: str) -> tuple[str, re.Match[str]] | None:
    found = [
        (match.start(), _KIND_PRIORITY[name], name, match)
        for name, pattern in _KIND_PATTERNS
        if (match := pattern.search(hint))
    ]
    if not found:
        return None
    _, _, name, match = min(found, key=lambda item: item[:2])
    return name, match


def _categories(text: str) -> tuple[str, ...]:
    """Categories listed as "a/b/c", "a | b", "a, b or c"; text after a slash list describes them."""
    text = re.split(r"[.()\[\]]", text.strip().lstrip(":"), maxsplit=1)[0]
    if re.search(r"[/|]", text):
        items = re.split(r"\s*[/|]\s*", text)
        items[-1] = re.split(r"[,;:]|\s-\s", items[-1], maxsplit=1)[0]
    else:
        items = _CATEGORY_SPLIT.split(text)
    items = [item.strip(" '\"`:") for item in items]
    unique: list[str] = []
    for item in items:
        if item and item.lower() not in {seen.lower() for seen in unique}:
            unique.append(item)
    return tuple(unique)


def _number_spec(name: str, hint: str) -> FieldSpec:
    bounds = _RANGE.search(hint)
    minimum = maximum = None
    if bounds:
        minimum, maximum = float(bounds.group(1)), float(bounds.group(2))
    elif re.search(r"\bpercent(?:age)?\b", hint, re.IGNORECASE):
        minimum, maximum = 0.0, 100.0
    elif re.search(r"\bprobability\b", hint, re.IGNORECASE):
        minimum, maximum = 0.0, 1.0
    if _INTEGER_WORDS.search(hint):
        integer = True
    elif _REAL_WORDS.search(hint):
        integer = False
    else:  # a bare range or a score: integer when its bounds are
        integer = bounds is not None and "." not in bounds.group(1) + bounds.group(2)
    return FieldSpec(name=name, kind=ValueKind.NUMBER, hint=hint, integer=integer, minimum=minimum, maximum=maximum)


def _category_spec(name: str, hint: str, listed: str) -> FieldSpec:
    categories = _categories(listed)
    if {category.lower() for category in categories} in _BOOLEAN_SETS:
        return FieldSpec(name=name, kind=ValueKind.BOOLEAN, hint=hint)
    if len(categories) < 2:
        raise HintError(f"{hint!r} lists fewer than two categories")
    return FieldSpec(name=name, kind=ValueKind.CATEGORY, hint=hint, categories=categories)


def parse_hint(name: str, hint: str) -> FieldSpec:
    """The typed spec of field `name` described by `hint`; raises HintError when it names no kind."""
    hint = hint.strip()
    found = _earliest_kind(hint)
    if found is None:
        raise HintError(
            f"{hint!r} names no kind of value: say e.g. 'integer 1-10', 'number 0-1', "
            "'one of yes/no/maybe', 'yes/no', 'list' or 'text'"
        )
    kind, match = found
    try:
        if kind == "category":
            return _category_spec(name, hint, hint[match.end() :])
        if kind == "slashes":
            return _category_spec(name, hint, hint)
        if kind == "boolean":
            return FieldSpec(name=name, kind=ValueKind.BOOLEAN, hint=hint)
        if kind == "list":
            return FieldSpec(name=name, kind=ValueKind.LIST, hint=hint)
        if kind in ("number", "range"):
            return _number_spec(name, hint)
        return FieldSpec(name=name, kind=ValueKind.TEXT, hint=hint)
    except ValidationError as error:
        raise HintError(f"{hint!r}: {error.errors()[0]['msg']}") from None


def default_hint(name: str) -> str:
    """The hint of a standard field name; free text for any other field."""
    return DEFAULT_HINTS.get(name.strip().lower(), "text")
