import asyncio
from contextlib import aclosing

import pytest

from services.engine.demographics import Demographics
from services.engine.names import normalize_name
from services.engine.persona import Persona
from services.engine.persona_schema import GeneratedPersona
from services.engine.population_generation import generate_person, generate_population
from services.engine.population_plan import PlanEntry, PopulationPlan, plan_population
from tests.engine.support import POPULATION_FILES, FakeCall, FakeLLM, generated_persona

BRAZIL = Demographics.load(next(path for path in POPULATION_FILES if path.stem == "brazil"))
ENTRY = PlanEntry(
    description="Urban women in their thirties",
    quantity=3,
    characteristics={"Gender": "Female", "Age": "25-54", "Regions": "Northeast"},
)


def _person_index(call: FakeCall) -> int:
    return int(call.label.rsplit(".", 1)[1])


def _asks_to_avoid_names(call: FakeCall) -> bool:
    return "## Names to avoid" in call.prompt


async def _collect(iterator):
    return [result async for result in iterator]


async def test_generate_person_returns_a_validated_spec():
    llm = FakeLLM(lambda call: generated_persona(name=' "Ana  Souza" '))
    spec = await generate_person(
        llm,
        BRAZIL,
        ENTRY,
        "Focus group on public transport",
        "Uses buses daily",
        ["Lia Costa", "Rui Alves"],
        session="s-7",
        member_number=2,
    )
    persona = Persona(spec)
    assert spec["type"] == "TinyPerson" and persona.name == "Ana Souza"
    assert list(spec["persona"])[:3] == ["name", "age", "gender"]
    assert spec["persona"]["behaviors"] == {"general": ["Checks on neighbours after night shifts."]}
    (call,) = llm.calls
    assert call.output_model is GeneratedPersona and call.session == "s-7" and call.max_tokens
    for text in (
        "Brazil Population Information",
        "Regions: Northeast",
        "Focus group on public transport",
        "Uses buses daily",
        "Lia Costa, Rui Alves",
        "person 2 of 3",
    ):
        assert text in call.prompt


async def test_a_first_attempt_prompt_depends_only_on_the_request():
    llm = FakeLLM(lambda call: generated_persona())
    await generate_person(llm, BRAZIL, ENTRY, "ctx", "", [], member_number=1)
    await generate_person(llm, BRAZIL, ENTRY, "ctx", "", [], member_number=1)
    await generate_person(llm, BRAZIL, ENTRY, "ctx", "", [], member_number=2)
    first, again, other = (call.messages for call in llm.calls)
    assert first == again and first != other
    assert not _asks_to_avoid_names(llm.calls[0])


async def test_collisions_are_retried_with_the_taken_names():
    spellings = ["Ana Souza", "ana souza", '"ANA  SOUZA"', " Ana Souza '"]

    async def respond(call: FakeCall) -> GeneratedPersona:
        index = _person_index(call)
        await asyncio.sleep(0.001 * (index % 3))
        if _asks_to_avoid_names(call):
            assert "ana souza" in call.prompt.lower()
            return generated_persona(name=f"Person Number {index}")
        return generated_persona(name=spellings[index % len(spellings)])

    llm = FakeLLM(respond)
    results = await _collect(generate_population(llm, BRAZIL, 12, "ctx", concurrency=5))
    assert len(results) == 12 and all(result.ok for result in results)
    names = [result.spec["persona"]["name"] for result in results]
    assert len({normalize_name(name) for name in names}) == 12
    assert sum(normalize_name(name) == "ana souza" for name in names) == 1
    assert sorted(result.attempts for result in results) == [1] + [2] * 11
    assert not any(result.disambiguated for result in results)
    assert sorted(result.index for result in results) == list(range(12))


async def test_persistent_collisions_are_disambiguated_deterministically():
    llm = FakeLLM(lambda call: generated_persona(name="Ana Souza"))
    results = await _collect(
        generate_population(llm, BRAZIL, 5, "ctx", concurrency=1, max_name_retries=2, taken_names=["Ana Souza"])
    )
    names = sorted(result.spec["persona"]["name"] for result in results)
    assert names == ["Ana Souza II", "Ana Souza III", "Ana Souza IV", "Ana Souza V", "Ana Souza VI"]
    assert all(result.disambiguated and result.attempts == 3 for result in results)
    assert len(llm.calls) == 15
    for result in results:
        Persona(result.spec)


async def test_names_stay_unique_under_heavy_concurrency():
    async def respond(call: FakeCall) -> GeneratedPersona:
        await asyncio.sleep(0)
        pool = ["Maria Silva", "João Santos", "maria silva", "Ana Lima"]
        return generated_persona(name=pool[(_person_index(call) + len(call.prompt)) % len(pool)])

    llm = FakeLLM(respond)
    results = await _collect(generate_population(llm, BRAZIL, 40, "ctx", concurrency=16, max_name_retries=1))
    names = [normalize_name(result.spec["persona"]["name"]) for result in results]
    assert len(results) == 40 and len(set(names)) == 40


