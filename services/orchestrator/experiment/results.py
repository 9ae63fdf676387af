"""An experiment's comparisons: each extraction field across the arms (the experiment's, then each plan
step's as `{step}.{field}`), p-values adjusted across every field compared."""

from __future__ import annotations

from collections.abc import Sequence
from statistics import fmean, stdev

from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.common.hints import FieldSpec, ValueKind
from services.orchestrator.experiment.comparison import ALPHA, Comparison, compare_categories, compare_numbers, holm
from services.orchestrator.experiment.values import categories_of, category_counts, labels, numbers_by_participant

FieldComparison = orchestrator_pb2.FieldComparison


def compare_fields(
    specs: list[FieldSpec],
    arms: list[orchestrator_pb2.ArmResult],
    *,
    paired: bool,
    steps: Sequence[tuple[str, list[FieldSpec]]] = (),
) -> list[FieldComparison]:
    """One comparison per field, in the fields' order, then one per field of each step of the arms' plans
    (`steps`: each step's name and fields); Holm's adjustment runs over all the fields compared."""
    names = [arm.name for arm in arms]
    results = [arm.result for arm in arms]
    comparisons = [_compare(spec, spec.name, names, results, paired) for spec in specs]
    for step, fields in steps:
        of_step = [_step_result(result, step) for result in results]
        comparisons += [_compare(spec, f"{step}.{spec.name}", names, of_step, paired) for spec in fields]
    compared = [comparison for comparison in comparisons if not comparison.skipped_reason]
    for comparison, adjusted in zip(compared, holm([c.p_value for c in compared]), strict=True):
        comparison.p_value_adjusted = adjusted
        comparison.significant = adjusted < ALPHA
        comparison.sentence = _sentence(comparison)
    return comparisons


def _step_result(result: orchestrator_pb2.StudyResult, step: str) -> orchestrator_pb2.StudyResult:
    """A study result holding only the extracted results of the step named `step`."""
    found = next((results for results in result.step_results if results.step == step), None)
    return orchestrator_pb2.StudyResult(extracted_results=found.extracted_results if found else None)


def _compare(
    spec: FieldSpec, field: str, names: list[str], results: list[orchestrator_pb2.StudyResult], paired: bool
) -> FieldComparison:
    if spec.kind is ValueKind.NUMBER:
        by_arm = [numbers_by_participant(result, spec.name) for result in results]
        if paired:
            shared = sorted(set.intersection(*(set(values) for values in by_arm)))
            series = [[values[name] for name in shared] for values in by_arm]
        else:
            series = [list(values.values()) for values in by_arm]
        message = _message(field, compare_numbers(series, paired=paired))
        for name, values in zip(names, series, strict=True):
            message.arms.add(
                arm=name,
                count=len(values),
                mean=fmean(values) if values else 0.0,
                std_dev=stdev(values) if len(values) > 1 else 0.0,
            )
        return message
    if spec.kind in (ValueKind.CATEGORY, ValueKind.BOOLEAN):
        seen = [labels(result, spec.name) for result in results]
        categories = categories_of(spec, seen)
        message = _message(field, compare_categories([[arm.count(c) for c in categories] for arm in seen]))
        for name, arm_labels in zip(names, seen, strict=True):
            message.arms.add(arm=name, count=len(arm_labels), categories=category_counts(categories, arm_labels))
        return message
    return FieldComparison(field=field, skipped_reason=f"a {spec.kind.value} field has no test")


def _message(field: str, comparison: Comparison) -> FieldComparison:
    return FieldComparison(
        field=field,
        test=comparison.test,
        statistic=comparison.statistic,
        p_value=comparison.p_value,
        rank_test=comparison.rank_test,
        rank_statistic=comparison.rank_statistic,
        rank_p_value=comparison.rank_p_value,
        effect_size_name=comparison.effect_size_name,
        effect_size=comparison.effect_size,
        difference=comparison.difference,
        ci95_low=comparison.ci95_low,
        ci95_high=comparison.ci95_high,
        sample_size_per_arm_for_80_power=comparison.sample_size_per_arm,
        skipped_reason=comparison.skipped_reason,
    )


_EFFECT_SYMBOLS = {"hedges_g": "g", "cohens_dz": "d_z", "eta_squared": "η²", "kendalls_w": "W", "cramers_v": "V"}


def _p(value: float) -> str:
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


def _sentence(comparison: FieldComparison) -> str:
    evidence = (
        f"{_p(comparison.p_value_adjusted)} (adjusted), "
        f"{_EFFECT_SYMBOLS.get(comparison.effect_size_name, comparison.effect_size_name)} = "
        f"{comparison.effect_size:.2f}"
    )
    arms = list(comparison.arms)
    if arms and arms[0].categories:
        shares = "; ".join(
            f"{arm.arm}: " + ", ".join(f"{c.value} {c.share:.0%}" for c in arm.categories if c.count) for arm in arms
        )
        verdict = "differ" if comparison.significant else "do not differ significantly"
        return f"The answers to {comparison.field} {verdict} across arms ({shares}); {evidence}."
    if len(arms) == 2:
        first, second = arms
        if not comparison.significant:
            return (
                f"No significant difference in {comparison.field} between {first.arm} and {second.arm}: "
                f"{first.mean:.2f} vs {second.mean:.2f}, {evidence}."
            )
        higher, lower = (second, first) if second.mean > first.mean else (first, second)
        return (
            f"{higher.arm} scores higher than {lower.arm} on {comparison.field}: {higher.mean:.2f} vs "
            f"{lower.mean:.2f}, {evidence}."
        )
    means = ", ".join(f"{arm.arm} {arm.mean:.2f}" for arm in arms)
    if not comparison.significant:
        return f"No significant difference in {comparison.field} across arms ({means}); {evidence}."
    best = max(arms, key=lambda arm: arm.mean)
    return f"{comparison.field} differs across arms ({means}), highest in {best.arm}; {evidence}."
