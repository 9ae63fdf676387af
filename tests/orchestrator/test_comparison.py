"""The experiment statistics against scipy on fixed data, and the power analyses against textbook values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from services.orchestrator.experiment.comparison import (
    anova_sample_size,
    chi_square_sample_size,
    compare_categories,
    compare_numbers,
    holm,
    paired_sample_size,
    two_sample_sample_size,
)

A = [5, 6, 4, 5, 7, 5, 6, 4, 5, 6]
B = [8, 7, 9, 8, 7, 9, 8, 8, 7, 9]
C = [6, 6, 5, 7, 6, 5, 6, 7, 6, 5]


def test_two_arms_run_welch_and_mann_whitney_as_scipy_does():
    compared = compare_numbers([A, B], paired=False)
    welch = stats.ttest_ind(B, A, equal_var=False)
    assert compared.test == "welch_t"
    assert compared.statistic == pytest.approx(welch.statistic)
    assert compared.p_value == pytest.approx(welch.pvalue)
    assert compared.rank_p_value == pytest.approx(stats.mannwhitneyu(B, A, alternative="two-sided").pvalue)
    assert compared.difference == pytest.approx(8.0 - 5.3)
    interval = welch.confidence_interval(0.95)
    assert (compared.ci95_low, compared.ci95_high) == pytest.approx((interval.low, interval.high))
    # Hedges' g: Cohen's d with the pooled standard deviation, corrected for small samples.
    pooled = ((9 * stats.tvar(A) + 9 * stats.tvar(B)) / 18) ** 0.5
    assert compared.effect_size == pytest.approx((8.0 - 5.3) / pooled * (1 - 3 / (4 * 20 - 9)))
    assert compared.sample_size_per_arm >= 2


def test_three_arms_run_anova_and_kruskal_wallis_with_eta_squared():
    compared = compare_numbers([A, B, C], paired=False)
    assert compared.test == "one_way_anova"
    assert compared.p_value == pytest.approx(stats.f_oneway(A, B, C).pvalue)
    assert compared.rank_p_value == pytest.approx(stats.kruskal(A, B, C).pvalue)
    assert 0 < compared.effect_size < 1


def test_paired_arms_run_the_paired_t_test_and_wilcoxon():
    compared = compare_numbers([A, B], paired=True)
    assert compared.test == "paired_t"
    assert compared.p_value == pytest.approx(stats.ttest_rel(B, A).pvalue)
    assert compared.rank_p_value == pytest.approx(stats.wilcoxon(B, A).pvalue)
    assert compared.effect_size_name == "cohens_dz"


def test_arms_that_answer_alike_show_no_difference():
    compared = compare_numbers([A, list(reversed(A))], paired=False)
    assert compared.p_value == pytest.approx(1.0)
    assert compared.sample_size_per_arm == 0


def test_categories_run_chi_square_with_cramers_v_or_fisher_when_counts_are_small():
    large = compare_categories([[30, 10], [12, 28]])
    chi2 = stats.chi2_contingency([[30, 10], [12, 28]], correction=False)
    assert large.test == "chi_square" and large.p_value == pytest.approx(chi2.pvalue)
    assert large.effect_size == pytest.approx((chi2.statistic / 80) ** 0.5)
    small = compare_categories([[5, 1], [1, 5]])
    assert small.test == "fisher_exact"
    assert small.p_value == pytest.approx(stats.fisher_exact([[5, 1], [1, 5]]).pvalue)


def test_fisher_beyond_two_by_two_gives_the_same_p_value_every_time():
    table = [[4, 1, 0], [0, 2, 4]]
    first, again = compare_categories(table), compare_categories(table)
    assert first.test == "fisher_exact" and first.p_value == again.p_value
    seeded = stats.MonteCarloMethod(n_resamples=9999, rng=np.random.default_rng(0))
    assert first.p_value == pytest.approx(stats.fisher_exact(table, method=seeded).pvalue)


def test_a_statistic_scipy_gives_as_a_one_element_array_is_read_as_a_number():
    # scipy answers this 3x2 table's statistic as array([0.333]): three arms, one answer each.
    compared = compare_categories([[0, 1], [0, 1], [1, 0]])
    assert compared.test == "fisher_exact" and compared.statistic == pytest.approx(1 / 3)


def test_one_category_everywhere_is_not_compared():
    assert compare_categories([[4, 0], [6, 0]]).skipped_reason


def test_power_analyses_match_the_textbook_values():
    assert two_sample_sample_size(0.5) == 64  # Cohen's medium effect, two-sided, alpha 0.05, power 0.8
    assert paired_sample_size(0.5) == 34
    assert anova_sample_size(0.0588235, 3) == 53  # f = 0.25, three groups
    assert chi_square_sample_size(0.3, 1, 2) == 44  # N = 88 in all


def test_holm_adjusts_in_step_down_order():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
