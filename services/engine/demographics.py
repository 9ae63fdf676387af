"""Demographics documents (TinyTroupe's population format) and the percentage distributions in them.

A document is `{"title", "description", "source", "content": {...free-form...}}`. Any object in the
content whose percentage-valued entries add up to about 100% is a distribution (a partition of the
population); sub-objects count as one category when they carry a `Total` or only percentages
("Religion": {"Christian": {"Total": "63%", ...}, "Unaffiliated": "28%"}), and cumulative
"... or Higher" lists become brackets ("High School Graduate or Higher": 90%, "Bachelor's Degree
or Higher": 35% → 35% / 55% / 10%).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from itertools import pairwise
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")
_CUMULATIVE = re.compile(r"\s+or\s+(higher|more|above)\s*$", re.IGNORECASE)
_GENERIC_KEYS = {"distribution", "breakdown", "shares", "percentages", "values"}
_TOTAL_KEY = "total"
_PARTITION_RANGE = (90.0, 110.0)


class Demographics(BaseModel):
    model_config = ConfigDict(extra="allow")

    title: str = ""
    description: str = ""
    source: str = ""
    content: Any = None

    @classmethod
    def load(cls, path: str | Path) -> Demographics:
        return cls.model_validate_json(Path(path).read_bytes())


class Distribution(BaseModel):
    """One dimension of the population and the share (in percent) of each of its categories."""

    model_config = ConfigDict(frozen=True)

    dimension: str
    path: tuple[str, ...]
    shares: dict[str, float]


def parse_percent(value: Any) -> float | None:
    match = _PERCENT.match(value) if isinstance(value, str) else None
    return float(match.group(1)) if match else None


def _group_share(group: Mapping[str, Any]) -> float | None:
    """The share of a nested category: its `Total`, or the sum of its percentages if it holds only those."""
    for key, value in group.items():
        if key.strip().lower() == _TOTAL_KEY and (share := parse_percent(value)) is not None:
            return share
    shares = [parse_percent(value) for value in group.values()]
    if shares and all(share is not None for share in shares):
        return sum(shares)  # type: ignore[arg-type]
    return None


def _is_partition(shares: Mapping[str, float]) -> bool:
    low, high = _PARTITION_RANGE
    return len(shares) >= 2 and low <= sum(shares.values()) <= high


def _cumulative_brackets(shares: Mapping[str, float]) -> dict[str, float] | None:
    """Exclusive brackets from cumulative "X or Higher" shares, highest level first.

    None when the shares are not cumulative.
    """
    if len(shares) < 2 or not all(_CUMULATIVE.search(key) for key in shares):
        return None
    levels = sorted(shares.items(), key=lambda item: item[1])
    if levels[-1][1] > 100:
        return None
    brackets = {levels[0][0]: levels[0][1]}
    for (_, higher_share), (label, share) in pairwise(levels):
        brackets[_CUMULATIVE.sub("", label)] = share - higher_share
    brackets[f"Below {_CUMULATIVE.sub('', levels[-1][0])}"] = 100.0 - levels[-1][1]
    return {label: share for label, share in brackets.items() if share > 0}


def _dimension_name(path: tuple[str, ...]) -> str:
    """The nearest specific key of the path, without a trailing "Distribution" ("Age Distribution": "Age")."""
    named = [key for key in path if key.strip().lower() not in _GENERIC_KEYS]
    name = named[-1] if named else (path[-1] if path else "population")
    return re.sub(r"\s+distribution\s*$", "", name, flags=re.IGNORECASE) or name


def _distribution_in(obj: Mapping[str, Any]) -> dict[str, float] | None:
    direct = {
        key: share
        for key, value in obj.items()
        if key.strip().lower() != _TOTAL_KEY and (share := parse_percent(value)) is not None
    }
    if _is_partition(direct):
        return direct
    if (brackets := _cumulative_brackets(direct)) is not None:
        return brackets
    with_groups = dict(direct)
    for key, value in obj.items():
        if isinstance(value, Mapping) and (share := _group_share(value)) is not None:
            with_groups[key] = share
    return with_groups if len(with_groups) > len(direct) and _is_partition(with_groups) else None


def find_distributions(content: Any, path: tuple[str, ...] = ()) -> list[Distribution]:
    """Every distribution in the content, in document order."""
    found: list[Distribution] = []
    if isinstance(content, Mapping):
        if (shares := _distribution_in(content)) is not None:
            found.append(Distribution(dimension=_dimension_name(path), path=path, shares=shares))
        children = list(content.items())
    elif isinstance(content, list):
        children = [(str(index), item) for index, item in enumerate(content)]
    else:
        children = []
    for key, child in children:
        if isinstance(child, Mapping | list):
            found += find_distributions(child, (*path, str(key)))
    return found
