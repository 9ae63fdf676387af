"""Summaries of numbers: count, mean, median, sample standard deviation, range and the 95% CI of the mean."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


def t_quantile_975(degrees_of_freedom: int) -> float:
    """Student's t 97.5% quantile (two-sided 95%), from scipy."""
    if degrees_of_freedom < 1:
        raise ValueError("degrees of freedom must be at least 1")
    from scipy.stats import t  # imported on first use: it takes a while, and most processes never need it

    return float(t.ppf(0.975, degrees_of_freedom))


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


def summarise_numbers(values: Sequence[float]) -> NumericSummary:
    """The summary of `values` (at least one); the CI of the mean uses Student's t."""
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
