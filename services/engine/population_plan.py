"""Sampling plans: how many persons of which kind a population of `count` persons holds.

Where the demographics carry percentage distributions, the plan is computed, not asked for: each main
dimension (age, gender, ethnicity, region, income, education, ...) is apportioned to `count` by the
largest-remainder method, so every dimension's counts match its shares as closely as whole persons
allow, and a seeded shuffle pairs the dimensions into persons. The same request gives the same plan,
at no LLM cost. Without distributions, one LLM call proposes sub-populations and their shares.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
from collections import Counter
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field

from services.engine import prompts
from services.engine.demographics import Demographics, Distribution, find_distributions
from services.engine.llm_port import StructuredLLM

MAIN_DIMENSION_KEYWORDS: tuple[tuple[str, ...], ...] = (
    ("age",),
    ("gender", "sex"),
    ("race", "racial", "ethnic", "ethnicity"),
    ("region", "geographic", "urban"),
    ("income",),
    ("education", "educational"),
    ("occupation", "employment"),
    ("marital",),
    ("religion", "religious"),
    ("political", "politics"),
    ("language",),
)
"""Dimension name words that make a distribution one of the plan's dimensions, in order of importance."""

_WORD = re.compile(r"[a-z]+")
_AGE_RANGE = re.compile(r"^\s*(\d+)\s*(?:-|\u2013|to)\s*(\d+)\s*$")
_AGE_OPEN = re.compile(r"^\s*(\d+)\s*(?:\+|or\s+(?:older|over|more)|and\s+(?:older|over))\s*$", re.IGNORECASE)


class PlanEntry(BaseModel):
    description: str
    quantity: int = Field(ge=1)
    characteristics: dict[str, str] = Field(default_factory=dict)


class PopulationPlan(BaseModel):
    count: int
    method: Literal["distributions", "llm"]
    dimensions: list[str] = Field(default_factory=list)
    seed: int | None = None
    entries: list[PlanEntry]


class PopulationPlanError(ValueError):
    """No usable plan could be made."""


def apportion(weights: Sequence[float], total: int) -> list[int]:
    """Whole quantities summing exactly to `total`, proportional to `weights` (largest remainder).

    Ties in the remainders go to the larger weight, then to the earlier position.
    """
    if total < 0:
        raise ValueError("total must not be negative")
    if not weights:
        if total:
            raise ValueError("cannot apportion a positive total over no weights")
        return []
    clean = [w if math.isfinite(w) and w > 0 else 0.0 for w in weights]
    if not any(clean):
        clean = [1.0] * len(clean)
    weight_sum = sum(clean)
    quotas = [w * total / weight_sum for w in clean]
    quantities = [math.floor(q) for q in quotas]
    order = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - quantities[i]), -clean[i], i))
    for index in order[: total - sum(quantities)]:
        quantities[index] += 1
    return quantities


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _word_matches(word: str, keyword: str) -> bool:
    """`age` matches `age`/`ages`; keywords of five letters or more also match as prefixes (`regional`)."""
    return word in (keyword, keyword + "s") or (len(keyword) >= 5 and word.startswith(keyword))


def _keyword_rank(dimension: str) -> int | None:
    words = _words(dimension)
    for rank, keywords in enumerate(MAIN_DIMENSION_KEYWORDS):
        if any(_word_matches(word, keyword) for word in words for keyword in keywords):
            return rank
    return None


def select_dimensions(distributions: Sequence[Distribution], wanted: Sequence[str] | None = None) -> list[Distribution]:
    """The plan's dimensions: those named in `wanted` (by dimension or document key, case-insensitive),
    or else the main ones."""
    if wanted is not None:
        keys = {name.strip().casefold() for name in wanted}
        return [
            d for d in distributions if d.dimension.casefold() in keys or (d.path and d.path[-1].casefold() in keys)
        ]
    ranked = [
        (rank, index, d) for index, d in enumerate(distributions) if (rank := _keyword_rank(d.dimension)) is not None
    ]
    return [d for _, _, d in sorted(ranked, key=lambda item: item[:2])]


def _age_bounds(label: str) -> tuple[int, int | None] | None:
    if match := _AGE_RANGE.match(label):
        return int(match.group(1)), int(match.group(2))
    if match := _AGE_OPEN.match(label):
        return int(match.group(1)), None
    return None


