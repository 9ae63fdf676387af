"""Making a study's participants by mode, with fragments merged and expectations validated.

`custom` descriptions become grounded personas: ContentService.CreateGroundedPersona with the
description as the single grounding source, so every fact of the persona is traced to it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import grpc
from tinytroupe_mesh_api.common.v1 import agent_pb2
from tinytroupe_mesh_api.content.v1 import content_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2
from tinytroupe_mesh_api.population.v1 import population_pb2

from services.common.model_errors import is_model_failure
from services.common.names import last_segment
from services.orchestrator.downstream import Downstream
from services.orchestrator.fan_out import merge_created, part_ranges, population_part
from services.orchestrator.panels import panel_participants
from services.orchestrator.progress import ProgressTracker
from services.orchestrator.validation import agent_specs_of_population
from services.runtime.context import propagated_metadata
from services.runtime.errors import FailedPrecondition, InvalidArgument, error_reason

Mode = orchestrator_pb2.Participants.Mode
STUDY_WIDE_FAILURES = frozenset(
    {
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.CANCELLED,
    }
)
"""Codes that say the service, not the agent, failed: they fail the study instead of one participant
(unless the error's reason says the agent's own model call failed)."""
FailurePhase = orchestrator_pb2.FailurePhase
Failure = orchestrator_pb2.ParticipantFailure
Validated = orchestrator_pb2.AgentValidation | orchestrator_pb2.ParticipantFailure


SESSION_FAILURES = frozenset({"SESSION_NOT_ACTIVE"})
"""Reasons that say the study's session, not the agent, is the problem."""


def fails_the_study(error: grpc.aio.AioRpcError) -> bool:
    """Whether a downstream error is the service's or the session's (study-wide) rather than one agent's."""
    reason = error_reason(error)
    if reason in SESSION_FAILURES or (error.code() == grpc.StatusCode.NOT_FOUND and "session" in error.details()):
        return True
    return error.code() in STUDY_WIDE_FAILURES and not is_model_failure(reason)


