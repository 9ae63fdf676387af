"""The PopulationService: agents from specifications, fragments and demographics; agent validation."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import grpc
from pydantic import ValidationError
from tinytroupe.common.v1 import agent_pb2
from tinytroupe.population.v1 import population_pb2, population_pb2_grpc

from services.common.agents import (
    Origin,
    builtin_fragments,
    export_spec_json,
    make_agent,
    merge_fragments,
    parse_persona,
    resolve_fragments,
)
from services.common.limits import (
    MAX_AGENT_SPEC_CHARS,
    MAX_DOCUMENT_CHARS,
    MAX_INSTRUCTION_CHARS,
    require_texts_within,
)
from services.common.model_errors import model_failure
from services.engine.demographics import Demographics
from services.engine.fragments import FragmentConflictError, apply_fragments
from services.engine.persona import Persona, SpecError
from services.engine.population_generation import PersonResult, generate_population
from services.engine.population_plan import PopulationPlanError, plan_population
from services.engine.validation import validate_persona
from services.llm.client import session_scope
from services.llm.errors import LLMError
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
    def __init__(self, llm: Any, concurrency: int = DEFAULT_CONCURRENCY) -> None:
        self._llm = llm
        self._concurrency = max(1, concurrency)

    async def LoadAgent(self, request: population_pb2.LoadAgentRequest,
                        context: grpc.aio.ServicerContext) -> agent_pb2.Agent:
        require_texts_within([("spec_json", request.spec_json, MAX_AGENT_SPEC_CHARS),
                              ("context", request.context, MAX_INSTRUCTION_CHARS)])
        persona = parse_persona(request.spec_json, "spec_json")
        fragments = resolve_fragments(request.fragments)
        persona = merge_fragments(persona, fragments)
        provenance = agent_pb2.Provenance(origin=Origin.ORIGIN_SPEC, source=request.source,
                                          context=request.context, fragments=[name for name, _ in fragments])
        return make_agent(persona, provenance)

    async def ExportAgent(self, request: population_pb2.ExportAgentRequest,
                          context: grpc.aio.ServicerContext) -> population_pb2.ExportAgentResponse:
        if not request.HasField("agent"):
            raise InvalidArgument("agent", "the agent is required")
        return population_pb2.ExportAgentResponse(spec_json=export_spec_json(request.agent, request.include_state))

    async def ApplyFragments(self, request: population_pb2.ApplyFragmentsRequest,
                             context: grpc.aio.ServicerContext) -> agent_pb2.Agent:
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

    async def ListFragments(self, request: population_pb2.ListFragmentsRequest,
                            context: grpc.aio.ServicerContext) -> population_pb2.ListFragmentsResponse:
        return population_pb2.ListFragmentsResponse(fragments=[
            population_pb2.FragmentDescription(fragment=value, fragment_json=json.dumps(document, indent=4))
            for value, document in builtin_fragments()])

    async def ValidateAgent(self, request: population_pb2.ValidateAgentRequest,
                            context: grpc.aio.ServicerContext) -> population_pb2.ValidateAgentResponse:
        if not request.HasField("agent"):
            raise InvalidArgument("agent", "the agent is required")
        if not request.expectations.strip():
            raise InvalidArgument("expectations", "expectations are required")
        require_texts_within([("expectations", request.expectations, MAX_INSTRUCTION_CHARS),
                              ("agent.spec_json", request.agent.spec_json, MAX_AGENT_SPEC_CHARS)])
        persona = parse_persona(request.agent.spec_json, "agent.spec_json")
        try:
            with session_scope(self._llm, request.session):
                score, justification = await validate_persona(self._llm, persona, request.expectations,
                                                              session=request.session)
        except LLMError as error:
            raise model_failure("validation", error) from None
        return population_pb2.ValidateAgentResponse(score=score, justification=justification)

    async def GeneratePopulation(self, request: population_pb2.GeneratePopulationRequest,
                                 context: grpc.aio.ServicerContext,
                                 ) -> AsyncIterator[population_pb2.GeneratePopulationResponse]:
        with session_scope(self._llm, request.session):
            async for message in self._generate_population(request):
                yield message

    async def _generate_population(self, request: population_pb2.GeneratePopulationRequest,
                                   ) -> AsyncIterator[population_pb2.GeneratePopulationResponse]:
        if not 1 <= request.count <= MAX_COUNT:
            raise InvalidArgument("count", f"count must be between 1 and {MAX_COUNT}, not {request.count}")
        require_texts_within([("demographics_json", request.demographics_json, MAX_DOCUMENT_CHARS),
                              ("context", request.context, MAX_INSTRUCTION_CHARS),
                              ("particularities", request.particularities, MAX_INSTRUCTION_CHARS),
                              ("expectations", request.expectations, MAX_INSTRUCTION_CHARS)])
        demographics = _parse_demographics(request.demographics_json)
        fragments = resolve_fragments(request.fragments)
        fragment_names = [name for name, _ in fragments]
        llm = CountingLLM(self._llm)
        session = request.session
        try:
            plan = await plan_population(llm, demographics, request.count, request.context,
                                         request.particularities, session=session)
        except LLMError as error:
            raise model_failure("population plan", error) from None
        except PopulationPlanError as error:
            raise InvalidArgument("demographics_json", f"no sampling plan can be made: {error}") from None
        yield population_pb2.GeneratePopulationResponse(plan=population_pb2.PopulationPlan(entries=[
            population_pb2.PlanEntry(description=entry.description, quantity=entry.quantity,
                                     characteristics=entry.characteristics) for entry in plan.entries]))

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
                origin=Origin.ORIGIN_DEMOGRAPHICS, source=demographics.title, context=request.context,
                plan_entry_json=entry.model_dump_json() if entry is not None else "", fragments=fragment_names)
            message = population_pb2.GeneratePopulationResponse(agent=make_agent(persona, provenance))
            if request.expectations.strip():
                try:
                    score, justification = await validate_persona(llm, persona, request.expectations,
                                                                  session=session,
                                                                  label=f"population.validation.{result.index}")
                    message.validation.score, message.validation.justification = score, justification
                except LLMError as error:  # the agent stands; only its validation is missing
                    log.warning("validation of %s failed: %s", persona.name, error)
            return message

        queue: asyncio.Queue[population_pb2.GeneratePopulationResponse | BaseException | None] = asyncio.Queue()

        async def produce() -> None:
            finishing: set[asyncio.Task] = set()

            async def finish_into_queue(result: PersonResult) -> None:
                await queue.put(await finish(result))

            try:
                async with contextlib.aclosing(generate_population(
                        llm, demographics, request.count, request.context, request.particularities,
                        session=session, concurrency=self._concurrency, plan=plan)) as results:
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
        yield population_pb2.GeneratePopulationResponse(summary=population_pb2.PopulationSummary(
            requested=request.count, generated=generated, failed=failed, model_calls=llm.calls))


def _failure(entry_index: int, reason: str) -> population_pb2.GeneratePopulationResponse:
    return population_pb2.GeneratePopulationResponse(
        failure=population_pb2.AgentFailure(plan_entry_index=entry_index, reason=reason))


def _parse_demographics(text: str) -> Demographics:
    if not text.strip():
        raise InvalidArgument("demographics_json", "demographics are required")
    try:
        demographics = Demographics.model_validate_json(text)
    except ValidationError as error:
        raise InvalidArgument("demographics_json",
                              f"not TinyTroupe demographics JSON: {error.errors()[0]['msg']}") from None
    if demographics.content is None and not demographics.description:
        raise InvalidArgument("demographics_json", "the demographics have neither content nor description")
    return demographics
