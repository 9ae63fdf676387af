"""Statistics of one field across an experiment's arms, with scipy.stats (no hand-written distributions).

Numbers: Welch's t-test and Mann-Whitney U for two arms, one-way ANOVA and Kruskal-Wallis for more;
within subjects the paired t-test and Wilcoxon, or Friedman for more than two arms. Effect sizes are
Hedges' g (Cohen's d_z when paired), eta squared or Kendall's W. Categories: the chi-square test of
independence with Cramér's V, or Fisher's exact test when an expected count is under 5. Every test
answers the sample size per arm that 80 % power needs for the observed effect, and a sentence.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

ALPHA = 0.05
POWER = 0.8
MAX_SAMPLE_SIZE = 100_000
FISHER_RESAMPLES = 9999
FISHER_SEED = 0


@dataclass
class Comparison:
    """What FieldComparison carries, before it becomes a message."""

    test: str = ""
    statistic: float = 0.0
    p_value: float = 1.0
    rank_test: str = ""
    rank_statistic: float = 0.0
    rank_p_value: float = 1.0
    effect_size_name: str = ""
    effect_size: float = 0.0
    difference: float = 0.0
    ci95_low: float = 0.0
    ci95_high: float = 0.0
    sample_size_per_arm: int = 0
    skipped_reason: str = ""


def _finite(value: float | np.ndarray | None) -> float:
    """A statistic as a float, 0 when it is missing or not finite (scipy may give a one-element array)."""
    if value is None:
        return 0.0
    array = np.asarray(value, dtype=float)
    if array.size != 1:
        return 0.0
    number = float(array.reshape(()))
    return number if math.isfinite(number) else 0.0


def _hedges_g(first: np.ndarray, second: np.ndarray) -> float:
    n1, n2 = len(first), len(second)
    pooled = math.sqrt(((n1 - 1) * first.var(ddof=1) + (n2 - 1) * second.var(ddof=1)) / (n1 + n2 - 2))
    if pooled == 0:
        return 0.0
    d = (second.mean() - first.mean()) / pooled
    return d * (1 - 3 / (4 * (n1 + n2) - 9))


def _smallest_n(power_of: Callable[[int], float], start: int = 2) -> int:
    """The smallest n >= start whose power reaches POWER (0 when not even MAX_SAMPLE_SIZE does): doubling
    until the power is reached, then halving the interval."""
    high = start
    while not power_of(high) >= POWER:  # also false for NaN
        if high >= MAX_SAMPLE_SIZE:
            return 0
        high = min(high * 2, MAX_SAMPLE_SIZE)
    low = max(start, high // 2)
    while low < high:
        middle = (low + high) // 2
        if power_of(middle) >= POWER:
            high = middle
        else:
            low = middle + 1
    return low


def two_sample_sample_size(effect: float) -> int:
    """Per-arm n for a two-sided two-sample t-test to detect `effect` (Cohen's d) with 80 % power."""
    if not effect or not math.isfinite(effect):
        return 0

    def power(n: int) -> float:
        df = 2 * n - 2
        critical = stats.t.ppf(1 - ALPHA / 2, df)
        shift = abs(effect) * math.sqrt(n / 2)
        return stats.nct.sf(critical, df, shift) + stats.nct.cdf(-critical, df, shift)

    return _smallest_n(power)


def paired_sample_size(effect: float) -> int:
    """Participants for a two-sided paired t-test to detect `effect` (d_z) with 80 % power."""
    if not effect or not math.isfinite(effect):
        return 0

    def power(n: int) -> float:
        df = n - 1
        critical = stats.t.ppf(1 - ALPHA / 2, df)
        shift = abs(effect) * math.sqrt(n)
        return stats.nct.sf(critical, df, shift) + stats.nct.cdf(-critical, df, shift)

    return _smallest_n(power)


def anova_sample_size(eta_squared: float, groups: int) -> int:
    """Per-arm n for a one-way ANOVA of `groups` arms to detect `eta_squared` with 80 % power."""
    if not 0 < eta_squared < 1:
        return 0
    f_squared = eta_squared / (1 - eta_squared)

    def power(n: int) -> float:
        df1, df2 = groups - 1, groups * (n - 1)
        critical = stats.f.ppf(1 - ALPHA, df1, df2)
        return stats.ncf.sf(critical, df1, df2, f_squared * groups * n)

    return _smallest_n(power)


def chi_square_sample_size(w: float, df: int, groups: int) -> int:
    """Per-arm n for a chi-square test with `df` degrees of freedom to detect Cohen's `w` at 80 % power."""
    if not w or df < 1:
        return 0

    def power(n: int) -> float:
        total = n * groups
        return stats.ncx2.sf(stats.chi2.ppf(1 - ALPHA, df), df, w * w * total)

    return _smallest_n(power, start=1)


def compare_numbers(values: Sequence[Sequence[float]], *, paired: bool) -> Comparison:
    """Numbers of each arm (paired: the same participants, in the same order, in every arm)."""
    arms = [np.asarray(arm, dtype=float) for arm in values]
    if any(len(arm) < 2 for arm in arms):
        return Comparison(skipped_reason="fewer than two values in an arm")
    if paired:
        return _compare_paired(arms)
    if all(arm.std() == 0 for arm in arms):
        return Comparison(skipped_reason="every arm's values are all the same: nothing varies to test")
    if len(arms) == 2:
        first, second = arms
        welch = stats.ttest_ind(second, first, equal_var=False)
        ranks = stats.mannwhitneyu(second, first, alternative="two-sided")
        interval = welch.confidence_interval(0.95)
        effect = _hedges_g(first, second)
        return Comparison(
            test="welch_t",
            statistic=_finite(welch.statistic),
            p_value=_finite(welch.pvalue) or 1.0,
            rank_test="mann_whitney_u",
            rank_statistic=_finite(ranks.statistic),
            rank_p_value=_finite(ranks.pvalue),
            effect_size_name="hedges_g",
            effect_size=_finite(effect),
            difference=float(second.mean() - first.mean()),
            ci95_low=_finite(interval.low),
            ci95_high=_finite(interval.high),
            sample_size_per_arm=two_sample_sample_size(effect),
        )
    anova = stats.f_oneway(*arms)
    kruskal = stats.kruskal(*arms) if len({value for arm in arms for value in arm}) > 1 else None
    everything = np.concatenate(arms)
    total = ((everything - everything.mean()) ** 2).sum()
    between = sum(len(arm) * (arm.mean() - everything.mean()) ** 2 for arm in arms)
    eta_squared = between / total if total else 0.0
    return Comparison(
        test="one_way_anova",
        statistic=_finite(anova.statistic),
        p_value=_finite(anova.pvalue) or 1.0,
        rank_test="kruskal_wallis",
        rank_statistic=_finite(kruskal.statistic) if kruskal else 0.0,
        rank_p_value=_finite(kruskal.pvalue) if kruskal else 1.0,
        effect_size_name="eta_squared",
        effect_size=float(eta_squared),
        sample_size_per_arm=anova_sample_size(eta_squared, len(arms)),
    )


def _compare_paired(arms: list[np.ndarray]) -> Comparison:
    if len({len(arm) for arm in arms}) != 1:
        return Comparison(skipped_reason="paired arms hold different participants")
    if len(arms) == 2:
        first, second = arms
        differences = second - first
        if differences.std() == 0:
            return Comparison(
                skipped_reason="every participant's difference between the arms is the same: nothing varies to test"
            )
        paired = stats.ttest_rel(second, first)
        interval = paired.confidence_interval(0.95)
        wilcoxon = stats.wilcoxon(second, first)
        spread = differences.std(ddof=1)
        effect = differences.mean() / spread if spread else 0.0
        return Comparison(
            test="paired_t",
            statistic=_finite(paired.statistic),
            p_value=_finite(paired.pvalue) or 1.0,
            rank_test="wilcoxon",
            rank_statistic=_finite(wilcoxon.statistic),
            rank_p_value=_finite(wilcoxon.pvalue),
            effect_size_name="cohens_dz",
            effect_size=_finite(effect),
            difference=float(differences.mean()),
            ci95_low=_finite(interval.low),
            ci95_high=_finite(interval.high),
            sample_size_per_arm=paired_sample_size(effect),
        )
    friedman = stats.friedmanchisquare(*arms)
    participants, groups = len(arms[0]), len(arms)
    kendalls_w = _finite(friedman.statistic) / (participants * (groups - 1))
    return Comparison(
        test="friedman",
        statistic=_finite(friedman.statistic),
        p_value=_finite(friedman.pvalue) or 1.0,
        effect_size_name="kendalls_w",
        effect_size=kendalls_w,
    )


def compare_categories(counts: Sequence[Sequence[int]]) -> Comparison:
    """Counts per category (columns) of each arm (rows)."""
    table = np.asarray(counts, dtype=int)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return Comparison(
            test="chi_square", effect_size_name="cramers_v", skipped_reason="every value is the same category"
        )
    if (table.sum(axis=1) == 0).any():
        return Comparison(skipped_reason="an arm has no values")
    chi2 = stats.chi2_contingency(table, correction=False)
    total = table.sum()
    smaller_side = min(table.shape) - 1
    cramers_v = math.sqrt(chi2.statistic / (total * smaller_side)) if smaller_side else 0.0
    w = math.sqrt(chi2.statistic / total)
    sample_size = chi_square_sample_size(w, int(chi2.dof), table.shape[0])
    if (chi2.expected_freq < 5).any():
        fisher = stats.fisher_exact(table, method=_fisher_method(table))
        return Comparison(
            test="fisher_exact",
            statistic=_finite(fisher.statistic),
            p_value=_finite(fisher.pvalue) or 1.0,
            effect_size_name="cramers_v",
            effect_size=cramers_v,
            sample_size_per_arm=sample_size,
        )
    return Comparison(
        test="chi_square",
        statistic=float(chi2.statistic),
        p_value=float(chi2.pvalue),
        effect_size_name="cramers_v",
        effect_size=cramers_v,
        sample_size_per_arm=sample_size,
    )


def _fisher_method(table: np.ndarray) -> stats.MonteCarloMethod | None:
    """Beyond 2x2 tables scipy's Fisher test draws random tables: seeded, so the same counts always give the
    same p-value (a replayed experiment reports what it reported)."""
    if table.shape == (2, 2):
        return None
    return stats.MonteCarloMethod(n_resamples=FISHER_RESAMPLES, rng=np.random.default_rng(FISHER_SEED))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment of p-values (family-wise error), in the given order."""
    order = sorted(range(len(p_values)), key=lambda index: p_values[index])
    adjusted = [0.0] * len(p_values)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted
