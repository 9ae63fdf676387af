"""Bootstrap of every server of the mesh: one `ServiceDefinition` per service, one way to run it.

A service's `__main__` is `run(DEFINITION)`. The runtime builds a `grpc.aio` server with the shared
interceptor, registers the servicer, health (overall and per service) and reflection, serves
Prometheus metrics, and on SIGTERM/SIGINT turns health to NOT_SERVING, drains calls within the grace
period and stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import start_http_server

from services.runtime.config import MeshSettings, load_settings
from services.runtime.interceptors import ServerInterceptor
from services.runtime.logging import configure_logging
from services.runtime.security import Authenticator, server_credentials
from services.runtime.tracing import configure_tracing, service_scope, shutdown_tracing

log = structlog.get_logger("server")

Register = Callable[[grpc.aio.Server, MeshSettings], Awaitable["AbstractAsyncContextManager | None"]]


@dataclass(frozen=True)
class ServiceDefinition:
    """What the runtime needs to know of a service."""

    name: str
    """Short name: control, population, ... (picks the default port)."""
    service_names: tuple[str, ...]
    """Full names of the gRPC services it serves, for health and reflection."""
    register: Register
    """Adds the servicers to the server; may return resources to open before and close after serving."""


def server_options(settings: MeshSettings) -> list[tuple[str, int]]:
    return [
        ("grpc.max_connection_age_ms", int(settings.max_connection_age_s * 1000)),
        ("grpc.max_connection_age_grace_ms", int(settings.shutdown_grace_s * 1000)),
        ("grpc.max_receive_message_length", settings.max_message_bytes),
        ("grpc.max_send_message_length", settings.max_message_bytes),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ]


@dataclass
class RunningServer:
    server: grpc.aio.Server
    health: health.aio.HealthServicer
    port: int
    definition: ServiceDefinition
    health_port: int | None = None
    """The plaintext health-only port, when `HEALTH_PORT` is set."""

    async def set_serving(self, serving: bool) -> None:
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        for name in ("", *self.definition.service_names):
            await self.health.set(name, status)


@contextlib.asynccontextmanager
async def started_server(
    definition: ServiceDefinition, settings: MeshSettings, port: int | None = None
) -> AsyncIterator[RunningServer]:
    """Starts the service's server; on exit drains it and closes its resources."""
    server = grpc.aio.server(
        interceptors=[ServerInterceptor(Authenticator(settings), definition.name)], options=server_options(settings)
    )
    with service_scope(definition.name):  # the service's own background work traces as this service
        resources = await definition.register(server, settings)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (*definition.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    bind_port = settings.grpc_port(definition.name) if port is None else port
    credentials = server_credentials(settings)
    address = f"{settings.host}:{bind_port}"
    actual_port = server.add_secure_port(address, credentials) if credentials else server.add_insecure_port(address)
    async with contextlib.AsyncExitStack() as stack:
        with service_scope(definition.name):
            if resources is not None:
                await stack.enter_async_context(resources)
            await server.start()
        health_port = None
        if settings.health_port is not None:
            health_port = await stack.enter_async_context(_health_only_server(health_servicer, settings))
        running = RunningServer(server, health_servicer, actual_port, definition, health_port)
        await running.set_serving(True)
        try:
            yield running
        finally:
            await running.set_serving(False)
            await server.stop(settings.shutdown_grace_s)


@contextlib.asynccontextmanager
async def _health_only_server(health_servicer: health.aio.HealthServicer, settings: MeshSettings) -> AsyncIterator[int]:
    """A second server, plaintext, with nothing but the health service: it answers probes while the
    main port requires client certificates, and it reveals nothing but SERVING or NOT_SERVING."""
    server = grpc.aio.server()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    port = server.add_insecure_port(f"{settings.host}:{settings.health_port}")
    await server.start()
    log.info("health_port", port=port, detail="plaintext, health checks only")
    try:
        yield port
    finally:
        await server.stop(0)


async def serve(definition: ServiceDefinition, settings: MeshSettings | None = None) -> None:
    """Serves until SIGTERM or SIGINT, then drains and stops."""
    settings = settings or load_settings()
    configure_logging(definition.name, settings.log_level, settings.log_format)
    if configure_tracing(definition.name):
        log.info("tracing", detail="spans exported as the OTEL_* variables say")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    metrics_port = settings.prometheus_port(definition.name)
    if metrics_port:
        start_http_server(metrics_port, addr=settings.host)
    try:
        async with started_server(definition, settings) as running:
            log.info(
                "serving",
                port=running.port,
                metrics_port=metrics_port or None,
                host=settings.host,
                services=list(definition.service_names),
            )
            await stop.wait()
            log.info("draining", grace_s=settings.shutdown_grace_s)
    finally:
        shutdown_tracing()  # exports the spans still queued
    log.info("stopped")


def run(definition: ServiceDefinition) -> None:
    """Process entry point of a service."""
    asyncio.run(serve(definition))
