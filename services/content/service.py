"""Wiring of the content service into the shared runtime."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import grpc
from tinytroupe.content.v1 import content_pb2, content_pb2_grpc
from tinytroupe.control.v1 import control_pb2_grpc

from services.content.servicer import ContentServicer
from services.llm import close_llm_client, get_llm_client
from services.llm.control_cache import ControlResponseCache
from services.runtime.clients import open_channel
from services.runtime.config import MeshSettings
from services.runtime.server import ServiceDefinition

SERVICE_NAME = content_pb2.DESCRIPTOR.services_by_name["ContentService"].full_name


@contextlib.asynccontextmanager
async def _lifetime(control_channel: grpc.aio.Channel) -> AsyncIterator[None]:
    try:
        yield
    finally:
        await close_llm_client()
        await control_channel.close()


async def register(server: grpc.aio.Server, settings: MeshSettings) -> contextlib.AbstractAsyncContextManager:
    """The servicer with the process's LLM client (its cache in control), recording texts in control."""
    control_channel = open_channel(settings.control_address, settings)
    llm = get_llm_client(settings.llm, cache=ControlResponseCache(control_channel))
    servicer = ContentServicer(llm, control_pb2_grpc.SimulationControlServiceStub(control_channel))
    content_pb2_grpc.add_ContentServiceServicer_to_server(servicer, server)
    return _lifetime(control_channel)


DEFINITION = ServiceDefinition(name="content", service_names=(SERVICE_NAME,), register=register)
