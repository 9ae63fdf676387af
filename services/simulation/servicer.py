"""The SimulationService: validates a request, builds or loads the world, streams its rounds.

A RunSimulation with a `request_id` is answered once: a retry after the run finished streams only its
`finished` event, rebuilt from the session's `simulation_complete` world (services/common/remembered.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import grpc
import structlog
from tinytroupe_mesh_api.common.v1 import agent_pb2, study_pb2
from tinytroupe_mesh_api.simulation.v1 import simulation_pb2, simulation_pb2_grpc

from services.common.remembered import Answer, RememberedResponses, unpacked
from services.common.request_checks import request_id_violations
from services.common.violations import Violations
from services.engine.simulation import TurnSettings, new_world, plan_world
from services.llm.client import session_scope
from services.runtime.context import current_session
from services.simulation.checkpoints import WorldCheckpoints
from services.simulation.convert import agent_from_proto, config_from_proto, plan_from_proto, stimulus_from_proto
from services.simulation.stream import MeteredLLM, SimulationStream, remembered_part, replayed_finish
from services.simulation.validation import ValidRun, validate_checkpoint_name, validate_run


def bind_session(session: str) -> None:
    """Downstream calls carry the session (control's logs join ours) and our log lines name it."""
    current_session.set(session)
    structlog.contextvars.bind_contextvars(session=session)


TurnSettingsSource = Callable[[], Awaitable[TurnSettings]]
"""The turn settings of this process, resolved when first needed (they follow the model's context)."""


class SimulationServicer(simulation_pb2_grpc.SimulationServiceServicer):
    def __init__(
        self,
        llm: MeteredLLM,
        checkpoints: WorldCheckpoints,
        turn_settings: TurnSettings | TurnSettingsSource | None = None,
    ):
        self.llm = llm
        self.checkpoints = checkpoints
        self.turn_settings = turn_settings or TurnSettings()
        self.remembered = RememberedResponses(checkpoints.control)

    async def RunSimulation(
        self, request: simulation_pb2.RunSimulationRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[simulation_pb2.SimulationEvent]:
        valid = validate_run(request)
        violations = Violations()
        violations.extend(request_id_violations(request.request_id))
        violations.raise_if_any()
        bind_session(valid.session)
        await self.checkpoints.control.require_active_session(valid.session, "a simulation", field="session")

        async def replayed(answer: Answer) -> list[simulation_pb2.SimulationEvent]:
            return [
                await replayed_finish(self.checkpoints, event)
                for event in unpacked(answer, simulation_pb2.SimulationEvent)
            ]

        async for event in self.remembered.stream(
            request,
            simulation_pb2.SimulationEvent,
            lambda: self._run(request, valid),
            kept=remembered_part,
            replayed=replayed,
        ):
            yield event

    async def resolved_turn_settings(self) -> TurnSettings:
        if isinstance(self.turn_settings, TurnSettings):
            return self.turn_settings
        return await self.turn_settings()

    async def _run(
        self, request: simulation_pb2.RunSimulationRequest, valid: ValidRun
    ) -> AsyncIterator[simulation_pb2.SimulationEvent]:
        turn_settings = await self.resolved_turn_settings()
        base_agents: dict[str, agent_pb2.Agent] = {}
        agents = []
        for proto, persona in zip(request.agents, valid.personas, strict=True):
            agent = agent_from_proto(proto, persona, turn_settings.prompt.persona_chars)
            base_agents[agent.name] = proto
            agents.append(agent)
        if request.steps:
            plan = plan_from_proto(list(request.steps), request.config, [agent.name for agent in agents])
            world = plan_world(config_from_proto(request.config), plan, agents)
        else:
            world = new_world(
                config_from_proto(request.config), stimulus_from_proto(request.stimulus, valid.stimulus_targets), agents
            )
        with session_scope(self.llm, valid.session):
            stream = SimulationStream(
                self.llm,
                self.checkpoints,
                turn_settings,
                session=valid.session,
                world=world,
                base_agents=base_agents,
                usage_so_far=study_pb2.TokenUsage(),
                checkpoint_suffix=request.checkpoint_suffix,
            )
            async for event in stream.events(request.stream_actions):
                yield event

    async def ResumeSimulation(
        self, request: simulation_pb2.ResumeSimulationRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[simulation_pb2.SimulationEvent]:
        session = validate_checkpoint_name(request.checkpoint)
        bind_session(session)
        turn_settings = await self.resolved_turn_settings()
        stored, world, base_agents = await self.checkpoints.load(request.checkpoint, turn_settings.prompt.persona_chars)
        await self.checkpoints.require_active_session(session)
        with session_scope(self.llm, session):
            stream = SimulationStream(
                self.llm,
                self.checkpoints,
                turn_settings,
                session=session,
                world=world,
                base_agents=base_agents,
                usage_so_far=stored.usage,
                checkpoint_suffix=stored.checkpoint_suffix,
            )
            async for event in stream.events(request.stream_actions):
                yield event
