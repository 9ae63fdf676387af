"""Wiring of the simulation service into the shared runtime."""

from __future__ import annotations

import contextlib

import grpc
from tinytroupe.simulation.v1 import simulation_pb2, simulation_pb2_grpc

from services.common.model_access import ModelAccess
from services.engine.simulation import TurnSettings
from services.runtime.config import MeshSettings
from services.runtime.server import ServiceDefinition
from services.simulation.checkpoints import WorldCheckpoints
from services.simulation.servicer import SimulationServicer

SERVICE_NAME = simulation_pb2.DESCRIPTOR.services_by_name["SimulationService"].full_name

TURN_MAX_TOKENS = 256
"""Completion budget of one agent turn (lower when LLM_MAX_TOKENS is lower)."""


def turn_settings(settings: MeshSettings) -> TurnSettings:
    return TurnSettings(max_tokens=min(TURN_MAX_TOKENS, settings.llm.max_tokens))


async def register(server: grpc.aio.Server, settings: MeshSettings) -> contextlib.AbstractAsyncContextManager:
    access = ModelAccess.open(settings)
    servicer = SimulationServicer(access.llm, WorldCheckpoints(access.control), turn_settings(settings))
    simulation_pb2_grpc.add_SimulationServiceServicer_to_server(servicer, server)
    return contextlib.aclosing(access)


DEFINITION = ServiceDefinition(name="simulation", service_names=(SERVICE_NAME,), register=register)
