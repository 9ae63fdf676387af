"""How far extracted values can be trusted: per value (is the evidence real?) and per study."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import fmean

from tinytroupe_mesh_api.common.v1 import study_pb2

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
class QualityNote:
    """One reason the score is below 1: the metric, how much of the score it took, what was found."""

    metric: str
    score_lost: float
    explanation: str


@dataclass(frozen=True)
class StudyQuality:
    score: float
    coverage: float
    confidence: float
    agreement: float
    failure_rate: float
    notes: tuple[QualityNote, ...] = ()
    """What lowered the score, the costliest first; their losses add up to 1 - score (less the negligible)."""

    def message(self) -> study_pb2.QualityMetrics:
        return study_pb2.QualityMetrics(
            score=self.score,
            coverage=self.coverage,
            confidence=self.confidence,
            agreement=self.agreement,
            failure_rate=self.failure_rate,
            notes=[
                study_pb2.QualityNote(metric=note.metric, score_lost=note.score_lost, explanation=note.explanation)
                for note in self.notes
            ],
        )


COVERAGE_WEIGHT = 0.45
CONFIDENCE_WEIGHT = 0.45
AGREEMENT_WEIGHT = 0.10
LOW_CONFIDENCE = 0.5
"""Values below this confidence are called low in the notes."""
NEGLIGIBLE_LOSS = 0.005
"""Losses smaller than this get no note."""

AnswersByField = Mapping[str, Sequence[tuple[str, float]]]
"""Categorical and yes/no answers by field: each usable value (as text) with its confidence."""


def modal_share(values: Sequence[str]) -> float:
    """Share of the most frequent value (1 when all agree; 1 for fewer than two values)."""
    if len(values) < 2:
        return 1.0
    return Counter(values).most_common(1)[0][1] / len(values)


def weighted_agreement(answers: Sequence[tuple[str, float]]) -> float:
    """The summed confidence of the best-supported value over the number of values, in [0, 1].

    Equals the modal share when every value has confidence 1, and the mean confidence when all agree:
    unanimous answers nobody is sure of agree little.
    """
    if not answers:
        return 1.0
    support: Counter[str] = Counter()
    for value, confidence in answers:
        support[value] += min(1.0, max(0.0, confidence))
    return max(support.values()) / len(answers)


def study_quality(
    *,
    usable_pairs: int,
    total_pairs: int,
    confidences: Sequence[float],
    categorical_answers: AnswersByField,
    failed_agents: int,
    total_agents: int,
    echoed_pairs: int = 0,
) -> StudyQuality:
    """The study's quality metrics, and notes on what lowered its score.

    - coverage = usable (agent, field) values / (agents extracted x fields)
    - confidence = mean grounded confidence of the usable values (0 when there are none)
    - agreement = mean over the categorical and yes/no fields with at least two values of their
      `weighted_agreement` (1 when there is no such field: nothing disagrees)
    - failure_rate = agents that failed (in the simulation or in extraction) / all agents
    - score = (1 - failure_rate) x (0.45 coverage + 0.45 confidence + 0.10 agreement)

    Agreement weighs little: agents disagreeing is often the finding, not a flaw of the extraction; and
    it counts only as far as the agreeing values are trusted.

    `echoed_pairs` of the values without a usable value only repeated the field's hint or the question:
    their share of the coverage loss gets its own note (metric `hint_echo`).
    """
    coverage = usable_pairs / total_pairs if total_pairs else 0.0
    confidence = fmean(confidences) if confidences else 0.0
    compared = {field: answers for field, answers in categorical_answers.items() if len(answers) >= 2}
    agreement = fmean(weighted_agreement(answers) for answers in compared.values()) if compared else 1.0
    failure_rate = failed_agents / total_agents if total_agents else 0.0
    echoed = min(max(echoed_pairs, 0), total_pairs - usable_pairs)
    echoed_share = echoed / total_pairs if total_pairs else 0.0
    kept = 1 - failure_rate
    score = kept * (COVERAGE_WEIGHT * coverage + CONFIDENCE_WEIGHT * confidence + AGREEMENT_WEIGHT * agreement)

    losses = {
        "failure_rate": (failure_rate, f"{failed_agents} of {total_agents} participants failed"),
        "coverage": (
            kept * COVERAGE_WEIGHT * (1 - coverage - echoed_share),
            f"{total_pairs - usable_pairs - echoed} of {total_pairs} answers (participant x field) "
            "have no usable value",
        ),
        "hint_echo": (
            kept * COVERAGE_WEIGHT * echoed_share,
            f"{echoed} of {total_pairs} answers (participant x field) only repeat the field's hint or "
            "the question, and count as missing",
        ),
        "confidence": (kept * CONFIDENCE_WEIGHT * (1 - confidence), _confidence_note(confidences)),
        "agreement": (kept * AGREEMENT_WEIGHT * (1 - agreement), _agreement_note(compared, agreement)),
    }
    notes = sorted(
        (
            QualityNote(metric, loss, explanation)
            for metric, (loss, explanation) in losses.items()
            if loss >= NEGLIGIBLE_LOSS
        ),
        key=lambda note: -note.score_lost,
    )
    return StudyQuality(
        score=score,
        coverage=coverage,
        confidence=confidence,
        agreement=agreement,
        failure_rate=failure_rate,
        notes=tuple(notes),
    )


def _confidence_note(confidences: Sequence[float]) -> str:
    if not confidences:
        return "no usable values, so nothing is supported by the transcript"
    low = sum(1 for confidence in confidences if confidence < LOW_CONFIDENCE)
    note = f"the usable values' mean confidence is {fmean(confidences):.2f}"
    if low:
        note += f"; {low} of {len(confidences)} are below {LOW_CONFIDENCE:.1f}"
    return note


def _agreement_note(compared: AnswersByField, agreement: float) -> str:
    unanimous = [field for field, answers in compared.items() if modal_share([v for v, _ in answers]) == 1.0]
    split = [field for field in compared if field not in unanimous]
    parts = []
    if unanimous:
        sure = fmean(confidence for field in unanimous for _, confidence in compared[field])
        parts.append(
            f"the participants agree on {', '.join(unanimous)} but with a mean confidence of {sure:.2f}"
            if sure < 1
            else f"the participants agree on {', '.join(unanimous)}"
        )
    if split:
        shares = ", ".join(f"{field} {modal_share([v for v, _ in compared[field]]):.0%}" for field in split)
        parts.append(f"they disagree on {', '.join(split)} (share of the most frequent answer: {shares})")
    return "; ".join(parts) + f"; agreement weighed by confidence is {agreement:.2f}"
