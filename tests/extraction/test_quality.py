"""Per-value confidence checks the evidence against the transcript; the study score follows its formula."""

from __future__ import annotations

import pytest

from services.common.extraction_quality import (
    evidence_support,
    grounded_confidence,
    modal_share,
    study_quality,
    weighted_agreement,
)

SAID = "I would rate it 7 out of 10. My worry is the high price, to be honest."


def test_evidence_found_in_what_the_agent_said():
    assert evidence_support("rate it 7 out of 10", SAID) == 1.0
    assert evidence_support("My worry is the HIGH price", SAID) == 1.0  # case and punctuation ignored
    assert evidence_support("my worry is the price", SAID) == 1.0  # every word is there
    assert evidence_support("I love this machine", SAID) == 0.25  # only "I" is there
    assert evidence_support("", SAID) == 0.0


def test_unsupported_evidence_halves_the_models_confidence():
    assert grounded_confidence(0.9, "rate it 7 out of 10", SAID) == (0.9, True)
    assert grounded_confidence(0.9, "I love this machine", SAID) == (0.45, False)
    assert grounded_confidence(0.8, "", SAID) == (0.4, False)
    assert grounded_confidence(None, "rate it 7", SAID) == (0.5, True)  # no confidence given: 0.5
    assert grounded_confidence(3.0, "rate it 7", SAID) == (1.0, True)  # clamped


def test_modal_share():
    assert modal_share(["yes", "yes", "no", "maybe"]) == 0.5
    assert modal_share(["yes"]) == 1.0


def test_agreement_counts_only_as_far_as_the_agreeing_values_are_trusted():
    assert weighted_agreement([("yes", 1.0), ("yes", 1.0), ("no", 1.0), ("maybe", 1.0)]) == 0.5  # the modal share
    assert weighted_agreement([("yes", 0.2), ("yes", 0.1), ("yes", 0.25)]) == pytest.approx(0.55 / 3)
    # The best-supported value wins, not the most frequent: one sure "no" beats two doubtful "yes".
    assert weighted_agreement([("yes", 0.1), ("yes", 0.1), ("no", 0.9)]) == pytest.approx(0.3)


def test_study_quality_formula():
    # 4 agents x 3 fields = 12 pairs, 9 usable; confidences mean (0.9*5 + 0.5*4) / 9 = 6.5/9;
    # agreement: field A (yes 0.9 x3, no 0.5) -> 2.7/4 = 0.675, field B (a 0.9, a 0.5, b 0.5) -> 1.4/3;
    # field C has one value and is not compared -> mean (0.675 + 0.4666667) / 2 = 0.5708333; 1 failed of 5 agents.
    # score = 0.8 * (0.45 * 0.75 + 0.45 * 0.7222222 + 0.10 * 0.5708333) = 0.5756667
    quality = study_quality(
        usable_pairs=9,
        total_pairs=12,
        confidences=[0.9] * 5 + [0.5] * 4,
        categorical_answers={
            "A": [("yes", 0.9), ("yes", 0.9), ("yes", 0.9), ("no", 0.5)],
            "B": [("a", 0.9), ("a", 0.5), ("b", 0.5)],
            "C": [("x", 0.9)],
        },
        failed_agents=1,
        total_agents=5,
    )
    assert quality.coverage == 0.75
    assert quality.confidence == pytest.approx(0.7222222, abs=1e-7)
    assert quality.agreement == pytest.approx(0.5708333, abs=1e-7)
    assert quality.failure_rate == 0.2
    assert quality.score == pytest.approx(0.5756667, abs=1e-7)
    assert [note.metric for note in quality.notes] == ["failure_rate", "confidence", "coverage", "agreement"]
    assert sum(note.score_lost for note in quality.notes) == pytest.approx(1 - quality.score)
    explanations = {note.metric: note.explanation for note in quality.notes}
    assert explanations["failure_rate"] == "1 of 5 participants failed"
    assert explanations["coverage"] == "3 of 12 answers (participant x field) have no usable value"
    assert explanations["confidence"] == "the usable values' mean confidence is 0.72"


