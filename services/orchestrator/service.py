"""Wiring of the orchestrator service into the shared runtime."""

from __future__ import annotations

import grpc

from services.runtime.config import MeshSettings
from services.runtime.server import ServiceDefinition
from tinytroupe.orchestrator.v1 import orchestrator_pb2, orchestrator_pb2_grpc

SERVICE_NAME = orchestrator_pb2.DESCRIPTOR.services_by_name["OrchestratorService"].full_name


async def register(server: grpc.aio.Server, settings: MeshSettings) -> None:
    orchestrator_pb2_grpc.add_OrchestratorServiceServicer_to_server(orchestrator_pb2_grpc.OrchestratorServiceServicer(), server)


DEFINITION = ServiceDefinition(name="orchestrator", service_names=(SERVICE_NAME,), register=register)
