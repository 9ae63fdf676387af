"""Raw answers are coerced to the field's kind; missing or unusable answers are reported, never invented."""

from __future__ import annotations

import pytest

from services.common.hints import parse_hint
from services.extraction.coercion import coerce

RATING = parse_hint("rating", "integer 1-10")
SHARE = parse_hint("likelihood_score", "number 0-1")
SPEND = parse_hint("predicted_value", "number")
INTENT = parse_hint("purchase_intent", "one of yes/no/maybe")
WOULD_BUY = parse_hint("would_buy", "yes/no")
CONCERNS = parse_hint("concerns", "list of short phrases")
REASONING = parse_hint("reasoning", "text")


@pytest.mark.parametrize(
    ("spec", "raw", "expected"),
    [
        (RATING, 7, 7.0),
        (RATING, "7", 7.0),
        (RATING, "7/10", 7.0),
        (RATING, "8 out of 10", 8.0),
        (RATING, "4/5", 8.0),  # rescaled to the field's own maximum
        (RATING, "seven", 7.0),
        (RATING, "Seven.", 7.0),
        (RATING, 6.6, 7.0),  # an integer field rounds
        (SHARE, 0.25, 0.25),
        (SHARE, "70%", 0.7),
        (SHARE, "0.4", 0.4),
        (SPEND, "$1,250.50", 1250.5),
        (SPEND, -3, -3.0),
        (INTENT, "yes", "yes"),
        (INTENT, "Yes.", "yes"),
        (INTENT, "MAYBE", "maybe"),
        (INTENT, "maybe, it depends on the price", "maybe"),
        (INTENT, "I would say no", "no"),
        (WOULD_BUY, True, True),
        (WOULD_BUY, "Yes.", True),
        (WOULD_BUY, "no way", False),
        (WOULD_BUY, "false", False),
        (WOULD_BUY, 0, False),
        (CONCERNS, ["price", "Price", " size "], ["price", "size"]),
        (CONCERNS, "price; noise\n- size", ["price", "noise", "size"]),
        (CONCERNS, "price, noise", ["price", "noise"]),
        (CONCERNS, "none", []),
        (CONCERNS, [], []),
        (REASONING, "  It is too expensive. ", "It is too expensive."),
        (REASONING, ["too expensive", "too big"], "too expensive; too big"),
        (REASONING, 42, "42"),
    ],
)
def test_raw_answers_are_coerced_to_the_fields_kind(spec, raw, expected):
    coerced = coerce(spec, raw)
    assert coerced.problem == ""
    assert coerced.value == expected
    assert type(coerced.value) is type(expected)


@pytest.mark.parametrize(
    ("spec", "raw", "problem"),
    [
        (RATING, None, "missing"),
        (RATING, "N/A", "missing"),
        (RATING, "unknown", "missing"),
        (RATING, "", "missing"),
        (RATING, "12", "outside 1-10"),
        (RATING, 0, "outside 1-10"),
        (RATING, "great", "no number"),
        (RATING, True, "yes/no answer is not a number"),
        (RATING, {"score": 7}, "not a number"),
        (SHARE, 3, "outside 0-1"),
        (SHARE, "150%", "outside 0-1"),
        (INTENT, "perhaps", "matches none of yes/no/maybe"),
        (INTENT, "not mentioned", "missing"),
        (INTENT, ["yes"], "not a category"),
        (WOULD_BUY, "unsure", "neither yes nor no"),
        (WOULD_BUY, 7, "not a yes/no answer"),
        (CONCERNS, None, "missing"),
        (CONCERNS, "n/a", "missing"),
        (CONCERNS, 5, "not a list"),
        (REASONING, "   ", "missing"),
        (REASONING, None, "missing"),
    ],
)
def test_missing_or_unusable_answers_are_reported_not_invented(spec, raw, problem):
    coerced = coerce(spec, raw)
    assert coerced.value is None and not coerced.usable
    assert problem in coerced.problem
    assert coerced.problem.startswith(("missing:", "invalid:"))


WORRY = parse_hint("main_concern", "short text: the participant's biggest worry")
QUESTION = "Would you subscribe to PedalShare for 49 EUR a month? Why or why not?"


@pytest.mark.parametrize(
    ("spec", "raw", "echoed"),
    [
        (WORRY, "the participant's biggest worry", "the field's hint"),
        (WORRY, "Biggest worry.", "the field's hint"),
        (WORRY, "main concern", "the field's hint"),
        (WORRY, "short text", "the field's hint"),
        (WORRY, "subscribe to PedalShare for 49 EUR a month", "the question"),
        (CONCERNS, ["short phrases", "list"], "the field's hint"),
        (REASONING, "Would you subscribe to PedalShare for 49 EUR?", "the question"),
    ],
)
def test_a_value_that_only_repeats_the_hint_or_the_question_is_missing(spec, raw, echoed):
    coerced = coerce(spec, raw, [QUESTION])
    assert coerced.value is None and coerced.echoed
    assert coerced.problem.startswith(f"missing: the value only repeats {echoed}")


@pytest.mark.parametrize(
    ("spec", "raw", "expected"),
    [
        (WORRY, "the price", "the price"),
        (WORRY, "My biggest worry is theft of the bike", "My biggest worry is theft of the bike"),
        (WORRY, "49 EUR a month", "49 EUR a month"),  # a few words of the question are an answer
        (CONCERNS, ["short phrases", "theft"], ["theft"]),  # the echoed item goes, the answer stays
        (INTENT, "maybe", "maybe"),  # categories are never echoes: the hint names them
    ],
)
def test_a_value_with_words_of_its_own_is_kept(spec, raw, expected):
    coerced = coerce(spec, raw, [QUESTION])
    assert coerced.problem == "" and coerced.value == expected
