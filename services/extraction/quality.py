"""How far extracted values can be trusted: per value (is the evidence real?) and per study."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from statistics import fmean

_TOKEN = re.compile(r"[a-z0-9]+")

SUPPORT_THRESHOLD = 0.8
"""Share of the evidence's words that must appear in the agent's words for the quote to count."""
UNSUPPORTED_FACTOR = 0.5
"""An unsupported value keeps this share of the model's confidence."""
DEFAULT_MODEL_CONFIDENCE = 0.5
"""The model's confidence where it gave none."""


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def evidence_support(evidence: str, source: str) -> float:
    """How well a quote is found in `source`, in [0, 1].

    1 when the quote, normalised (lower case, words only), is a substring of the normalised source;
    otherwise the share of the quote's words (with multiplicity) found among the source's words, so
    a lightly paraphrased or re-punctuated quote still scores high and an invented one low.
    """
    quote = _tokens(evidence)
    if not quote:
        return 0.0
    words = _tokens(source)
    if f" {' '.join(quote)} " in f" {' '.join(words)} ":
        return 1.0
    available = Counter(words)
    found = 0
    for word in quote:
        if available[word] > 0:
            available[word] -= 1
            found += 1
    return found / len(quote)


def grounded_confidence(model_confidence: float | None, evidence: str, source: str) -> tuple[float, bool]:
    """The value's confidence: the model's own, halved when its evidence is not in `source`.

    Returns the confidence and whether the evidence was supported.
    """
    confidence = DEFAULT_MODEL_CONFIDENCE if model_confidence is None else min(1.0, max(0.0, model_confidence))
    supported = evidence_support(evidence, source) >= SUPPORT_THRESHOLD
    return (confidence if supported else confidence * UNSUPPORTED_FACTOR), supported


@dataclass(frozen=True)
class StudyQuality:
    score: float
    coverage: float
    confidence: float
    agreement: float
    failure_rate: float


COVERAGE_WEIGHT = 0.45
CONFIDENCE_WEIGHT = 0.45
AGREEMENT_WEIGHT = 0.10


def modal_share(values: list[str]) -> float:
    """Share of the most frequent value (1 when all agree; 1 for fewer than two values)."""
    if len(values) < 2:
        return 1.0
    return Counter(values).most_common(1)[0][1] / len(values)


def study_quality(*, usable_pairs: int, total_pairs: int, confidences: list[float],
                  categorical_values: list[list[str]], failed_agents: int, total_agents: int) -> StudyQuality:
    """The study's quality metrics.

    - coverage = usable (agent, field) values / (agents extracted x fields)
    - confidence = mean grounded confidence of the usable values (0 when there are none)
    - agreement = mean over categorical and yes/no fields of the share of the most frequent value
      (1 when there is no such field: nothing disagrees)
    - failure_rate = agents that failed (in the simulation or in extraction) / all agents
    - score = (1 - failure_rate) x (0.45 coverage + 0.45 confidence + 0.10 agreement)

    Agreement weighs little: agents disagreeing is often the finding, not a flaw of the extraction.
    """
    coverage = usable_pairs / total_pairs if total_pairs else 0.0
    confidence = fmean(confidences) if confidences else 0.0
    agreement = fmean(modal_share(values) for values in categorical_values) if categorical_values else 1.0
    failure_rate = failed_agents / total_agents if total_agents else 0.0
    score = (1 - failure_rate) * (
        COVERAGE_WEIGHT * coverage + CONFIDENCE_WEIGHT * confidence + AGREEMENT_WEIGHT * agreement)
    return StudyQuality(score=score, coverage=coverage, confidence=confidence, agreement=agreement,
                        failure_rate=failure_rate)
