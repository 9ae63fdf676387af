"""Persons from demographics: one structured LLM call per person, run concurrently, names kept unique.

`generate_population` yields each person as soon as it is made (completion order). The first attempt
at a person has a prompt that depends only on the request and the person's place in the plan, so a
replay of the session hits the LLM cache; only a retry after a name collision lists the taken names.
Close the iterator (`contextlib.aclosing`) when stopping early: that cancels the persons still running.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from pydantic import BaseModel

from services.engine import prompts
from services.engine.demographics import Demographics
from services.engine.llm_port import StructuredLLM
from services.engine.names import NameRegistry
from services.engine.persona_schema import GeneratedPersona
from services.engine.population_plan import PlanEntry, PopulationPlan, plan_population
from services.engine.provenance import Provenance

PERSON_MAX_TOKENS = 1536
MAX_NAMES_IN_PROMPT = 50


class PersonResult(BaseModel):
    """One person of a population: its spec, or why it could not be made."""

    index: int
    """Position in the population (0-based, in plan order); results arrive in completion order."""
    provenance: Provenance
    spec: dict[str, Any] | None = None
    error: str | None = None
    error_type: str | None = None
    attempts: int = 0
    disambiguated: bool = False
    """True when the name still collided after all retries and was given a suffix ("Ana Souza II")."""

    @property
    def ok(self) -> bool:
        return self.spec is not None


async def generate_person(
    llm: StructuredLLM,
    demographics: Demographics,
    plan_entry: PlanEntry,
    context: str = "",
    particularities: str = "",
    taken_names: Sequence[str] = (),
    *,
    session: str = "",
    member_number: int = 1,
    label: str = "population.person",
    max_tokens: int | None = PERSON_MAX_TOKENS,
    temperature: float | None = None,
) -> dict[str, Any]:
    """A validated TinyPerson spec for member `member_number` (of the entry's quantity) of a plan entry."""
    messages = prompts.person_messages(demographics, plan_entry, context, particularities, taken_names, member_number)
    generated = await llm.structured(
        messages, GeneratedPersona, session=session, label=label, max_tokens=max_tokens, temperature=temperature
    )
    return generated.to_persona_spec().to_spec()


def _names_to_avoid(registry: NameRegistry, collided: str) -> list[str]:
    """The collided name first, then the most recently taken others, at most MAX_NAMES_IN_PROMPT."""
    taken_as = registry.taken_as(collided) or collided
    others = [name for name in registry.taken_names() if name != taken_as]
    return [taken_as, *others[-(MAX_NAMES_IN_PROMPT - 1) :]]


async def generate_population(
    llm: StructuredLLM,
    demographics: Demographics,
    count: int,
    context: str = "",
    particularities: str = "",
    *,
    session: str = "",
    concurrency: int = 4,
    max_name_retries: int = 2,
    plan: PopulationPlan | None = None,
    taken_names: Iterable[str] = (),
    seed: int | None = None,
    min_age: int | None = None,
    first_member: int = 0,
    member_count: int | None = None,
) -> AsyncIterator[PersonResult]:
    """Yields `count` results (persons or failures) as they complete. `taken_names` are names that the
    population must not reuse (e.g. agents already in the session). With `member_count`, only the plan's
    members `first_member` to `first_member + member_count - 1` are made (a part of the population made
    by one of several calls), each as the whole population's generation would make it."""
    if concurrency < 1 or max_name_retries < 0:
        raise ValueError("concurrency must be at least 1 and max_name_retries not negative")
    if plan is None:
        plan = await plan_population(
            llm, demographics, count, context, particularities, session=session, seed=seed, min_age=min_age
        )
    elif sum(entry.quantity for entry in plan.entries) != count:
        raise ValueError(f"the plan's quantities do not add up to {count}")
    registry = NameRegistry(taken_names)
    semaphore = asyncio.Semaphore(concurrency)
    members = [
        (entry_index, entry, number)
        for entry_index, entry in enumerate(plan.entries)
        for number in range(1, entry.quantity + 1)
    ]
    last_member = len(members) if member_count is None else first_member + member_count
    if not 0 <= first_member <= last_member <= len(members):
        raise ValueError(f"members {first_member} to {last_member - 1} are not within the plan's {len(members)}")

    async def make_person(index: int, entry_index: int, entry: PlanEntry, member_number: int) -> PersonResult:
        provenance = Provenance(
            origin="demographics",
            context=context,
            particularities=particularities,
            demographics_title=demographics.title,
            demographics_source=demographics.source,
            plan_entry_index=entry_index,
            plan_entry=entry,
        )
        result = PersonResult(index=index, provenance=provenance)
        async with semaphore:
            try:
                avoid: list[str] = []
                for _ in range(max_name_retries + 1):
                    result.attempts += 1
                    spec = await generate_person(
                        llm,
                        demographics,
                        entry,
                        context,
                        particularities,
                        avoid,
                        session=session,
                        member_number=member_number,
                        label=f"population.person.{index}",
                    )
                    name = spec["persona"]["name"]
                    if await registry.claim(name):
                        result.spec = spec
                        return result
                    avoid = _names_to_avoid(registry, name)
                spec["persona"]["name"] = await registry.claim_disambiguated(name)
                result.spec, result.disambiguated = spec, True
            except Exception as error:  # one person's failure is a result, not a crash
                result.error, result.error_type = str(error) or repr(error), type(error).__name__
        return result

    tasks = [asyncio.create_task(make_person(index, *members[index])) for index in range(first_member, last_member)]
    try:
        for next_done in asyncio.as_completed(tasks):
            yield await next_done
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
