"""Wiring of the population service into the shared runtime."""

from __future__ import annotations

import grpc

from services.runtime.config import MeshSettings
from services.runtime.server import ServiceDefinition
from tinytroupe.population.v1 import population_pb2, population_pb2_grpc

SERVICE_NAME = population_pb2.DESCRIPTOR.services_by_name["PopulationService"].full_name


async def register(server: grpc.aio.Server, settings: MeshSettings) -> None:
    population_pb2_grpc.add_PopulationServiceServicer_to_server(
        population_pb2_grpc.PopulationServiceServicer(), server)


DEFINITION = ServiceDefinition(name="population", service_names=(SERVICE_NAME,), register=register)
