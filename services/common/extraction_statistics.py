"""Statistics and quality of a study's extracted results, computed once over all its agents' results.

The extraction service computes them over the results of one call; the orchestrator over the results
of a large study's extraction made in several calls (one per part of its agents).
"""

from __future__ import annotations

from collections.abc import Sequence

from tinytroupe_mesh_api.common.v1 import study_pb2

from services.common.extracted_values import HINT_ECHO, PROTO_KINDS, python_value
from services.common.extraction_quality import study_quality
from services.common.field_statistics import CONFIDENCE_LEVEL, FieldSummary, boolean_label, summarise_field
from services.common.hints import FieldSpec, ValueKind


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


def add_statistics(
    extracted: study_pb2.ExtractedResults,
    specs: Sequence[FieldSpec],
    *,
    statistics: bool,
    failed_agents: int,
    total_agents: int,
) -> None:
    """Sets the statistics of `extracted` from its individual results: each field's aggregate statistics
    when `statistics` is asked for and there are several results, and the statistical analysis with the
    quality metrics (`failed_agents` of `total_agents` failed, in the simulation or in extraction)."""
    results = list(extracted.individual_results)
    values_by_field = {spec.name: [python_value(result.fields[spec.name]) for result in results] for spec in specs}
    del extracted.aggregate_statistics[:]
    if statistics and len(results) > 1:
        extracted.aggregate_statistics.extend(
            field_statistics(summarise_field(spec, values_by_field[spec.name])) for spec in specs
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
        for spec in specs
        if spec.kind in (ValueKind.CATEGORY, ValueKind.BOOLEAN)
    }
    echoed = sum(value.problem.startswith(HINT_ECHO) for result in results for value in result.fields.values())
    quality = study_quality(
        usable_pairs=len(confidences),
        total_pairs=len(results) * len(specs),
        confidences=confidences,
        categorical_answers=categorical,
        failed_agents=failed_agents,
        total_agents=total_agents,
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
