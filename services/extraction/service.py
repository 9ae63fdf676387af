"""Wiring of the extraction service into the shared runtime."""

from __future__ import annotations

import grpc

from services.runtime.config import MeshSettings
from services.runtime.server import ServiceDefinition
from tinytroupe.extraction.v1 import extraction_pb2, extraction_pb2_grpc

SERVICE_NAME = extraction_pb2.DESCRIPTOR.services_by_name["ResultsExtractionService"].full_name


async def register(server: grpc.aio.Server, settings: MeshSettings) -> None:
    extraction_pb2_grpc.add_ResultsExtractionServiceServicer_to_server(extraction_pb2_grpc.ResultsExtractionServiceServicer(), server)


DEFINITION = ServiceDefinition(name="extraction", service_names=(SERVICE_NAME,), register=register)
