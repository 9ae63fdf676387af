"""The PopulationService: agents from specifications, fragments and demographics; agent validation.

Every call that names a session needs an active session of the caller's tenant; a GeneratePopulation with a
`request_id` is answered once, its whole stream remembered in the session (services/common/remembered.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import grpc
from pydantic import ValidationError
from tinytroupe_mesh_api.common.v1 import agent_pb2
from tinytroupe_mesh_api.population.v1 import population_pb2, population_pb2_grpc

from services.common.agents import (
    Origin,
    builtin_fragments,
    export_spec_json,
    make_agent,
    merge_fragments,
    parse_persona,
    resolve_fragments,
)
from services.common.control_client import ControlClient
from services.common.limits import MAX_AGENT_SPEC_CHARS, MAX_DOCUMENT_CHARS, MAX_INSTRUCTION_CHARS
from services.common.model_errors import model_failure
from services.common.remembered import RememberedResponses
from services.common.request_checks import require_request_fields
from services.engine.demographics import Demographics
from services.engine.fragments import FragmentConflictError, apply_fragments
from services.engine.persona import Persona, SpecError
from services.engine.population_generation import PersonResult, generate_person, generate_population
from services.engine.population_plan import PlanEntry, PopulationPlan, PopulationPlanError, plan_population
from services.engine.prompts import MAX_PERSONA_CHARS
from services.engine.simulation import PromptLimits
from services.engine.validation import (
    ANSWER_MAX_TOKENS,
    DEFAULT_QUESTIONS,
    MAX_QUESTIONS,
    PersonaValidation,
    interview_persona,
)
from services.llm.accounting import acting_for
from services.llm.client import session_scope
from services.llm.context import ContextWindow
from services.llm.errors import LLMError
from services.runtime.config import LLMSettings
from services.runtime.errors import InvalidArgument

log = logging.getLogger(__name__)

MAX_COUNT = 1000
DEFAULT_CONCURRENCY = 64


class CountingLLM:
    """Delegates to the shared LLM client, counting the structured calls made through it."""

    def __init__(self, llm: Any) -> None:
        self._llm = llm
        self.calls = 0

    async def structured(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return await self._llm.structured(*args, **kwargs)


class PopulationServicer(population_pb2_grpc.PopulationServiceServicer):
    def __init__(self, llm: Any, control: ControlClient, concurrency: int = DEFAULT_CONCURRENCY) -> None:
        self._llm = llm
        self._control = control
        self._remembered = RememberedResponses(control)
        self._concurrency = max(1, concurrency)

    async def LoadAgent(
        self, request: population_pb2.LoadAgentRequest, context: grpc.aio.ServicerContext
    ) -> agent_pb2.Agent:
        require_request_fields(
            request.session,
            [
                ("spec_json", request.spec_json, MAX_AGENT_SPEC_CHARS),
                ("context", request.context, MAX_INSTRUCTION_CHARS),
            ],
        )
        persona = parse_persona(request.spec_json, "spec_json")
        fragments = resolve_fragments(request.fragments)
        persona = merge_fragments(persona, fragments)
        await self._control.require_active_session(request.session, "loading an agent", field="session")
        provenance = agent_pb2.Provenance(
            origin=Origin.ORIGIN_SPEC,
            source=request.source,
            context=request.context,
            fragments=[name for name, _ in fragments],
        )
        return make_agent(persona, provenance)

    async def ExportAgent(
        self, request: population_pb2.ExportAgentRequest, context: grpc.aio.ServicerContext
    ) -> population_pb2.ExportAgentResponse:
        if not request.HasField("agent"):
            raise InvalidArgument("agent", "the agent is required")
        return population_pb2.ExportAgentResponse(spec_json=export_spec_json(request.agent, request.include_state))

    async def ApplyFragments(
        self, request: population_pb2.ApplyFragmentsRequest, context: grpc.aio.ServicerContext
    ) -> agent_pb2.Agent:
        if not request.HasField("agent"):
            raise InvalidArgument("agent", "the agent is required")
        if not request.fragments:
            raise InvalidArgument("fragments", "at least one fragment is required")
        persona = parse_persona(request.agent.spec_json, "agent.spec_json")
        fragments = resolve_fragments(request.fragments)
        persona = merge_fragments(persona, fragments)
        agent = agent_pb2.Agent()
        agent.CopyFrom(request.agent)
        agent.spec_json = persona.to_spec_json(indent=None)
        agent.name = persona.name
        agent.provenance.fragments.extend(name for name, _ in fragments)
        return agent

    async def ListFragments(
        self, request: population_pb2.ListFragmentsRequest, context: grpc.aio.ServicerContext
    ) -> population_pb2.ListFragmentsResponse:
        return population_pb2.ListFragmentsResponse(
            fragments=[
                population_pb2.FragmentDescription(fragment=value, fragment_json=json.dumps(document, indent=4))
                for value, document in builtin_fragments()
            ]
        )

    async def ValidateAgent(
        self, request: population_pb2.ValidateAgentRequest, context: grpc.aio.ServicerContext
    ) -> population_pb2.ValidateAgentResponse:
        if not request.HasField("agent"):
            raise InvalidArgument("agent", "the agent is required")
        if not request.expectations.strip():
            raise InvalidArgument("expectations", "expectations are required")
        require_request_fields(
            request.session,
            [
                ("expectations", request.expectations, MAX_INSTRUCTION_CHARS),
                ("agent.spec_json", request.agent.spec_json, MAX_AGENT_SPEC_CHARS),
            ],
        )
        if not 0 <= request.questions <= MAX_QUESTIONS:
            raise InvalidArgument(
                "questions", f"must be 1 to {MAX_QUESTIONS} (0 means {DEFAULT_QUESTIONS}), not {request.questions}"
            )
        persona = parse_persona(request.agent.spec_json, "agent.spec_json")
        await self._control.require_active_session(request.session, "validating an agent", field="session")
        try:
            with session_scope(self._llm, request.session), acting_for(request.agent.name):
                validation = await interview_persona(
                    self._llm,
                    persona,
                    request.expectations,
                    session=request.session,
                    questions=request.questions,
                    memory=remembered_lines(request.agent),
                    memory_summary=request.agent.memory_summary,
                    persona_chars=await interview_persona_chars(self._llm),
                )
        except LLMError as error:
            raise model_failure("validation", error) from None
        return validation_response(validation)

    async def _validated_member(
        self,
        llm: Any,
        request: population_pb2.GeneratePopulationRequest,
        demographics: Demographics,
        result: PersonResult,
        persona: Persona,
        message: population_pb2.GeneratePopulationResponse,
        fragments: list[tuple[str, dict[str, Any]]],
        regenerated: list[str],
    ) -> population_pb2.GeneratePopulationResponse:
        """A generated member with its validation interview. Under `min_validation_score`, a new person for
        the same place of the plan (told why the first did not fit, given the first's name, which is unique
        in the population) is made and validated once; still under it, the member is an AgentFailure
        carrying its validation. A failed validation call leaves the member without validation."""
        label = f"population.validation.{result.index}"
        persona_chars = await interview_persona_chars(self._llm)
        try:
            with acting_for(persona.name):
                validation = await interview_persona(
                    llm,
                    persona,
                    request.expectations,
                    session=request.session,
                    label=label,
                    persona_chars=persona_chars,
                )
        except LLMError as error:  # the agent stands; only its validation is missing
            log.warning("validation of %s failed: %s", persona.name, error)
            return message
        message.validation.CopyFrom(validation_response(validation))
        minimum = request.min_validation_score
        entry_index = result.provenance.plan_entry_index or 0
        if not minimum or validation.score >= minimum or result.provenance.plan_entry is None:
            return message
        particularities = "\n".join(
            part
            for part in (
                request.particularities,
                f"Someone made for this place did not meet the expectations ({validation.justification}); make a "
                f"person who does. The expectations: {request.expectations}",
            )
            if part
        )
        try:
            spec = await generate_person(
                llm,
                demographics,
                result.provenance.plan_entry,
                request.context,
                particularities,
                session=request.session,
                label=f"population.person.{result.index}.again",
            )
            again = apply_fragments(Persona(spec), [document for _, document in fragments])
            again = again.with_persona({**again.persona, "name": persona.name})
            second = await interview_persona(
                llm,
                again,
                request.expectations,
                session=request.session,
                label=f"{label}.again",
                persona_chars=persona_chars,
            )
        except (LLMError, FragmentConflictError, SpecError) as error:
            return validation_failure(
                entry_index, persona.name, validation, f"generating it again failed: {type(error).__name__}: {error}"
            )
        regenerated.append(persona.name)
        if second.score < minimum:
            return validation_failure(entry_index, persona.name, second, "also after generating it again")
        message.agent.spec_json = again.to_spec_json(indent=None)
        message.validation.CopyFrom(validation_response(second))
        return message

    async def GeneratePopulation(
        self,
        request: population_pb2.GeneratePopulationRequest,
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[population_pb2.GeneratePopulationResponse]:
        if not 1 <= request.count <= MAX_COUNT:
            raise InvalidArgument("count", f"count must be between 1 and {MAX_COUNT}, not {request.count}")
        require_request_fields(
            request.session,
            [
                ("demographics_json", request.demographics_json, MAX_DOCUMENT_CHARS),
                ("context", request.context, MAX_INSTRUCTION_CHARS),
                ("particularities", request.particularities, MAX_INSTRUCTION_CHARS),
                ("expectations", request.expectations, MAX_INSTRUCTION_CHARS),
            ],
            request.request_id,
        )
        demographics = _parse_demographics(request.demographics_json)
        fragments = resolve_fragments(request.fragments)
        given_plan = plan_of_request(request)
        await self._control.require_active_session(request.session, "generating a population", field="session")

        async def generate() -> AsyncIterator[population_pb2.GeneratePopulationResponse]:
            with session_scope(self._llm, request.session):
                async for message in self._generate_population(request, demographics, fragments, given_plan):
                    yield message

        async for message in self._remembered.stream(request, population_pb2.GeneratePopulationResponse, generate):
            yield message

    async def _generate_population(
        self,
        request: population_pb2.GeneratePopulationRequest,
        demographics: Demographics,
        fragments: list[tuple[str, dict[str, Any]]],
        given_plan: PopulationPlan | None = None,
    ) -> AsyncIterator[population_pb2.GeneratePopulationResponse]:
        fragment_names = [name for name, _ in fragments]
        llm = CountingLLM(self._llm)
        session = request.session
        regenerated: list[str] = []
        try:
            plan = given_plan or await plan_population(
                llm, demographics, request.count, request.context, request.particularities, session=session
            )
        except LLMError as error:
            raise model_failure("population plan", error) from None
        except PopulationPlanError as error:
            raise InvalidArgument("demographics_json", f"no sampling plan can be made: {error}") from None
        yield population_pb2.GeneratePopulationResponse(
            plan=population_pb2.PopulationPlan(
                entries=[
                    population_pb2.PlanEntry(
                        description=entry.description, quantity=entry.quantity, characteristics=entry.characteristics
                    )
                    for entry in plan.entries
                ]
            )
        )
        requested = request.member_count or request.count
        if request.plan_only:
            yield population_pb2.GeneratePopulationResponse(
                summary=population_pb2.PopulationSummary(requested=request.count, model_calls=llm.calls)
            )
            return

        async def finish(result: PersonResult) -> population_pb2.GeneratePopulationResponse:
            entry_index = result.provenance.plan_entry_index or 0
            if not result.ok:
                return _failure(entry_index, f"{result.error_type}: {result.error}")
            try:
                persona = apply_fragments(Persona(result.spec), [document for _, document in fragments])
            except (FragmentConflictError, SpecError) as error:
                return _failure(entry_index, f"{type(error).__name__}: {error}")
            entry = result.provenance.plan_entry
            provenance = agent_pb2.Provenance(
                origin=Origin.ORIGIN_DEMOGRAPHICS,
                source=demographics.title,
                context=request.context,
                plan_entry_json=entry.model_dump_json() if entry is not None else "",
                fragments=fragment_names,
            )
            message = population_pb2.GeneratePopulationResponse(agent=make_agent(persona, provenance))
            if request.expectations.strip():
                message = await self._validated_member(
                    llm, request, demographics, result, persona, message, fragments, regenerated
                )
            return message

        queue: asyncio.Queue[population_pb2.GeneratePopulationResponse | BaseException | None] = asyncio.Queue()

        async def produce() -> None:
            finishing: set[asyncio.Task] = set()

            async def finish_into_queue(result: PersonResult) -> None:
                await queue.put(await finish(result))

            try:
                async with contextlib.aclosing(
                    generate_population(
                        llm,
                        demographics,
                        request.count,
                        request.context,
                        request.particularities,
                        session=session,
                        concurrency=self._concurrency,
                        plan=plan,
                        first_member=request.first_member,
                        member_count=requested,
                    )
                ) as results:
                    async for result in results:
                        finishing.add(asyncio.create_task(finish_into_queue(result)))
                    await asyncio.gather(*finishing)
                await queue.put(None)
            except BaseException as error:
                for task in finishing:
                    task.cancel()
                await asyncio.gather(*finishing, return_exceptions=True)
                await queue.put(error)
                if isinstance(error, asyncio.CancelledError):
                    raise

        producer = asyncio.create_task(produce())
        generated = failed = 0
        try:
            while (item := await queue.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                if item.HasField("agent"):
                    generated += 1
                else:
                    failed += 1
                yield item
        finally:
            producer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await producer
        yield population_pb2.GeneratePopulationResponse(
            summary=population_pb2.PopulationSummary(
                requested=requested,
                generated=generated,
                failed=failed,
                model_calls=llm.calls,
                regenerated=len(regenerated),
            )
        )


def validation_response(validation: PersonaValidation) -> population_pb2.ValidateAgentResponse:
    return population_pb2.ValidateAgentResponse(
        score=validation.score,
        justification=validation.justification,
        interview=[
            population_pb2.InterviewExchange(question=question, answer=answer)
            for question, answer in validation.interview
        ],
    )


def validation_failure(
    entry_index: int, name: str, validation: PersonaValidation, why: str
) -> population_pb2.GeneratePopulationResponse:
    """A member whose validation stayed under the minimum: a failure that carries the validation."""
    return population_pb2.GeneratePopulationResponse(
        failure=population_pb2.AgentFailure(
            plan_entry_index=entry_index,
            agent_name=name,
            validation=validation_response(validation),
            reason=f"validation score {validation.score:.2f} is under the minimum ({why}): {validation.justification}",
        )
    )


_REMEMBERED = {
    agent_pb2.MemoryEvent.KIND_SAID: "you said: {content}",
    agent_pb2.MemoryEvent.KIND_THOUGHT: "you thought: {content}",
    agent_pb2.MemoryEvent.KIND_HEARD: "{source} said: {content}",
    agent_pb2.MemoryEvent.KIND_STIMULUS: "{source}: {content}",
}
MAX_REMEMBERED = 32


def remembered_lines(agent: agent_pb2.Agent) -> list[str]:
    """The agent's latest remembered events as it recalls them, for answering in character."""
    return [
        _REMEMBERED.get(event.kind, "{source}: {content}").format(source=event.source, content=event.content)
        for event in agent.episodic_memory[-MAX_REMEMBERED:]
    ]


