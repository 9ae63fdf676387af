"""From the extractor's raw answers to the contract's ExtractedResults: typed values, statistics, quality."""

from __future__ import annotations

import json
from collections.abc import Sequence
from statistics import fmean
from typing import Any

from tinytroupe_mesh_api.common.v1 import study_pb2

from services.common.hints import FieldSpec, ValueKind
from services.extraction.coercion import HINT_ECHO, Value, coerce
from services.extraction.extractor import RawResult
from services.extraction.output_model import FieldAnswer
from services.extraction.quality import grounded_confidence, study_quality
from services.extraction.statistics import CONFIDENCE_LEVEL, FieldSummary, boolean_label, summarise_field
from services.extraction.validation import ExtractionMode, ExtractionPlan

PROTO_KINDS = {
    ValueKind.NUMBER: study_pb2.VALUE_KIND_NUMBER,
    ValueKind.CATEGORY: study_pb2.VALUE_KIND_CATEGORY,
    ValueKind.LIST: study_pb2.VALUE_KIND_LIST,
    ValueKind.TEXT: study_pb2.VALUE_KIND_TEXT,
    ValueKind.BOOLEAN: study_pb2.VALUE_KIND_BOOLEAN,
}


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


def python_value(field_value: study_pb2.FieldValue) -> Value | None:
    """The typed value a FieldValue holds, or None."""
    which = field_value.WhichOneof("value")
    if which == "list_value":
        return list(field_value.list_value.values)
    return getattr(field_value, which) if which else None


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


def field_statistics(summary: FieldSummary) -> study_pb2.FieldStatistics:
    statistics = study_pb2.FieldStatistics(
        field=summary.spec.name,
        kind=PROTO_KINDS[summary.spec.kind],
        usable_count=summary.usable_count,
        total_count=summary.total_count,
    )
    if summary.numeric is not None:
        numbers = summary.numeric
        statistics.numeric.CopyFrom(
            study_pb2.NumericStatistics(
                count=numbers.count,
                mean=numbers.mean,
                median=numbers.median,
                std_dev=numbers.std_dev,
                min=numbers.minimum,
                max=numbers.maximum,
                ci95_low=numbers.ci95_low,
                ci95_high=numbers.ci95_high,
            )
        )
    for value, count in summary.counts:
        share = count / summary.usable_count if summary.usable_count else 0.0
        statistics.counts.append(study_pb2.CategoryCount(value=value, count=count, share=share))
    return statistics


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
    results = [agent_result(raw, plan.specs, questions) for raw in raws]
    values_by_field = {spec.name: [python_value(result.fields[spec.name]) for result in results] for spec in plan.specs}
    extracted = study_pb2.ExtractedResults(individual_results=results)
    if plan.statistics and len(results) > 1:
        extracted.aggregate_statistics.extend(
            field_statistics(summarise_field(spec, values_by_field[spec.name])) for spec in plan.specs
        )

    confidences = [
        value.confidence for result in results for value in result.fields.values() if value.WhichOneof("value")
    ]
    categorical = {
        spec.name: [
            (boolean_label(value) if isinstance(value, bool) else str(value), result.fields[spec.name].confidence)
            for result, value in zip(results, values_by_field[spec.name], strict=True)
            if value is not None
        ]
        for spec in plan.specs
        if spec.kind in (ValueKind.CATEGORY, ValueKind.BOOLEAN)
    }
    echoed = sum(value.problem.startswith(HINT_ECHO) for result in results for value in result.fields.values())
    quality = study_quality(
        usable_pairs=len(confidences),
        total_pairs=len(results) * len(plan.specs),
        confidences=confidences,
        categorical_answers=categorical,
        failed_agents=_failed_agent_count(plan, raws),
        total_agents=len(plan.agent_names) + len(plan.failed_agents),
        echoed_pairs=echoed,
    )
    extracted.statistical_analysis.CopyFrom(
        study_pb2.StatisticalAnalysis(
            sample_size=sum(1 for result in results if any(v.WhichOneof("value") for v in result.fields.values())),
            confidence_level=CONFIDENCE_LEVEL,
            confidence_score=quality.confidence,
            quality_metrics=quality.message(),
        )
    )
    return extracted
