"""Per-value confidence checks the evidence against the transcript; the study score follows its formula."""

from __future__ import annotations

import pytest

from services.extraction.quality import evidence_support, grounded_confidence, modal_share, study_quality

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


def test_study_quality_formula():
    # 4 agents x 3 fields = 12 pairs, 9 usable; confidences mean (0.9*5 + 0.5*4) / 9 = 6.5/9;
    # agreement: field A modal share 3/4, field B 2/3 -> mean 0.7083333; 1 failed of 5 agents.
    # score = 0.8 * (0.45 * 0.75 + 0.45 * 0.7222222 + 0.10 * 0.7083333) = 0.5866667
    quality = study_quality(usable_pairs=9, total_pairs=12, confidences=[0.9] * 5 + [0.5] * 4,
                            categorical_values=[["yes", "yes", "yes", "no"], ["a", "a", "b"]],
                            failed_agents=1, total_agents=5)
    assert quality.coverage == 0.75
    assert quality.confidence == pytest.approx(0.7222222, abs=1e-7)
    assert quality.agreement == pytest.approx(0.7083333, abs=1e-7)
    assert quality.failure_rate == 0.2
    assert quality.score == pytest.approx(0.5866667, abs=1e-7)


def test_quality_of_nothing_is_zero_and_of_everything_is_one():
    empty = study_quality(usable_pairs=0, total_pairs=6, confidences=[], categorical_values=[],
                          failed_agents=0, total_agents=2)
    assert (empty.coverage, empty.confidence, empty.agreement) == (0.0, 0.0, 1.0)
    assert empty.score == pytest.approx(0.1)
    perfect = study_quality(usable_pairs=6, total_pairs=6, confidences=[1.0] * 6, categorical_values=[["a", "a"]],
                            failed_agents=0, total_agents=2)
    assert perfect.score == pytest.approx(1.0)
    all_failed = study_quality(usable_pairs=0, total_pairs=0, confidences=[], categorical_values=[],
                               failed_agents=3, total_agents=3)
    assert all_failed.score == 0.0 and all_failed.failure_rate == 1.0
