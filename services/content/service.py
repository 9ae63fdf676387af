"""Wiring of the content service into the shared runtime."""

from __future__ import annotations

import grpc

from services.runtime.config import MeshSettings
from services.runtime.server import ServiceDefinition
from tinytroupe.content.v1 import content_pb2, content_pb2_grpc

SERVICE_NAME = content_pb2.DESCRIPTOR.services_by_name["ContentService"].full_name


async def register(server: grpc.aio.Server, settings: MeshSettings) -> None:
    content_pb2_grpc.add_ContentServiceServicer_to_server(content_pb2_grpc.ContentServiceServicer(), server)


DEFINITION = ServiceDefinition(name="content", service_names=(SERVICE_NAME,), register=register)
