from collections import Counter

import pytest

from services.engine.demographics import Demographics, find_distributions, parse_percent
from services.engine.population_plan import (
    PopulationPlanError,
    ProposedPlan,
    apportion,
    plan_population,
)
from tests.engine.support import POPULATION_FILES, FakeLLM, refuse_calls


def _demographics(stem: str) -> Demographics:
    return Demographics.load(next(path for path in POPULATION_FILES if path.stem == stem))


def _marginal(plan, dimension: str) -> Counter:
    counts: Counter = Counter()
    for entry in plan.entries:
        counts[entry.characteristics[dimension]] += entry.quantity
    return counts


@pytest.mark.parametrize(
    ("weights", "total", "expected"),
    [
        ([49.2, 50.8], 1, [0, 1]),
        ([49.2, 50.8], 7, [3, 4]),
        ([1, 1, 1], 2, [1, 1, 0]),
        ([0, 0], 3, [2, 1]),
        ([33.3, 33.3, 33.4], 10, [3, 3, 4]),
        ([5, 0, 5], 0, [0, 0, 0]),
        ([18.6, 13.1, 39.4, 12.9, 16.0], 1000, [186, 131, 394, 129, 160]),
    ],
)
def test_apportion(weights, total, expected):
    assert apportion(weights, total) == expected


@pytest.mark.parametrize("total", [1, 2, 3, 7, 13, 100, 999])
def test_apportion_sums_and_stays_within_one_of_the_quota(total):
    weights = [17.2, 22.3, 29.3, 23.5, 7.7]
    quantities = apportion(weights, total)
    assert sum(quantities) == total
    assert all(abs(q - w * total / sum(weights)) < 1 for q, w in zip(quantities, weights, strict=True))


def test_percent_parsing():
    assert parse_percent(" 18.6% ") == 18.6 and parse_percent("90%") == 90.0
    assert parse_percent("Cookies (preferred by 59%)") is None and parse_percent(59) is None


def test_usa_distributions():
    found = {d.dimension: d.shares for d in find_distributions(_demographics("usa").content)}
    assert found["Gender"] == {"Male": 49.2, "Female": 50.8}
    assert found["Household Income"]["$200,000 and Over"] == 7.7
    assert found["Regions"] == {"Northeast": 17.1, "Midwest": 20.8, "South": 38.3, "West": 23.8}
    assert found["Educational Attainment"] == {
        "Bachelor's Degree or Higher": 35.0,
        "High School Graduate": 55.0,
        "Below High School Graduate": 10.0,
    }
    assert found["Religion"] == {"Unaffiliated": 28.0, "Christian": 63.0, "Non-Christian": 6.0}
    assert "Political Affiliation" not in found  # its shares add up to 124%: not a partition
    assert "Interests and Hobbies" not in found and "Employment Status" not in found


@pytest.mark.parametrize("stem", ["usa", "brazil"])
@pytest.mark.parametrize("count", [1, 7, 100, 1000])
async def test_plan_sums_exactly_to_count_without_llm(stem, count):
    llm = FakeLLM(refuse_calls)
    plan = await plan_population(llm, _demographics(stem), count, "A study of breakfast habits")
    assert plan.method == "distributions" and plan.count == count
    assert sum(entry.quantity for entry in plan.entries) == count
    assert all(entry.quantity >= 1 for entry in plan.entries)
    main = {"Age", "Gender", "Racial and Ethnic Composition", "Regions", "Household Income"}
    assert main <= set(plan.dimensions)
    assert all(set(entry.characteristics) == set(plan.dimensions) for entry in plan.entries)
    assert all(entry.description for entry in plan.entries)
    assert not llm.calls


@pytest.mark.parametrize("stem", ["usa", "brazil"])
async def test_plan_follows_the_demographics_proportions(stem):
    demographics = _demographics(stem)
    plan = await plan_population(None, demographics, 1000)
    shares = {d.dimension: d.shares for d in find_distributions(demographics.content)}
    gender = _marginal(plan, "Gender")
    assert abs(gender["Female"] / 1000 - 0.508) <= 0.005 and abs(gender["Male"] / 1000 - 0.492) <= 0.005
    for dimension in plan.dimensions:
        expected = shares[dimension]
        total = sum(expected.values())
        counts = _marginal(plan, dimension)
        for category, share in expected.items():
            assert abs(counts[category] / 1000 - share / total) <= 0.0015, (dimension, category)