def restrict_ages(distribution: Distribution, min_age: int) -> Distribution:
    """An age distribution without the categories below `min_age`; a bracket that straddles it is clipped
    ("15-24" → "18-24") and keeps the matching part of its share."""
    shares: dict[str, float] = {}
    for label, share in distribution.shares.items():
        bounds = _age_bounds(label)
        if bounds is None:
            shares[label] = share
            continue
        low, high = bounds
        if high is not None and high < min_age:
            continue
        if low < min_age:
            if high is None:
                label = f"{min_age}+"
            else:
                share *= (high - min_age + 1) / (high - low + 1)
                label = f"{min_age}-{high}"
        shares[label] = share
    return distribution.model_copy(update={"shares": shares})


def default_seed(*parts: object) -> int:
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def describe_characteristics(characteristics: dict[str, str]) -> str:
    return "; ".join(f"{dimension}: {value}" for dimension, value in characteristics.items())


def plan_from_distributions(distributions: Sequence[Distribution], count: int, seed: int) -> PopulationPlan:
    """Apportions each distribution to `count` and pairs the dimensions into persons by a seeded shuffle."""
    rng = random.Random(seed)
    columns: list[list[str]] = []
    for distribution in distributions:
        labels = list(distribution.shares)
        quantities = apportion(list(distribution.shares.values()), count)
        column = [label for label, quantity in zip(labels, quantities, strict=True) for _ in range(quantity)]
        rng.shuffle(column)
        columns.append(column)
    dimensions = [d.dimension for d in distributions]
    persons = list(zip(*columns, strict=True)) if columns else [()] * count
    entries = []
    for values, quantity in Counter(persons).most_common():  # ties keep first-seen order
        characteristics = dict(zip(dimensions, values, strict=True))
        description = describe_characteristics(characteristics) or "general population"
        entries.append(PlanEntry(description=description, quantity=quantity, characteristics=characteristics))
    return PopulationPlan(count=count, method="distributions", dimensions=dimensions, seed=seed, entries=entries)


class _ProposedCharacteristic(BaseModel):
    dimension: str
    value: str


class _ProposedEntry(BaseModel):
    description: str
    share_percent: float = Field(ge=0)
    characteristics: list[_ProposedCharacteristic] = Field(default_factory=list)


class ProposedPlan(BaseModel):
    """What the LLM returns when the demographics hold no distributions."""

    entries: list[_ProposedEntry]


def plan_from_proposal(proposal: ProposedPlan, count: int) -> PopulationPlan:
    """Normalises proposed shares to whole quantities summing to `count`; drops entries left empty."""
    if not proposal.entries:
        raise PopulationPlanError("the proposed plan has no entries")
    quantities = apportion([entry.share_percent for entry in proposal.entries], count)
    entries = []
    for entry, quantity in zip(proposal.entries, quantities, strict=True):
        if not quantity:
            continue
        traits = {c.dimension.strip(): c.value.strip() for c in entry.characteristics if c.dimension.strip()}
        description = entry.description.strip() or describe_characteristics(traits)
        entries.append(PlanEntry(description=description, quantity=quantity, characteristics=traits))
    dimensions = list(dict.fromkeys(dim for entry in entries for dim in entry.characteristics))
    return PopulationPlan(count=count, method="llm", dimensions=dimensions, entries=entries)


async def plan_population(
    llm: StructuredLLM,
    demographics: Demographics,
    count: int,
    context: str = "",
    particularities: str = "",
    *,
    session: str = "",
    seed: int | None = None,
    dimensions: Sequence[str] | None = None,
    min_age: int | None = None,
) -> PopulationPlan:
    """The sampling plan for `count` persons: computed from the distributions, or proposed by the LLM."""
    if count < 1:
        raise PopulationPlanError("count must be at least 1")
    chosen = select_dimensions(find_distributions(demographics.content), dimensions)
    if min_age is not None:
        chosen = [restrict_ages(d, min_age) if _keyword_rank(d.dimension) == 0 else d for d in chosen]
    chosen = [d for d in chosen if d.shares]
    if chosen:
        if seed is None:
            seed = default_seed(demographics.title, count, context, particularities, min_age)
        return plan_from_distributions(chosen, count, seed)
    messages = prompts.population_plan_messages(demographics, count, context, particularities)
    proposal = await llm.structured(messages, ProposedPlan, session=session, label="population.plan")
    return plan_from_proposal(proposal, count)
