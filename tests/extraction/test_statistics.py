"""Statistics checked against values worked out by hand."""

from __future__ import annotations

import pytest

from services.common.field_statistics import count_categories, summarise_field
from services.common.hints import parse_hint
from services.engine.numbers import summarise_numbers, t_quantile_975


def test_numbers_five_ratings():
    # 7 8 5 9 6: mean 35/5 = 7, median 7, squared deviations 0+1+4+4+1 = 10, variance 10/4 = 2.5,
    # s = 1.5811388; t(0.975, 4) = 2.776445; half width = 2.776445 * 1.5811388 / sqrt(5) = 1.9632431
    summary = summarise_numbers([7, 8, 5, 9, 6])
    assert summary.count == 5
    assert summary.mean == 7.0
    assert summary.median == 7.0
    assert summary.std_dev == pytest.approx(1.5811388, abs=1e-7)
    assert (summary.minimum, summary.maximum) == (5, 9)
    assert summary.ci95_low == pytest.approx(5.0367569, abs=1e-6)
    assert summary.ci95_high == pytest.approx(8.9632431, abs=1e-6)


def test_numbers_eight_values_with_an_even_median():
    # 2 4 4 4 5 5 7 9: mean 40/8 = 5, median (4+5)/2 = 4.5, squared deviations 9+1+1+1+0+0+4+16 = 32,
    # variance 32/7 = 4.5714286, s = 2.1380899; t(0.975, 7) = 2.364624;
    # half width = 2.364624 * 2.1380899 / sqrt(8) = 1.7874877
    summary = summarise_numbers([2, 4, 4, 4, 5, 5, 7, 9])
    assert (summary.mean, summary.median) == (5.0, 4.5)
    assert summary.std_dev == pytest.approx(2.1380899, abs=1e-7)
    assert summary.ci95_low == pytest.approx(3.2125123, abs=1e-6)
    assert summary.ci95_high == pytest.approx(6.7874877, abs=1e-6)


def test_a_single_number_has_no_spread():
    summary = summarise_numbers([0.4])
    assert (summary.count, summary.mean, summary.median, summary.std_dev) == (1, 0.4, 0.4, 0.0)
    assert (summary.ci95_low, summary.ci95_high) == (0.4, 0.4)


@pytest.mark.parametrize(
    ("degrees", "quantile"),
    [
        (1, 12.706205),
        (4, 2.776445),
        (30, 2.042272),
        (40, 2.021075),
        (120, 1.979930),
        (35, 2.030108),  # between table rows: interpolated in 1/df, within 1e-4 of the exact 2.030108
        (10_000, 1.960201),
    ],
)
def test_t_quantiles(degrees, quantile):
    assert t_quantile_975(degrees) == pytest.approx(quantile, abs=1e-4)


def test_categories_are_counted_with_shares_and_declared_categories_kept():
    spec = parse_hint("purchase_intent", "one of yes/no/maybe")
    summary = summarise_field(spec, ["yes", "maybe", None, "yes", "yes"])
    assert (summary.usable_count, summary.total_count) == (4, 5)
    assert summary.counts == [("yes", 3), ("maybe", 1), ("no", 0)]
    assert summary.numeric is None
    assert count_categories(["b", "a", "b"]) == [("b", 2), ("a", 1)]


def test_booleans_are_counted_as_yes_and_no():
    summary = summarise_field(parse_hint("would_buy", "yes/no"), [True, False, True, None])
    assert summary.counts == [("yes", 2), ("no", 1)]
    assert (summary.usable_count, summary.total_count) == (3, 4)


def test_a_number_field_skips_missing_values():
    summary = summarise_field(parse_hint("rating", "integer 1-10"), [7.0, None, 9.0])
    assert (summary.usable_count, summary.total_count) == (2, 3)
    assert summary.numeric.mean == 8.0
    assert summary.numeric.std_dev == pytest.approx(1.4142136, abs=1e-7)
    # t(0.975, 1) = 12.706205; half width = 12.706205 * 1.4142136 / sqrt(2) = 12.706205
    assert summary.numeric.ci95_low == pytest.approx(8.0 - 12.706205, abs=1e-6)


def test_lists_and_texts_give_themes():
    concerns = summarise_field(parse_hint("concerns", "list"), [["high price", "noise"], ["Price is too high"], None])
    assert concerns.counts[0] == ("high price", 2)
    assert ("noise", 1) in concerns.counts
    reasoning = summarise_field(
        parse_hint("reasoning", "text"), ["It is too expensive. I like the design.", "Too expensive!", "Nice design."]
    )
    assert reasoning.counts[0] == ("It is too expensive", 2)
    assert reasoning.usable_count == 3
