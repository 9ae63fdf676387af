"""Wiring of the control service into the shared runtime."""

from __future__ import annotations

import grpc

from services.runtime.config import MeshSettings
from services.runtime.server import ServiceDefinition
from tinytroupe.control.v1 import control_pb2, control_pb2_grpc

SERVICE_NAME = control_pb2.DESCRIPTOR.services_by_name["SimulationControlService"].full_name


async def register(server: grpc.aio.Server, settings: MeshSettings) -> None:
    control_pb2_grpc.add_SimulationControlServiceServicer_to_server(
        control_pb2_grpc.SimulationControlServiceServicer(), server)


DEFINITION = ServiceDefinition(name="control", service_names=(SERVICE_NAME,), register=register)
