"""Wiring of the content service into the shared runtime."""

from __future__ import annotations

import contextlib

import grpc
from tinytroupe_mesh_api.content.v1 import content_pb2, content_pb2_grpc

from services.common.model_access import ModelAccess
from services.content.servicer import ContentServicer
from services.runtime.config import MeshSettings
from services.runtime.server import ServiceDefinition

SERVICE_NAME = content_pb2.DESCRIPTOR.services_by_name["ContentService"].full_name


async def register(server: grpc.aio.Server, settings: MeshSettings) -> contextlib.AbstractAsyncContextManager:
    """The servicer with its LLM client (its cache in control), recording texts in control."""
    access = ModelAccess.open(settings, "content")
    content_pb2_grpc.add_ContentServiceServicer_to_server(ContentServicer(access.llm, access.control), server)
    return contextlib.aclosing(access)


DEFINITION = ServiceDefinition(name="content", service_names=(SERVICE_NAME,), register=register)