async def test_persons_run_concurrently_within_the_bound():
    async def respond(call: FakeCall) -> GeneratedPersona:
        await asyncio.sleep(0.01)
        return generated_persona(name=f"Person {_person_index(call)}")

    llm = FakeLLM(respond)
    results = await _collect(generate_population(llm, BRAZIL, 20, "ctx", concurrency=6))
    assert len(results) == 20
    assert llm.peak_in_flight == 6


async def test_results_are_yielded_in_completion_order():
    count = 6
    finished: list[int] = []

    async def respond(call: FakeCall) -> GeneratedPersona:
        index = _person_index(call)
        await asyncio.sleep(0.02 * (count - index))
        finished.append(index)
        return generated_persona(name=f"Person {index}")

    llm = FakeLLM(respond)
    seen_when_yielded = []
    order = []
    async for result in generate_population(llm, BRAZIL, count, "ctx", concurrency=count):
        order.append(result.index)
        seen_when_yielded.append(len(finished))
    assert order == finished == list(reversed(range(count)))
    assert seen_when_yielded[0] < count  # the first person came out before the last one was made


class SimulatedOutage(Exception):
    pass


async def test_a_failed_person_is_a_result_not_a_crash():
    def respond(call: FakeCall) -> GeneratedPersona:
        index = _person_index(call)
        if index == 3:
            raise SimulatedOutage("backend unavailable")
        if index == 4:
            return generated_persona(name=' "" ')
        return generated_persona(name=f"Person {index}")

    results = await _collect(generate_population(FakeLLM(respond), BRAZIL, 7, "ctx"))
    failed = {result.index: result for result in results if not result.ok}
    assert len(results) == 7 and set(failed) == {3, 4}
    assert failed[3].error == "backend unavailable" and failed[3].error_type == "SimulatedOutage"
    assert failed[4].error_type == "SpecError" and "persona.name" in failed[4].error
    assert failed[3].provenance.demographics_title == BRAZIL.title


async def test_every_person_records_its_provenance():
    llm = FakeLLM(lambda call: generated_persona(name=f"Person {_person_index(call)}"))
    plan = await plan_population(None, BRAZIL, 9, "Banking app study")
    results = await _collect(
        generate_population(llm, BRAZIL, 9, "Banking app study", "Owns a smartphone", session="s-3", plan=plan)
    )
    assert {call.session for call in llm.calls} == {"s-3"}
    for result in results:
        provenance = result.provenance
        assert provenance.origin == "demographics"
        assert provenance.demographics_title == "Brazil Population Information"
        assert provenance.demographics_source == BRAZIL.source
        assert provenance.context == "Banking app study" and provenance.particularities == "Owns a smartphone"
        assert provenance.plan_entry == plan.entries[provenance.plan_entry_index]
    per_entry = [sum(r.provenance.plan_entry_index == i for r in results) for i in range(len(plan.entries))]
    assert per_entry == [entry.quantity for entry in plan.entries]


async def test_the_prompt_carries_the_plan_entry():
    plan = PopulationPlan(
        count=2,
        method="llm",
        entries=[
            PlanEntry(description="Retired fishers", quantity=1, characteristics={"Occupation": "Retired fisher"}),
            PlanEntry(description="Remote workers", quantity=1, characteristics={"Occupation": "Software tester"}),
        ],
    )
    llm = FakeLLM(lambda call: generated_persona(name=f"Person {_person_index(call)}"))
    await _collect(generate_population(llm, BRAZIL, 2, "ctx", plan=plan))
    prompts = {_person_index(call): call.prompt for call in llm.calls}
    assert "Occupation: Retired fisher" in prompts[0] and "Occupation: Software tester" in prompts[1]
    with pytest.raises(ValueError, match="add up"):
        await _collect(generate_population(llm, BRAZIL, 3, "ctx", plan=plan))


async def test_closing_early_cancels_the_remaining_persons():
    release = asyncio.Event()

    async def respond(call: FakeCall) -> GeneratedPersona:
        if _person_index(call) != 0:
            await release.wait()
        return generated_persona(name=f"Person {_person_index(call)}")

    llm = FakeLLM(respond)
    async with aclosing(generate_population(llm, BRAZIL, 10, "ctx", concurrency=4)) as results:
        async for first in results:
            assert first.index == 0
            break
    started = len(llm.calls)
    assert started <= 5  # the first four, and at most the one that took the freed slot
    release.set()
    await asyncio.sleep(0.01)
    assert llm.completed == 1 and llm.in_flight == 0 and len(llm.calls) == started
