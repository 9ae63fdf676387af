"""Statistics of typed values across agents: numbers, categories and booleans, themes of lists and texts."""

from __future__ import annotations

import math
import statistics
from bisect import bisect_left
from dataclasses import dataclass

from services.common.hints import FieldSpec, ValueKind
from services.extraction.coercion import Value
from services.extraction.themes import group_themes, split_sentences

CONFIDENCE_LEVEL = 0.95

_T_975: dict[int, float] = {
    1: 12.706205,
    2: 4.302653,
    3: 3.182446,
    4: 2.776445,
    5: 2.570582,
    6: 2.446912,
    7: 2.364624,
    8: 2.306004,
    9: 2.262157,
    10: 2.228139,
    11: 2.200985,
    12: 2.178813,
    13: 2.160369,
    14: 2.144787,
    15: 2.131450,
    16: 2.119905,
    17: 2.109816,
    18: 2.100922,
    19: 2.093024,
    20: 2.085963,
    21: 2.079614,
    22: 2.073873,
    23: 2.068658,
    24: 2.063899,
    25: 2.059539,
    26: 2.055529,
    27: 2.051831,
    28: 2.048407,
    29: 2.045230,
    30: 2.042272,
    40: 2.021075,
    50: 2.008559,
    60: 2.000298,
    80: 1.990063,
    100: 1.983972,
    120: 1.979930,
}
"""97.5% quantiles of Student's t by degrees of freedom (two-sided 95%)."""
_Z_975 = 1.959964
_T_DEGREES = sorted(_T_975)


def t_quantile_975(degrees_of_freedom: int) -> float:
    """Student's t 97.5% quantile: exact from the table, interpolated in 1/df between its rows."""
    if degrees_of_freedom < 1:
        raise ValueError("degrees of freedom must be at least 1")
    if degrees_of_freedom in _T_975:
        return _T_975[degrees_of_freedom]
    upper_index = bisect_left(_T_DEGREES, degrees_of_freedom)
    low_df = _T_DEGREES[upper_index - 1]
    if upper_index == len(_T_DEGREES):
        high_df, high_t, high_inverse = math.inf, _Z_975, 0.0
    else:
        high_df = _T_DEGREES[upper_index]
        high_t, high_inverse = _T_975[high_df], 1 / high_df
    low_t, low_inverse = _T_975[low_df], 1 / low_df
    weight = (1 / degrees_of_freedom - high_inverse) / (low_inverse - high_inverse)
    return high_t + weight * (low_t - high_t)


@dataclass(frozen=True)
class NumericSummary:
    count: int
    mean: float
    median: float
    std_dev: float
    minimum: float
    maximum: float
    ci95_low: float
    ci95_high: float


def summarise_numbers(values: list[float]) -> NumericSummary:
    """Count, mean, median, sample standard deviation, range and the 95% CI of the mean (Student's t)."""
    if not values:
        raise ValueError("no values")
    mean = statistics.fmean(values)
    if len(values) > 1:
        std_dev = statistics.stdev(values)
        half_width = t_quantile_975(len(values) - 1) * std_dev / math.sqrt(len(values))
    else:
        std_dev = half_width = 0.0
    return NumericSummary(
        count=len(values),
        mean=mean,
        median=statistics.median(values),
        std_dev=std_dev,
        minimum=min(values),
        maximum=max(values),
        ci95_low=mean - half_width,
        ci95_high=mean + half_width,
    )


def count_categories(values: list[str], categories: tuple[str, ...] = ()) -> list[tuple[str, int]]:
    """Each value's count, most frequent first; declared categories nobody gave are listed with 0."""
    counts = {category: 0 for category in categories}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    order = {value: index for index, value in enumerate(counts)}
    return sorted(counts.items(), key=lambda item: (-item[1], order[item[0]]))


def boolean_label(value: bool) -> str:
    return "yes" if value else "no"


@dataclass(frozen=True)
class FieldSummary:
    """Statistics of one field: numbers summarised, or (value, count) pairs with their denominator."""

    spec: FieldSpec
    usable_count: int
    total_count: int
    numeric: NumericSummary | None
    counts: list[tuple[str, int]]


def summarise_field(spec: FieldSpec, values: list[Value | None]) -> FieldSummary:
    """Statistics of one field over all agents' values (None where an agent gave no usable value)."""
    usable = [value for value in values if value is not None]
    numeric, counts = None, []
    if spec.kind is ValueKind.NUMBER and usable:
        numeric = summarise_numbers([float(value) for value in usable])
    elif spec.kind is ValueKind.CATEGORY:
        counts = count_categories([str(value) for value in usable], spec.categories)
    elif spec.kind is ValueKind.BOOLEAN:
        counts = count_categories([boolean_label(bool(value)) for value in usable], ("yes", "no"))
    elif spec.kind is ValueKind.LIST:
        counts = group_themes([list(value) for value in usable])
    elif spec.kind is ValueKind.TEXT:
        counts = group_themes([split_sentences(str(value)) for value in usable])
    return FieldSummary(spec=spec, usable_count=len(usable), total_count=len(values), numeric=numeric, counts=counts)
