"""Wiring of the population service into the shared runtime."""

from __future__ import annotations

import contextlib

import grpc
from tinytroupe_mesh_api.population.v1 import population_pb2, population_pb2_grpc

from services.common.model_access import ModelAccess
from services.population.servicer import DEFAULT_CONCURRENCY, PopulationServicer
from services.runtime.config import MeshSettings
from services.runtime.server import ServiceDefinition

SERVICE_NAME = population_pb2.DESCRIPTOR.services_by_name["PopulationService"].full_name


async def register(server: grpc.aio.Server, settings: MeshSettings) -> contextlib.AbstractAsyncContextManager:
    """The servicer with its LLM client, whose response cache lives in control, and its client of control."""
    access = ModelAccess.open(settings, "population")
    concurrency = settings.llm.max_concurrency if settings.llm.max_concurrency > 0 else DEFAULT_CONCURRENCY
    servicer = PopulationServicer(access.llm, access.control, concurrency)
    population_pb2_grpc.add_PopulationServiceServicer_to_server(servicer, server)
    return contextlib.aclosing(access)


DEFINITION = ServiceDefinition(name="population", service_names=(SERVICE_NAME,), register=register)
