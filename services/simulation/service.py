"""Wiring of the simulation service into the shared runtime."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import grpc
from tinytroupe.control.v1 import control_pb2_grpc
from tinytroupe.simulation.v1 import simulation_pb2, simulation_pb2_grpc

from services.engine.simulation import TurnSettings
from services.llm import LLMClient
from services.llm.control_cache import ControlResponseCache
from services.runtime.clients import open_channel
from services.runtime.config import MeshSettings
from services.runtime.server import ServiceDefinition
from services.simulation.checkpoints import WorldCheckpoints
from services.simulation.servicer import SimulationServicer

SERVICE_NAME = simulation_pb2.DESCRIPTOR.services_by_name["SimulationService"].full_name

TURN_MAX_TOKENS = 256
"""Completion budget of one agent turn (lower when LLM_MAX_TOKENS is lower)."""


def turn_settings(settings: MeshSettings) -> TurnSettings:
    return TurnSettings(max_tokens=min(TURN_MAX_TOKENS, settings.llm.max_tokens))


@contextlib.asynccontextmanager
async def _closing(channel: grpc.aio.Channel, llm: LLMClient) -> AsyncIterator[None]:
    try:
        yield
    finally:
        await llm.aclose()
        await channel.close()


async def register(server: grpc.aio.Server, settings: MeshSettings) -> contextlib.AbstractAsyncContextManager:
    control_channel = open_channel(settings.control_address, settings)
    llm = LLMClient(settings.llm, cache=ControlResponseCache(control_channel))
    checkpoints = WorldCheckpoints(control_pb2_grpc.SimulationControlServiceStub(control_channel))
    servicer = SimulationServicer(llm, checkpoints, turn_settings(settings))
    simulation_pb2_grpc.add_SimulationServiceServicer_to_server(servicer, server)
    return _closing(control_channel, llm)


DEFINITION = ServiceDefinition(name="simulation", service_names=(SERVICE_NAME,), register=register)
