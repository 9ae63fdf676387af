"""The SimulationService: validates a request, builds or loads the world, streams its rounds."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import structlog
from tinytroupe.common.v1 import agent_pb2, study_pb2
from tinytroupe.simulation.v1 import simulation_pb2, simulation_pb2_grpc

from services.engine.simulation import TurnSettings, new_world
from services.llm.client import session_scope
from services.runtime.context import current_session
from services.simulation.checkpoints import WorldCheckpoints
from services.simulation.convert import agent_from_proto, config_from_proto, stimulus_from_proto
from services.simulation.stream import MeteredLLM, SimulationStream
from services.simulation.validation import validate_checkpoint_name, validate_run


def bind_session(session: str) -> None:
    """Downstream calls carry the session (control's logs join ours) and our log lines name it."""
    current_session.set(session)
    structlog.contextvars.bind_contextvars(session=session)


class SimulationServicer(simulation_pb2_grpc.SimulationServiceServicer):
    def __init__(self, llm: MeteredLLM, checkpoints: WorldCheckpoints, turn_settings: TurnSettings | None = None):
        self.llm = llm
        self.checkpoints = checkpoints
        self.turn_settings = turn_settings or TurnSettings()

    async def RunSimulation(self, request: simulation_pb2.RunSimulationRequest,
                            context: grpc.aio.ServicerContext) -> AsyncIterator[simulation_pb2.SimulationEvent]:
        valid = validate_run(request)
        bind_session(valid.session)
        await self.checkpoints.require_active_session(valid.session)
        base_agents: dict[str, agent_pb2.Agent] = {}
        agents = []
        for proto, persona in zip(request.agents, valid.personas, strict=True):
            agent = agent_from_proto(proto, persona)
            base_agents[agent.name] = proto
            agents.append(agent)
        world = new_world(config_from_proto(request.config),
                          stimulus_from_proto(request.stimulus, valid.stimulus_targets), agents)
        with session_scope(self.llm, valid.session):
            stream = SimulationStream(self.llm, self.checkpoints, self.turn_settings, session=valid.session,
                                      world=world, base_agents=base_agents, usage_so_far=study_pb2.TokenUsage())
            async for event in stream.events(request.stream_actions):
                yield event

    async def ResumeSimulation(self, request: simulation_pb2.ResumeSimulationRequest,
                               context: grpc.aio.ServicerContext) -> AsyncIterator[simulation_pb2.SimulationEvent]:
        session = validate_checkpoint_name(request.checkpoint)
        bind_session(session)
        stored, world, base_agents = await self.checkpoints.load(request.checkpoint)
        await self.checkpoints.require_active_session(session)
        with session_scope(self.llm, session):
            stream = SimulationStream(self.llm, self.checkpoints, self.turn_settings, session=session, world=world,
                                      base_agents=base_agents, usage_so_far=stored.usage)
            async for event in stream.events(request.stream_actions):
                yield event