_CONTEXT_WINDOWS: dict[str, ContextWindow] = {}


async def interview_persona_chars(llm: Any) -> int:
    """The persona's budget in an interview answer: its context's (the whole persona from 8k tokens on)."""
    settings = getattr(llm, "settings", None)
    if not isinstance(settings, LLMSettings):
        return MAX_PERSONA_CHARS
    window = _CONTEXT_WINDOWS.setdefault(settings.model_dump_json(), ContextWindow(settings))
    return PromptLimits.for_context((await window.size()).tokens, ANSWER_MAX_TOKENS).persona_chars


def _failure(entry_index: int, reason: str) -> population_pb2.GeneratePopulationResponse:
    return population_pb2.GeneratePopulationResponse(
        failure=population_pb2.AgentFailure(plan_entry_index=entry_index, reason=reason)
    )


def plan_of_request(request: population_pb2.GeneratePopulationRequest) -> PopulationPlan | None:
    """The plan the request gives (None when it gives none), its member range checked against it."""
    if request.plan_only and (request.HasField("plan") or request.member_count or request.first_member):
        raise InvalidArgument("plan_only", "a plan-only request takes neither a plan nor a range of members")
    if request.first_member < 0:
        raise InvalidArgument("first_member", f"must not be negative, not {request.first_member}")
    if request.member_count < 0:
        raise InvalidArgument("member_count", f"must not be negative, not {request.member_count}")
    if request.member_count and request.first_member + request.member_count > request.count:
        raise InvalidArgument(
            "member_count",
            f"members {request.first_member} to {request.first_member + request.member_count - 1} are not within "
            f"the {request.count} of the population",
        )
    if request.first_member and not request.member_count:
        raise InvalidArgument("member_count", "a range of members starting at first_member needs member_count")
    if not request.HasField("plan"):
        return None
    try:
        entries = [
            PlanEntry(
                description=entry.description, quantity=entry.quantity, characteristics=dict(entry.characteristics)
            )
            for entry in request.plan.entries
        ]
    except ValidationError:
        raise InvalidArgument("plan", "every entry of the plan needs a quantity of at least 1") from None
    if sum(entry.quantity for entry in entries) != request.count:
        raise InvalidArgument("plan", f"the plan's quantities do not add up to count ({request.count})")
    dimensions = list(dict.fromkeys(dimension for entry in entries for dimension in entry.characteristics))
    return PopulationPlan(count=request.count, method="distributions", dimensions=dimensions, entries=entries)


def _parse_demographics(text: str) -> Demographics:
    if not text.strip():
        raise InvalidArgument("demographics_json", "demographics are required")
    try:
        demographics = Demographics.model_validate_json(text)
    except ValidationError as error:
        raise InvalidArgument(
            "demographics_json", f"not TinyTroupe demographics JSON: {error.errors()[0]['msg']}"
        ) from None
    if demographics.content is None and not demographics.description:
        raise InvalidArgument("demographics_json", "the demographics have neither content nor description")
    return demographics
