"""Wiring of the extraction service into the shared runtime."""

from __future__ import annotations

import contextlib

import grpc
from tinytroupe_mesh_api.extraction.v1 import extraction_pb2, extraction_pb2_grpc

from services.common.model_access import ModelAccess
from services.extraction.servicer import ExtractionServicer
from services.runtime.config import MeshSettings
from services.runtime.server import ServiceDefinition

SERVICE_NAME = extraction_pb2.DESCRIPTOR.services_by_name["ResultsExtractionService"].full_name


async def register(server: grpc.aio.Server, settings: MeshSettings) -> contextlib.AbstractAsyncContextManager:
    """The servicer with its LLM client, whose cache lives in control, where exports go too."""
    access = ModelAccess.open(settings, "extraction")
    extraction_pb2_grpc.add_ResultsExtractionServiceServicer_to_server(
        ExtractionServicer(access.llm, access.control), server
    )
    return contextlib.aclosing(access)


DEFINITION = ServiceDefinition(name="extraction", service_names=(SERVICE_NAME,), register=register)