class ParticipantFactory:
    """Makes the participants of one study in its session."""

    def __init__(
        self,
        downstream: Downstream,
        session: str,
        progress: ProgressTracker,
        *,
        concurrency: int,
        long_call_timeout_s: float,
        request_suffix: str = "",
        fan_out_chunk: int = 0,
    ):
        self.fan_out_chunk = fan_out_chunk
        """Most persons one GeneratePopulation call makes (services/orchestrator/fan_out.py); 0: no limit."""
        self.downstream = downstream
        self.session = session
        self.progress = progress
        self.concurrency = asyncio.Semaphore(concurrency)
        self.long_call_timeout_s = long_call_timeout_s
        self.session_id = last_segment(session)
        self.request_suffix = request_suffix

    async def create(self, participants: orchestrator_pb2.Participants) -> orchestrator_pb2.AgentsCreated:
        if participants.mode == Mode.MODE_FROM_DEMOGRAPHICS:
            created = await self._generate(participants)
        elif participants.mode == Mode.MODE_FROM_PANEL:
            created = await panel_participants(self.downstream.control, participants)
            self.progress.update(agents_total=len(created.agents), agents_done=len(created.agents), agents_failed=0)
            if participants.expectations and created.agents:
                await self._validate(created, participants.expectations, participants.min_validation_score)
        else:
            makers = self._makers(participants)
            self.progress.update(agents_total=len(makers), agents_done=0, agents_failed=0)
            created = await self._make_each(makers)
            if participants.expectations and created.agents:
                await self._validate(created, participants.expectations, participants.min_validation_score)
        if not created.agents:
            reasons = "; ".join(dict.fromkeys(failure.reason for failure in created.failures[:3]))
            raise FailedPrecondition("NO_PARTICIPANTS", f"no participant could be made: {reasons}")
        return created

    def _makers(self, participants: orchestrator_pb2.Participants) -> list[tuple[str, Callable[[], Awaitable]]]:
        """(field, make) for each agent; make() returns the Agent."""
        specs = list(participants.specifications)
        sources = list(participants.specification_sources)

        def source_of(index: int, default: str) -> str:
            return sources[index] if index < len(sources) and sources[index] else default

        if participants.mode == Mode.MODE_FROM_AGENT:
            return [
                (
                    f"participants.specifications[{index}]",
                    self._loader(spec, source_of(index, f"specifications[{index}]"), participants),
                )
                for index, spec in enumerate(specs)
            ]
        if participants.mode == Mode.MODE_FROM_POPULATION:
            population_source = source_of(0, "population")
            return [
                (
                    f"participants.specifications[0][{index}]",
                    self._loader(json.dumps(spec), f"{population_source}[{index}]", participants),
                )
                for index, spec in enumerate(agent_specs_of_population(specs[0]))
            ]
        return [
            (
                f"participants.specifications[{index}]",
                self._grounded(description, source_of(index, f"description-{index + 1}"), index, participants),
            )
            for index, description in enumerate(specs)
        ]

    def _loader(self, spec_json: str, source: str, participants: orchestrator_pb2.Participants):
        async def load() -> agent_pb2.Agent:
            return await self.downstream.population.LoadAgent(
                population_pb2.LoadAgentRequest(
                    session=self.session,
                    spec_json=spec_json,
                    fragments=participants.fragments,
                    source=source,
                    context=participants.context,
                )
            )

        return load

    def _grounded(self, description: str, source: str, index: int, participants: orchestrator_pb2.Participants):
        async def ground() -> agent_pb2.Agent:
            response = await self.downstream.content.CreateGroundedPersona(
                content_pb2.CreateGroundedPersonaRequest(
                    session=self.session,
                    sources=[content_pb2.GroundingSource(name=source, text=description, mime_type="text/plain")],
                    fragments=participants.fragments,
                    context=participants.context,
                    request_id=f"{self.session_id}-persona-{index}{self.request_suffix}",
                ),
                timeout=self.long_call_timeout_s,
            )
            return response.agent

        return ground

    async def _make_each(self, makers: list[tuple[str, Callable[[], Awaitable]]]) -> orchestrator_pb2.AgentsCreated:
        outcomes: list[agent_pb2.Agent | orchestrator_pb2.ParticipantFailure | None] = [None] * len(makers)

        async def make(index: int, field: str, maker: Callable[[], Awaitable]) -> None:
            async with self.concurrency:
                try:
                    outcomes[index] = await maker()
                except grpc.aio.AioRpcError as error:
                    if error.code() == grpc.StatusCode.INVALID_ARGUMENT:
                        raise InvalidArgument(field, error.details() or "invalid specification") from None
                    if fails_the_study(error):
                        raise
                    outcomes[index] = orchestrator_pb2.ParticipantFailure(
                        index=index,
                        reason=f"{error.code().name}: {error.details()}",
                        phase=FailurePhase.FAILURE_PHASE_CREATION,
                    )
            self._report(outcomes)

        await run_all([make(index, field, maker) for index, (field, maker) in enumerate(makers)])
        created = orchestrator_pb2.AgentsCreated(requested=len(makers))
        for outcome in outcomes:
            if isinstance(outcome, agent_pb2.Agent):
                created.agents.append(outcome)
            else:
                created.failures.append(outcome)
        return created

    def _report(self, outcomes: list) -> None:
        self.progress.update(
            agents_done=sum(isinstance(outcome, agent_pb2.Agent) for outcome in outcomes),
            agents_failed=sum(isinstance(outcome, orchestrator_pb2.ParticipantFailure) for outcome in outcomes),
        )

    async def _generate(self, participants: orchestrator_pb2.Participants) -> orchestrator_pb2.AgentsCreated:
        self.progress.update(agents_total=participants.count, agents_done=0, agents_failed=0)
        request = population_pb2.GeneratePopulationRequest(
            session=self.session,
            demographics_json=participants.specifications[0],
            count=participants.count,
            context=participants.context,
            particularities=participants.particularities,
            fragments=participants.fragments,
            request_id=f"{self.session_id}-population{self.request_suffix}",
            expectations=participants.expectations,
            min_validation_score=participants.min_validation_score,
        )
        ranges = part_ranges(participants.count, self.fan_out_chunk)
        if len(ranges) == 1:
            created = await self._generate_part(request, [])
        else:
            plan = await self._plan(request)
            parts: list[orchestrator_pb2.AgentsCreated] = []
            created = merge_created(
                await run_all(
                    [
                        self._generate_part(population_part(request, plan, index, first, count), parts)
                        for index, (first, count) in enumerate(ranges)
                    ]
                ),
                participants.count,
            )
        agents = sorted(created.agents, key=lambda agent: agent.name)
        del created.agents[:]
        created.agents.extend(agents)
        return created

    async def _plan(self, request: population_pb2.GeneratePopulationRequest) -> population_pb2.PopulationPlan:
        """The population's sampling plan, made once for all its parts."""
        asked = population_pb2.GeneratePopulationRequest()
        asked.CopyFrom(request)
        asked.plan_only = True
        asked.request_id = f"{request.request_id}-plan"
        async for event in self._population_stream(asked):
            if event.WhichOneof("event") == "plan":
                return event.plan
        raise FailedPrecondition("NO_POPULATION_PLAN", "the population service gave no sampling plan")

    def _population_stream(self, request: population_pb2.GeneratePopulationRequest):
        return self.downstream.population.GeneratePopulation(
            request, timeout=self.long_call_timeout_s, metadata=propagated_metadata()
        )

    async def _generate_part(
        self, request: population_pb2.GeneratePopulationRequest, parts: list[orchestrator_pb2.AgentsCreated]
    ) -> orchestrator_pb2.AgentsCreated:
        """One GeneratePopulation call's agents, failures and validations (`parts`: all the calls' so far,
        for the progress)."""
        created = orchestrator_pb2.AgentsCreated(requested=request.member_count or request.count)
        parts.append(created)
        async for event in self._population_stream(request):
            kind = event.WhichOneof("event")
            if kind == "agent":
                created.agents.append(event.agent)
                if event.HasField("validation"):
                    created.validations.append(_validation(event.agent.name, event.validation))
            elif kind == "failure":
                under_minimum = event.failure.HasField("validation")
                created.failures.append(
                    orchestrator_pb2.ParticipantFailure(
                        agent_name=event.failure.agent_name,
                        index=event.failure.plan_entry_index,
                        reason=event.failure.reason,
                        phase=FailurePhase.FAILURE_PHASE_VALIDATION
                        if under_minimum
                        else FailurePhase.FAILURE_PHASE_CREATION,
                    )
                )
                if under_minimum:
                    created.validations.append(_validation(event.failure.agent_name, event.failure.validation))
            elif kind == "summary":
                created.usage.calls += event.summary.model_calls
            self.progress.update(
                agents_done=sum(len(part.agents) for part in parts),
                agents_failed=sum(len(part.failures) for part in parts),
            )
        return created

    async def _validate(
        self, created: orchestrator_pb2.AgentsCreated, expectations: str, min_score: float = 0.0
    ) -> None:
        """Validates every agent (an interview judged against the expectations); an agent whose validation
        fails, or scores under `min_score`, is that agent's failure (it leaves the study, its validation
        is kept), while a failure of the service itself fails the study."""

        async def validate(agent: agent_pb2.Agent) -> Validated:
            async with self.concurrency:
                try:
                    response = await self.downstream.population.ValidateAgent(
                        population_pb2.ValidateAgentRequest(
                            session=self.session, agent=agent, expectations=expectations
                        ),
                        timeout=self.long_call_timeout_s,
                    )
                except grpc.aio.AioRpcError as error:
                    if fails_the_study(error):
                        raise
                    return orchestrator_pb2.ParticipantFailure(
                        agent_name=agent.name,
                        index=-1,
                        reason=f"{error.code().name}: {error.details()}",
                        phase=FailurePhase.FAILURE_PHASE_VALIDATION,
                    )
            return _validation(agent.name, response)

        outcomes = await run_all([validate(agent) for agent in created.agents])
        for index, outcome in enumerate(outcomes):
            if isinstance(outcome, orchestrator_pb2.AgentValidation) and min_score and outcome.score < min_score:
                created.validations.append(outcome)  # kept: the result shows why the agent left
                outcomes[index] = orchestrator_pb2.ParticipantFailure(
                    agent_name=outcome.agent_name,
                    index=-1,
                    reason=f"validation score {outcome.score:.2f} is under the minimum {min_score:g}: "
                    f"{outcome.justification}",
                    phase=FailurePhase.FAILURE_PHASE_VALIDATION,
                )
        failed = {outcome.agent_name for outcome in outcomes if isinstance(outcome, Failure)}
        kept = [agent for agent in created.agents if agent.name not in failed]
        del created.agents[:]
        created.agents.extend(kept)
        for outcome in outcomes:
            if isinstance(outcome, Failure):
                created.failures.append(outcome)
            else:
                created.validations.append(outcome)
        self.progress.update(agents_done=len(kept), agents_failed=len(created.failures))


def _validation(agent_name: str, response: population_pb2.ValidateAgentResponse) -> orchestrator_pb2.AgentValidation:
    return orchestrator_pb2.AgentValidation(
        agent_name=agent_name,
        score=response.score,
        justification=response.justification,
        interview=response.interview,
    )


async def run_all(coroutines: list[Awaitable]) -> list:
    """Runs the coroutines concurrently; the first failure cancels the others and is raised as is."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(coroutine) for coroutine in coroutines]
    except BaseExceptionGroup as failures:
        raise failures.exceptions[0] from None
    return [task.result() for task in tasks]