async def test_small_plans_take_the_largest_categories():
    plan = await plan_population(None, _demographics("usa"), 1)
    (entry,) = plan.entries
    assert entry.quantity == 1
    assert entry.characteristics["Gender"] == "Female" and entry.characteristics["Age"] == "25-54"
    plan7 = await plan_population(None, _demographics("usa"), 7)
    assert _marginal(plan7, "Gender") == {"Female": 4, "Male": 3}


async def test_plan_is_reproducible_and_seeded():
    demographics = _demographics("brazil")
    first = await plan_population(None, demographics, 50, "ctx")
    assert first == await plan_population(None, demographics, 50, "ctx")
    reseeded = await plan_population(None, demographics, 50, "ctx", seed=first.seed + 1)
    assert reseeded.entries != first.entries
    for dimension in first.dimensions:
        assert _marginal(reseeded, dimension) == _marginal(first, dimension)


async def test_dimensions_can_be_chosen():
    plan = await plan_population(None, _demographics("usa"), 10, dimensions=["gender distribution", "Regions"])
    assert plan.dimensions == ["Gender", "Regions"]
    assert all(len(entry.characteristics) == 2 for entry in plan.entries)
    assert len(plan.entries) <= 8


async def test_min_age_clips_the_age_brackets():
    plan = await plan_population(None, _demographics("usa"), 1000, min_age=18)
    ages = _marginal(plan, "Age")
    assert set(ages) == {"18-24", "25-54", "55-64", "65+"} and sum(ages.values()) == 1000
    # 0-14 is gone; 15-24 keeps 7/10 of its 13.1%: 9.17 of the remaining 77.47%.
    assert abs(ages["18-24"] / 1000 - 9.17 / 77.47) <= 0.0015


UNSTRUCTURED = Demographics(
    title="Island of Tinsel",
    description="A small island community.",
    source="Census notes",
    content={"Overview": "Mostly fishers and retirees; a few remote workers.", "Climate": "Mild and windy."},
)


def _proposal(*shares: float) -> ProposedPlan:
    return ProposedPlan.model_validate(
        {
            "entries": [
                {
                    "description": f"Group {i}",
                    "share_percent": share,
                    "characteristics": [
                        {"dimension": "Occupation", "value": f"Job {i}"},
                        {"dimension": " ", "value": "x"},
                    ],
                }
                for i, share in enumerate(shares)
            ]
        }
    )


@pytest.mark.parametrize("count", [1, 7, 100, 1000])
async def test_without_distributions_the_llm_proposes_and_quantities_are_normalised(count):
    llm = FakeLLM(lambda call: _proposal(3, 1, 1, 0))
    plan = await plan_population(llm, UNSTRUCTURED, count, "Ferry timetable study", "Adults who commute", session="s-1")
    assert plan.method == "llm" and sum(entry.quantity for entry in plan.entries) == count
    assert all(entry.quantity >= 1 for entry in plan.entries)
    assert "Group 3" not in [entry.description for entry in plan.entries]
    assert plan.entries[0].characteristics == {"Occupation": "Job 0"}
    if count == 100:
        assert [entry.quantity for entry in plan.entries] == [60, 20, 20]
    (call,) = llm.calls
    assert call.output_model is ProposedPlan and call.session == "s-1" and call.label == "population.plan"
    assert "Mostly fishers and retirees" in call.prompt and "Adults who commute" in call.prompt
    assert f"{count} people" in call.prompt


async def test_an_empty_proposal_is_an_error():
    with pytest.raises(PopulationPlanError):
        await plan_population(FakeLLM(lambda call: ProposedPlan(entries=[])), UNSTRUCTURED, 5)
    with pytest.raises(PopulationPlanError):
        await plan_population(FakeLLM(refuse_calls), UNSTRUCTURED, 0)
