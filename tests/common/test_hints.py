"""Field hints become typed specs; standard fields have default hints; nonsense hints are refused."""

from __future__ import annotations

import pytest

from services.common.hints import DEFAULT_HINTS, FieldSpec, HintError, ValueKind, default_hint, parse_hint

NUMBER, CATEGORY, LIST, TEXT, BOOLEAN = (
    ValueKind.NUMBER,
    ValueKind.CATEGORY,
    ValueKind.LIST,
    ValueKind.TEXT,
    ValueKind.BOOLEAN,
)


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        ("integer 1-10", {"kind": NUMBER, "integer": True, "minimum": 1, "maximum": 10}),
        ("int from 1 to 5", {"kind": NUMBER, "integer": True, "minimum": 1, "maximum": 5}),
        ("a score between 0 and 100", {"kind": NUMBER, "integer": True, "minimum": 0, "maximum": 100}),
        ("1-10", {"kind": NUMBER, "integer": True, "minimum": 1, "maximum": 10}),
        ("number 0-100", {"kind": NUMBER, "integer": False, "minimum": 0, "maximum": 100}),
        ("number 0-1", {"kind": NUMBER, "integer": False, "minimum": 0, "maximum": 1}),
        ("0.0-1.0", {"kind": NUMBER, "integer": False, "minimum": 0, "maximum": 1}),
        ("number", {"kind": NUMBER, "integer": False, "minimum": None, "maximum": None}),
        ("percentage", {"kind": NUMBER, "integer": False, "minimum": 0, "maximum": 100}),
        ("probability", {"kind": NUMBER, "integer": False, "minimum": 0, "maximum": 1}),
        ("one of yes/no/maybe", {"kind": CATEGORY, "categories": ("yes", "no", "maybe")}),
        ("one of: low, medium or high", {"kind": CATEGORY, "categories": ("low", "medium", "high")}),
        ("one of positive | negative (the overall tone)", {"kind": CATEGORY, "categories": ("positive", "negative")}),
        ("positive/neutral/negative", {"kind": CATEGORY, "categories": ("positive", "neutral", "negative")}),
        ("yes/no", {"kind": BOOLEAN}),
        ("Yes or no: would they buy it?", {"kind": BOOLEAN}),
        ("boolean", {"kind": BOOLEAN}),
        ("one of yes/no", {"kind": BOOLEAN}),
        ("list", {"kind": LIST}),
        ("list of short phrases", {"kind": LIST}),
        ("comma-separated concerns", {"kind": LIST}),
        ("text", {"kind": TEXT}),
        ("free text of 50-100 words", {"kind": TEXT}),
        ("the agent's reaction in one sentence", {"kind": TEXT}),
    ],
)
def test_hints_become_typed_specs(hint, expected):
    spec = parse_hint("field", hint)
    assert spec.model_dump(include=set(expected)) == expected
    assert spec.hint == hint and spec.name == "field"


@pytest.mark.parametrize("hint", ["", "blah", "how they felt", "one of apples", "integer 10-1"])
def test_unparseable_hints_are_refused(hint):
    with pytest.raises(HintError):
        parse_hint("field", hint)


def test_every_standard_field_has_a_parseable_default_hint():
    expected_kinds = {
        "response": TEXT,
        "engagement_score": NUMBER,
        "purchase_intent": CATEGORY,
        "emotional_response": CATEGORY,
        "satisfaction": NUMBER,
        "concerns": LIST,
        "rating": NUMBER,
        "likelihood_score": NUMBER,
        "predicted_value": NUMBER,
        "reasoning": TEXT,
        "key_points": LIST,
        "suggestions": LIST,
    }
    assert set(DEFAULT_HINTS) == set(expected_kinds)
    for name, kind in expected_kinds.items():
        assert parse_hint(name, default_hint(name)).kind is kind, name
    assert parse_hint("rating", default_hint("Rating")) == FieldSpec(
        name="rating", kind=NUMBER, hint="integer 1-10", integer=True, minimum=1, maximum=10
    )
    assert parse_hint("likelihood_score", default_hint("likelihood_score")).maximum == 1
    assert default_hint("favourite_colour") == "text"
