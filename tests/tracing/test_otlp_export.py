"""A server process with OTEL_EXPORTER_OTLP_ENDPOINT set sends its spans over OTLP/gRPC, and its log lines
carry the ids of the trace they belong to."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from tinytroupe_mesh_api.control.v1 import control_pb2, control_pb2_grpc

ROOT = Path(__file__).resolve().parents[2]
BEGIN_SESSION = "tinytroupe.control.v1.SimulationControlService/BeginSession"


class Collector(trace_service_pb2_grpc.TraceServiceServicer):
    """An OTLP trace receiver that keeps what it is sent."""

    def __init__(self) -> None:
        self.requests: list[trace_service_pb2.ExportTraceServiceRequest] = []

    async def Export(self, request, context):
        self.requests.append(request)
        return trace_service_pb2.ExportTraceServiceResponse()

    def spans(self) -> list[tuple[str, object]]:
        """(service.name, span) of every span received."""
        found = []
        for request in self.requests:
            for resource_spans in request.resource_spans:
                attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    found += [(attributes.get("service.name"), span) for span in scope_spans.spans]
        return found


@pytest.mark.slow
async def test_a_server_process_exports_its_spans_over_otlp(tmp_path):
    collector = Collector()
    receiver = grpc.aio.server()
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(collector, receiver)
    collector_port = receiver.add_insecure_port("127.0.0.1:0")
    await receiver.start()
    env = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    env |= {
        "PORT": "0",
        "METRICS_PORT": "0",
        "DATA_DIR": str(tmp_path),
        "SHUTDOWN_GRACE_S": "1",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector_port}",
        "OTEL_EXPORTER_OTLP_INSECURE": "true",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.control", cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        port = None
        while port is None:
            line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
            assert line, "server exited before serving"
            event = json.loads(line)
            port = event["port"] if event.get("event") == "serving" else None
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            session = await control_pb2_grpc.SimulationControlServiceStub(channel).BeginSession(
                control_pb2.BeginSessionRequest(session=control_pb2.Session(display_name="traced")), timeout=10
            )
        process.send_signal(signal.SIGTERM)  # shutting down exports what is queued
        assert await asyncio.wait_for(process.wait(), timeout=30) == 0
        lines = [json.loads(line) for line in (await process.stdout.read()).decode().splitlines() if line.strip()]
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await receiver.stop(0)

    [(service, span)] = [(service, span) for service, span in collector.spans() if span.name == BEGIN_SESSION]
    assert service == "tinytroupe-control"
    assert span.kind == span.SPAN_KIND_SERVER
    [logged] = [line for line in lines if line.get("event") == "rpc" and line.get("grpc_method") == "BeginSession"]
    assert logged["trace_id"] == span.trace_id.hex() and logged["span_id"] == span.span_id.hex()
    assert session.name
