"""Statistics of typed values across agents: numbers, categories and booleans, themes of lists and texts."""

from __future__ import annotations

from dataclasses import dataclass

from services.common.extracted_values import Value
from services.common.hints import FieldSpec, ValueKind
from services.engine.numbers import NumericSummary, summarise_numbers
from services.engine.themes import group_themes, split_sentences

CONFIDENCE_LEVEL = 0.95


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
