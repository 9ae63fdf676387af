"""Wiring of the simulation service into the shared runtime."""

from __future__ import annotations

import grpc

from services.runtime.config import MeshSettings
from services.runtime.server import ServiceDefinition
from tinytroupe.simulation.v1 import simulation_pb2, simulation_pb2_grpc

SERVICE_NAME = simulation_pb2.DESCRIPTOR.services_by_name["SimulationService"].full_name


async def register(server: grpc.aio.Server, settings: MeshSettings) -> None:
    simulation_pb2_grpc.add_SimulationServiceServicer_to_server(simulation_pb2_grpc.SimulationServiceServicer(), server)


DEFINITION = ServiceDefinition(name="simulation", service_names=(SERVICE_NAME,), register=register)
