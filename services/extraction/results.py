"""From the extractor's raw answers to the contract's ExtractedResults: typed values, statistics, quality."""

from __future__ import annotations

import json
from collections.abc import Sequence
from statistics import fmean
from typing import Any

from tinytroupe_mesh_api.common.v1 import study_pb2

from services.common.extracted_values import PROTO_KINDS, Value
from services.common.extraction_quality import grounded_confidence
from services.common.extraction_statistics import add_statistics
from services.common.hints import FieldSpec
from services.extraction.coercion import coerce
from services.extraction.extractor import RawResult
from services.extraction.output_model import FieldAnswer
from services.extraction.validation import ExtractionMode, ExtractionPlan


def _raw_text(raw: Any) -> str:
    return raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False)


def _set_value(field_value: study_pb2.FieldValue, value: Value) -> None:
    if isinstance(value, bool):
        field_value.bool_value = value
    elif isinstance(value, float | int):
        field_value.number_value = float(value)
    elif isinstance(value, list):
        field_value.list_value.values.extend(value)
    else:
        field_value.string_value = value


def field_value(
    spec: FieldSpec,
    answer: FieldAnswer | None,
    evidence_source: str,
    missing_reason: str = "",
    questions: Sequence[str] = (),
) -> study_pb2.FieldValue:
    """The typed, grounded value of one field, or no value and the problem (a value that only repeats
    the field's hint or one of `questions` is missing)."""
    kind = PROTO_KINDS[spec.kind]
    if answer is None:
        reason = missing_reason or "the extractor gave no answer for this field"
        return study_pb2.FieldValue(kind=kind, problem=f"missing: {reason}")
    raw = _raw_text(answer.value)
    coerced = coerce(spec, answer.value, questions)
    if not coerced.usable:
        return study_pb2.FieldValue(kind=kind, problem=coerced.problem, raw=raw)
    confidence, _ = grounded_confidence(answer.confidence, answer.evidence, evidence_source)
    result = study_pb2.FieldValue(kind=kind, confidence=confidence, raw=raw)
    _set_value(result, coerced.value)
    return result


def agent_result(raw: RawResult, specs: list[FieldSpec], questions: Sequence[str] = ()) -> study_pb2.AgentResult:
    result = study_pb2.AgentResult(agent_name=raw.agent_name)
    for spec in specs:
        result.fields[spec.name].CopyFrom(
            field_value(spec, raw.answers.get(spec.name), raw.evidence_source, raw.missing_reason, questions)
        )
    present = [value.confidence for value in result.fields.values() if value.WhichOneof("value")]
    result.confidence_score = fmean(present) if present else 0.0
    if raw.failed:
        result.failure_reason = raw.missing_reason
    return result


def questions_of(plan: ExtractionPlan) -> list[str]:
    """What was asked: the extraction's objective and the stimulus, the first thing in the transcript (a
    study plan's step begins with its question), distinct, in order. An interviewer's
    follow-ups quote the participant's own words, so they are not among them."""
    first_round = min((interaction.round for interaction in plan.transcript), default=0)
    asked = [
        plan.objective,
        *(
            interaction.content
            for interaction in plan.transcript
            if interaction.action == study_pb2.ACTION_TYPE_STIMULUS and interaction.round == first_round
        ),
    ]
    return list(dict.fromkeys(text for text in asked if text.strip()))


def _failed_agent_count(plan: ExtractionPlan, raws: list[RawResult]) -> int:
    if plan.mode is ExtractionMode.RAPPORTEUR:
        extraction_failures = len(plan.agent_names) if any(raw.failed for raw in raws) else 0
    else:
        extraction_failures = sum(raw.failed for raw in raws)
    return len(plan.failed_agents) + extraction_failures


def extracted_results(plan: ExtractionPlan, raws: list[RawResult]) -> study_pb2.ExtractedResults:
    """Individual results, statistics when asked for over several results, and the quality metrics."""
    questions = questions_of(plan)
    extracted = study_pb2.ExtractedResults(
        individual_results=[agent_result(raw, plan.specs, questions) for raw in raws]
    )
    add_statistics(
        extracted,
        plan.specs,
        statistics=plan.statistics,
        failed_agents=_failed_agent_count(plan, raws),
        total_agents=len(plan.agent_names) + len(plan.failed_agents),
    )
    return extracted
