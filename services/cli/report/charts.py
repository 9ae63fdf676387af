"""Chart.js configurations of a report's charts, as JSON-ready dicts (the page draws them with `new Chart`).

Every chart is drawn at once, without animation, so that a page printed or captured right after it loads
shows them whole.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

ARM_COLOURS = ("#3b6ea5", "#e0803a", "#4f9a5b", "#c2474f", "#7a5ea8", "#2a9d9a", "#b5893b", "#8c8c8c")
"""One colour per arm, the same in every chart of a report."""
CATEGORY_COLOURS = ("#264653", "#2a9d8f", "#e9c46a", "#f4a261", "#e76f51", "#8d99ae", "#6d597a", "#b5838d")
"""Colours of a field's categories, in the field's order of categories."""
MAX_EXACT_VALUES = 21
"""Integer fields spanning at most this many values are counted value by value; others in bins."""
MAX_BINS = 10


@dataclass(frozen=True)
class NumberRange:
    """What the field's hint says of its numbers: integers, and their bounds where it gives them."""

    integer: bool = False
    minimum: float | None = None
    maximum: float | None = None


def arm_colour(index: int) -> str:
    return ARM_COLOURS[index % len(ARM_COLOURS)]


def _translucent(colour: str, alpha: float = 0.35) -> str:
    red, green, blue = (int(colour[index : index + 2], 16) for index in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def _options(
    *,
    x_title: str = "",
    y_title: str = "",
    stacked: bool = False,
    horizontal: bool = False,
    percent_axis: str = "",
    legend: bool = True,
) -> dict:
    scales = {
        "x": {"title": {"display": bool(x_title), "text": x_title}, "stacked": stacked},
        "y": {"title": {"display": bool(y_title), "text": y_title}, "stacked": stacked, "beginAtZero": True},
    }
    if percent_axis:
        scales[percent_axis].update({"min": 0, "max": 100, "ticks": {"stepSize": 25}})
    return {
        "animation": False,
        "responsive": True,
        "maintainAspectRatio": False,
        "indexAxis": "y" if horizontal else "x",
        "plugins": {"legend": {"display": legend, "position": "bottom"}},
        "scales": scales,
    }


def value_bins(values: Sequence[float], number_range: NumberRange) -> tuple[list[str], list[float]]:
    """Labels of the distribution's bars and the bins' edges: one bar per value for integers over a short
    span (the hint's bounds included, so that empty ends show), else at most MAX_BINS bins of equal width."""
    low = min([*values, *([number_range.minimum] if number_range.minimum is not None else [])], default=0.0)
    high = max([*values, *([number_range.maximum] if number_range.maximum is not None else [])], default=0.0)
    integers = number_range.integer or all(float(value).is_integer() for value in values)
    if integers and high - low + 1 <= MAX_EXACT_VALUES:
        first, last = math.floor(low), math.ceil(high)
        labels = [str(value) for value in range(first, last + 1)]
        return labels, [value - 0.5 for value in range(first, last + 2)]
    if high == low:
        return [f"{low:g}"], [low - 0.5, high + 0.5]
    width = _round_width((high - low) / MAX_BINS)
    start = math.floor(low / width) * width
    edges = [start]
    while edges[-1] < high:
        edges.append(round(start + len(edges) * width, 10))
    labels = [f"{edges[index]:g}–{edges[index + 1]:g}" for index in range(len(edges) - 1)]
    return labels, edges


def _round_width(smallest: float) -> float:
    """The first round width (1, 2, 2.5 or 5 times a power of ten) at least `smallest`."""
    magnitude = 10 ** math.floor(math.log10(smallest))
    return next(step * magnitude for step in (1, 2, 2.5, 5, 10) if step * magnitude >= smallest)


def _counts(values: Sequence[float], edges: list[float]) -> list[int]:
    counts, _ = np.histogram(np.asarray(values, dtype=float), bins=np.asarray(edges))
    return [int(count) for count in counts]


def distribution_chart(series: Sequence[tuple[str, Sequence[float]]], number_range: NumberRange, field: str) -> dict:
    """How many participants gave each value (or fell in each bin), one bar colour per arm."""
    everything = [value for _, values in series for value in values]
    labels, edges = value_bins(everything, number_range)
    datasets = [
        {
            "label": name,
            "data": _counts(values, edges),
            "backgroundColor": arm_colour(index),
            "borderColor": arm_colour(index),
            "borderWidth": 1,
        }
        for index, (name, values) in enumerate(series)
    ]
    options = _options(x_title=field, y_title="participants", legend=len(series) > 1)
    options["scales"]["y"]["ticks"] = {"precision": 0}
    return {"type": "bar", "data": {"labels": labels, "datasets": datasets}, "options": options}


def mean_interval(values: Sequence[float]) -> tuple[float, float, float] | None:
    """Mean and its 95 % confidence interval (Student's t); None without values."""
    if not values:
        return None
    array = np.asarray(values, dtype=float)
    mean = float(array.mean())
    if len(array) < 2:
        return mean, mean, mean
    half = float(stats.t.ppf(0.975, len(array) - 1) * array.std(ddof=1) / math.sqrt(len(array)))
    return mean, mean - half, mean + half


def means_chart(
    intervals: Sequence[tuple[str, tuple[float, float, float] | None]],
    field: str,
    number_range: NumberRange = NumberRange(),
) -> dict:
    """Each arm's mean (a point) with its 95 % confidence interval (a bar from its low to its high end); the
    axis keeps to the bounds the field's hint gives (an interval past them is cut there)."""
    names = [name for name, _ in intervals]
    ranges = [[round(found[1], 4), round(found[2], 4)] if found else None for _, found in intervals]
    means = [round(found[0], 4) if found else None for _, found in intervals]
    colours = [arm_colour(index) for index in range(len(intervals))]
    return {
        "type": "bar",
        "data": {
            "labels": names,
            "datasets": [
                {
                    "type": "line",
                    "label": "mean",
                    "data": means,
                    "showLine": False,
                    "pointRadius": 6,
                    "pointHoverRadius": 7,
                    "pointStyle": "rectRot",
                    "backgroundColor": "#222",
                    "borderColor": "#222",
                    "order": 0,
                },
                {
                    "label": "95 % confidence interval",
                    "data": ranges,
                    "backgroundColor": [_translucent(colour) for colour in colours],
                    "borderColor": colours,
                    "borderWidth": 1,
                    "barPercentage": 0.35,
                    "order": 1,
                },
            ],
        },
        "options": {
            **_options(y_title=field),
            "scales": {
                "x": {"title": {"display": False}},
                "y": {
                    "title": {"display": True, "text": f"mean {field}"},
                    "beginAtZero": False,
                    "grace": "10%",
                    **({"min": number_range.minimum} if number_range.minimum is not None else {}),
                    **({"max": number_range.maximum} if number_range.maximum is not None else {}),
                },
            },
        },
    }


def shares_chart(rows: Sequence[tuple[str, Sequence[tuple[str, int, float]]]], categories: Sequence[str]) -> dict:
    """Each arm's answers as one bar of 100 %, split by category (counts in the tooltips' data)."""
    datasets = []
    for index, category in enumerate(categories):
        shares = []
        for _, counts in rows:
            share = next((share for value, _, share in counts if value == category), 0.0)
            shares.append(round(100 * share, 2))
        datasets.append(
            {"label": category, "data": shares, "backgroundColor": CATEGORY_COLOURS[index % len(CATEGORY_COLOURS)]}
        )
    options = _options(x_title="share of the arm's answers (%)", stacked=True, horizontal=True, percent_axis="x")
    return {"type": "bar", "data": {"labels": [name for name, _ in rows], "datasets": datasets}, "options": options}


def category_chart(counts: Sequence[tuple[str, int, float]], title: str) -> dict:
    """A study's answers per category: one bar each, as shares."""
    labels = [value for value, _, _ in counts]
    data = [round(100 * share, 2) for _, _, share in counts]
    colours = [CATEGORY_COLOURS[index % len(CATEGORY_COLOURS)] for index in range(len(labels))]
    options = _options(y_title=title, percent_axis="y", legend=False)
    return {
        "type": "bar",
        "data": {"labels": labels, "datasets": [{"label": "share (%)", "data": data, "backgroundColor": colours}]},
        "options": options,
    }
