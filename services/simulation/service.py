"""Wiring of the simulation service into the shared runtime."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

import grpc
from tinytroupe_mesh_api.simulation.v1 import simulation_pb2, simulation_pb2_grpc

from services.common.model_access import ModelAccess
from services.engine.simulation import TurnSettings
from services.llm.context import ContextWindow
from services.runtime.config import MeshSettings
from services.runtime.server import ServiceDefinition
from services.simulation.checkpoints import WorldCheckpoints
from services.simulation.servicer import SimulationServicer

SERVICE_NAME = simulation_pb2.DESCRIPTOR.services_by_name["SimulationService"].full_name

TURN_MAX_TOKENS = 256
"""Completion budget of one agent turn (lower when LLM_MAX_TOKENS is lower)."""


def turn_settings(settings: MeshSettings, context_tokens: int) -> TurnSettings:
    """Turn settings whose prompt budgets and memory window follow a context of `context_tokens`."""
    return TurnSettings.for_context(context_tokens, min(TURN_MAX_TOKENS, settings.llm.max_tokens))


def turn_settings_source(settings: MeshSettings) -> Callable[[], Awaitable[TurnSettings]]:
    """The process's turn settings, resolved with the model's context on first use and then kept."""
    window = ContextWindow(settings.llm)

    async def resolve() -> TurnSettings:
        return turn_settings(settings, (await window.size()).tokens)

    return resolve


async def register(server: grpc.aio.Server, settings: MeshSettings) -> contextlib.AbstractAsyncContextManager:
    access = ModelAccess.open(settings, "simulation")
    servicer = SimulationServicer(access.llm, WorldCheckpoints(access.control), turn_settings_source(settings))
    simulation_pb2_grpc.add_SimulationServiceServicer_to_server(servicer, server)
    return contextlib.aclosing(access)


DEFINITION = ServiceDefinition(name="simulation", service_names=(SERVICE_NAME,), register=register)
