"""Wiring of the population service into the shared runtime."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import grpc
from tinytroupe.population.v1 import population_pb2, population_pb2_grpc

from services.llm import close_llm_client, get_llm_client
from services.llm.control_cache import ControlResponseCache
from services.population.servicer import DEFAULT_CONCURRENCY, PopulationServicer
from services.runtime.clients import open_channel
from services.runtime.config import MeshSettings
from services.runtime.server import ServiceDefinition

SERVICE_NAME = population_pb2.DESCRIPTOR.services_by_name["PopulationService"].full_name


@contextlib.asynccontextmanager
async def _lifetime(control_channel: grpc.aio.Channel) -> AsyncIterator[None]:
    try:
        yield
    finally:
        await close_llm_client()
        await control_channel.close()


async def register(server: grpc.aio.Server, settings: MeshSettings) -> contextlib.AbstractAsyncContextManager:
    """The servicer with the process's LLM client, whose response cache lives in control."""
    control_channel = open_channel(settings.control_address, settings)
    llm = get_llm_client(settings.llm, cache=ControlResponseCache(control_channel))
    concurrency = settings.llm.max_concurrency if settings.llm.max_concurrency > 0 else DEFAULT_CONCURRENCY
    population_pb2_grpc.add_PopulationServiceServicer_to_server(PopulationServicer(llm, concurrency), server)
    return _lifetime(control_channel)


DEFINITION = ServiceDefinition(name="population", service_names=(SERVICE_NAME,), register=register)
