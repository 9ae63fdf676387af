"""Every server of the mesh starts, answers health checks and lists its services over reflection."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from services.runtime.config import SERVICE_NAMES, MeshSettings
from services.runtime.testing import serving

ROOT = Path(__file__).resolve().parents[2]


def definition_of(name: str):
    return importlib.import_module(f"services.{name}.service").DEFINITION


async def list_services(channel: grpc.aio.Channel) -> set[str]:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    call = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    async for response in call:
        return {service.name for service in response.list_services_response.service}
    return set()


@pytest.mark.parametrize("name", SERVICE_NAMES)
async def test_server_answers_health_and_reflection(name, tmp_path):
    definition = definition_of(name)
    async with serving(definition, MeshSettings(data_dir=tmp_path)) as address:
        async with grpc.aio.insecure_channel(address) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            for service in ("", *definition.service_names):
                reply = await health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
                assert reply.status == health_pb2.HealthCheckResponse.SERVING
            with pytest.raises(grpc.aio.AioRpcError) as unknown:
                await health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=5)
            assert unknown.value.code() == grpc.StatusCode.NOT_FOUND

            listed = await list_services(channel)
            assert set(definition.service_names) <= listed
            assert "grpc.health.v1.Health" in listed


async def test_unexpected_errors_become_internal_without_stack_traces(tmp_path):
    """A servicer bug answers INTERNAL with a generic message; the traceback stays in the log."""
    from tinytroupe_mesh_api.extraction.v1 import extraction_pb2, extraction_pb2_grpc

    from services.runtime.errors import InvalidArgument
    from services.runtime.server import ServiceDefinition

    class Broken(extraction_pb2_grpc.ResultsExtractionServiceServicer):
        async def ExtractResults(self, request, context):
            raise KeyError("secret internals")

        async def ExportResults(self, request, context):
            raise InvalidArgument("format", "must be JSON or CSV")

    async def register(server, settings):
        extraction_pb2_grpc.add_ResultsExtractionServiceServicer_to_server(Broken(), server)

    definition = ServiceDefinition("extraction", ("tinytroupe.extraction.v1.ResultsExtractionService",), register)
    async with serving(definition, MeshSettings(data_dir=tmp_path)) as address:
        async with grpc.aio.insecure_channel(address) as channel:
            stub = extraction_pb2_grpc.ResultsExtractionServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as broken:
                await stub.ExtractResults(extraction_pb2.ExtractResultsRequest(), timeout=5)
            assert broken.value.code() == grpc.StatusCode.INTERNAL
            assert "secret internals" not in broken.value.details()
            assert "Traceback" not in broken.value.details()

            with pytest.raises(grpc.aio.AioRpcError) as invalid:
                await stub.ExportResults(extraction_pb2.ExportResultsRequest(), timeout=5)
            assert invalid.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            status = rpc_status.from_call(invalid.value)
            bad_request = error_details_pb2.BadRequest()
            info = error_details_pb2.ErrorInfo()
            assert any(d.Unpack(bad_request) for d in status.details)
            assert any(d.Unpack(info) for d in status.details)
            assert [v.field for v in bad_request.field_violations] == ["format"]
            assert info.domain == "tinytroupe.io"


@pytest.mark.slow
async def test_server_process_drains_on_sigterm(tmp_path):
    """`python -m services.<name>` logs its port as JSON, serves, and exits cleanly on SIGTERM."""
    env = {**os.environ, "PORT": "0", "METRICS_PORT": "0", "DATA_DIR": str(tmp_path), "SHUTDOWN_GRACE_S": "1"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.population", cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        port = None
        while port is None:
            line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
            assert line, "server exited before serving"
            event = json.loads(line)
            if event.get("event") == "serving":
                port = event["port"]
                assert event["service"] == "population"
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=15) == 0
        remaining = (await process.stdout.read()).decode()
        assert '"event": "stopped"' in remaining
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