def test_unanimous_answers_of_low_confidence_are_not_quality():
    """Three participants, three fields, every value given and every one agreeing, none trusted."""
    confidences = [0.1, 0.2, 0.25, 0.1, 0.15, 0.2, 0.25, 0.1, 0.2]
    answers = {
        "purchase_intent": [("maybe", 0.1), ("maybe", 0.2), ("maybe", 0.25)],
        "would_recommend": [("no", 0.1), ("no", 0.15), ("no", 0.2)],
    }
    quality = study_quality(
        usable_pairs=9,
        total_pairs=9,
        confidences=confidences,
        categorical_answers=answers,
        failed_agents=0,
        total_agents=3,
    )
    unweighted = 0.45 * 1 + 0.45 * quality.confidence + 0.10 * 1
    assert quality.agreement == pytest.approx(1.0 / 6)
    assert quality.score < unweighted - 0.08
    assert quality.score < 0.55
    [confidence, agreement] = quality.notes
    assert confidence.metric == "confidence" and confidence.score_lost == pytest.approx(0.45 * (1 - 1.55 / 9))
    assert confidence.explanation == "the usable values' mean confidence is 0.17; 9 of 9 are below 0.5"
    assert agreement.metric == "agreement"
    assert agreement.explanation == (
        "the participants agree on purchase_intent, would_recommend but with a mean "
        "confidence of 0.17; agreement weighed by confidence is 0.17"
    )
    message = quality.message()
    assert [(note.metric, note.explanation) for note in message.notes] == [
        (note.metric, note.explanation) for note in quality.notes
    ]
    assert message.agreement == quality.agreement and message.score == quality.score


def test_disagreement_is_named_in_the_note():
    answers = {"intent": [("yes", 1.0), ("no", 1.0)], "tone": [("calm", 1.0), ("calm", 1.0)]}
    quality = study_quality(
        usable_pairs=4,
        total_pairs=4,
        confidences=[1.0] * 4,
        categorical_answers=answers,
        failed_agents=0,
        total_agents=2,
    )
    [agreement] = quality.notes
    assert agreement.explanation == (
        "the participants agree on tone; they disagree on intent (share of the most "
        "frequent answer: intent 50%); agreement weighed by confidence is 0.75"
    )


def test_quality_of_nothing_is_zero_and_of_everything_is_one():
    empty = study_quality(
        usable_pairs=0, total_pairs=6, confidences=[], categorical_answers={}, failed_agents=0, total_agents=2
    )
    assert (empty.coverage, empty.confidence, empty.agreement) == (0.0, 0.0, 1.0)
    assert empty.score == pytest.approx(0.1)
    assert {note.metric: note.explanation for note in empty.notes}["confidence"] == (
        "no usable values, so nothing is supported by the transcript"
    )
    perfect = study_quality(
        usable_pairs=6,
        total_pairs=6,
        confidences=[1.0] * 6,
        categorical_answers={"f": [("a", 1.0), ("a", 1.0)]},
        failed_agents=0,
        total_agents=2,
    )
    assert perfect.score == pytest.approx(1.0) and perfect.notes == ()
    all_failed = study_quality(
        usable_pairs=0, total_pairs=0, confidences=[], categorical_answers={}, failed_agents=3, total_agents=3
    )
    assert all_failed.score == 0.0 and all_failed.failure_rate == 1.0
    assert [(note.metric, note.score_lost) for note in all_failed.notes] == [("failure_rate", 1.0)]


def test_values_that_repeat_the_hint_lower_the_score_with_their_own_note():
    # 3 agents x 2 fields; 4 usable, 2 repeated the hint: coverage 4/6; the hint echoes take their share of it
    quality = study_quality(
        usable_pairs=4,
        total_pairs=6,
        confidences=[1.0] * 4,
        categorical_answers={},
        failed_agents=0,
        total_agents=3,
        echoed_pairs=2,
    )
    assert quality.coverage == pytest.approx(4 / 6)
    assert quality.score == pytest.approx(0.45 * 4 / 6 + 0.45 + 0.10)
    by_metric = {note.metric: note for note in quality.notes}
    assert set(by_metric) == {"hint_echo"}
    assert by_metric["hint_echo"].score_lost == pytest.approx(0.45 * 2 / 6)
    assert by_metric["hint_echo"].explanation == (
        "2 of 6 answers (participant x field) only repeat the field's hint or the question, and count as missing"
    )
    assert sum(note.score_lost for note in quality.notes) == pytest.approx(1 - quality.score)
