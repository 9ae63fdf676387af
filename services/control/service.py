"""Wiring of the control service into the shared runtime."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

import grpc
from tinytroupe_mesh_api.control.v1 import control_pb2, control_pb2_grpc

from services.control.servicer import ControlServicer
from services.control.storage import create_storage
from services.control.storage.base import Storage
from services.control.sweeper import RetentionPolicy, Sweeper
from services.runtime.config import MeshSettings
from services.runtime.server import ServiceDefinition

SERVICE_NAME = control_pb2.DESCRIPTOR.services_by_name["SimulationControlService"].full_name


def retention_policy(settings: MeshSettings) -> RetentionPolicy:
    return RetentionPolicy(
        session_retention=timedelta(seconds=settings.session_retention_s),
        idle_timeout=timedelta(seconds=settings.session_idle_timeout_s),
        cache_entry_max_age=timedelta(seconds=settings.cache_entry_max_age_s),
    )


@contextlib.asynccontextmanager
async def _lifetime(storage: Storage, settings: MeshSettings) -> AsyncIterator[None]:
    """Opens (and migrates) the storage before serving, sweeps while serving, closes after the drain."""
    await storage.open()
    try:
        async with Sweeper(storage, settings.sweep_interval_s, retention_policy(settings)).running():
            yield
    finally:
        await storage.close()


async def register(server: grpc.aio.Server, settings: MeshSettings) -> contextlib.AbstractAsyncContextManager:
    storage = create_storage(settings)
    servicer = ControlServicer(storage, session_retention=retention_policy(settings).session_retention)
    control_pb2_grpc.add_SimulationControlServiceServicer_to_server(servicer, server)
    return _lifetime(storage, settings)


DEFINITION = ServiceDefinition(name="control", service_names=(SERVICE_NAME,), register=register)
