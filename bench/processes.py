"""The processes every benchmark starts: the model endpoint and the mesh, each a real server on a real socket.

The model is the project's fake OpenAI-compatible server (`python -m tests.fake_llm`) with a set latency,
or the endpoint named by `LLM_BASE_URL` when one is given (its latency is then measured). The mesh is
`services.mesh.launcher.LocalMesh`: all six services as `python -m services.<name>` subprocesses. Each
service exposes its Prometheus metrics, so the benchmark reads the tokens every service spent.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import statistics
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import grpc
from pydantic import BaseModel

from services.mesh.launcher import LocalMesh
from services.mesh.processes import ChildProcess, MeshStartError
from services.runtime.config import DEFAULT_PORTS, LLMSettings

STARTUP_TIMEOUT_S = 60.0
FAKE_MODEL = "fake-model"
FAKE_REQUESTS_PER_MINUTE = 1_000_000
"""The rate budget the mesh gets against the fake server: high enough never to hold a call back."""
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
]


def real_endpoint() -> str | None:
    """The real OpenAI-compatible endpoint to measure instead of the fake, if `LLM_BASE_URL` names one."""
    return os.environ.get("LLM_BASE_URL") or None


@dataclass
class ModelEndpoint:
    """Where the mesh sends its model calls, and the latency the limits are computed with."""

    base_url: str
    latency_s: float
    process: ChildProcess | None = None

    @property
    def fake(self) -> bool:
        return self.process is not None

    @property
    def requests_per_minute(self) -> float:
        return FAKE_REQUESTS_PER_MINUTE if self.fake else LLMSettings().requests_per_minute

    async def _fake_call(self, method: str, path: str, body: dict | None = None) -> dict:
        root = self.base_url.removesuffix("/v1")
        async with aiohttp.ClientSession() as http, http.request(method, f"{root}{path}", json=body) as response:
            response.raise_for_status()
            return await response.json()

    async def set_latency(self, latency_s: float) -> None:
        """Changes the fake server's latency while it runs."""
        if not self.fake:
            raise RuntimeError("the latency of a real endpoint cannot be set")
        await self._fake_call("POST", "/_fake/config", {"latency_s": latency_s})
        self.latency_s = latency_s

    async def requests(self) -> int | None:
        """Requests the fake server answered since it started (None for a real endpoint)."""
        if not self.fake:
            return None
        return int((await self._fake_call("GET", "/_fake/stats"))["total_requests"])


@contextlib.asynccontextmanager
async def model_endpoint(workdir: Path, latency_s: float) -> AsyncIterator[ModelEndpoint]:
    """The fake server with `latency_s`, or the real endpoint of `LLM_BASE_URL` with its measured latency."""
    if url := real_endpoint():
        yield ModelEndpoint(url, await measure_latency(url))
        return
    process = ChildProcess(
        name="fake_llm",
        command=[
            sys.executable,
            "-m",
            "tests.fake_llm",
            "--port",
            "0",
            "--latency",
            str(latency_s),
            "--latency-from-arrival",
        ],
        environment=dict(os.environ),
        log_path=workdir / "fake_llm.log",
    )
    await process.start()
    try:
        line = await _wait_for_line(process, "listening on")
        yield ModelEndpoint(line.rsplit(" ", 1)[1].strip(), latency_s, process)
    finally:
        await process.stop(5)


async def _wait_for_line(process: ChildProcess, marker: str) -> str:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.exited():
            raise MeshStartError(f"{process.name} exited; its log ends with:\n{process.log_tail()}")
        with contextlib.suppress(OSError):
            for line in process.log_path.read_text(errors="replace").splitlines():
                if marker in line:
                    return line
        await asyncio.sleep(0.05)
    raise MeshStartError(f"{process.name} did not start in time; its log ends with:\n{process.log_tail()}")


class _Probe(BaseModel):
    answer: str


async def measure_latency(base_url: str, calls: int = 3) -> float:
    """Median latency of a few small structured calls to a real endpoint, made one after another."""
    from services.llm import LLMClient

    client = LLMClient(LLMSettings(base_url=base_url), metrics_prefix="bench_probe")
    durations = []
    try:
        for index in range(calls):
            started = time.perf_counter()
            await client.structured(
                [{"role": "user", "content": f"Say hello number {index} in one word."}], _Probe, max_tokens=32
            )
            durations.append(time.perf_counter() - started)
    finally:
        await client.aclose()
    return statistics.median(durations)


def _port_with_metrics_port() -> int:
    """A free port whose neighbour 1000 up (the service's metrics port) is free too."""
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port + 1000 < 65536:
            with socket.socket() as metrics, contextlib.suppress(OSError):
                metrics.bind(("127.0.0.1", port + 1000))
                return port
    raise RuntimeError("no free pair of ports")


@dataclass
class BenchMesh:
    """The mesh under measurement and the model endpoint it calls."""

    mesh: LocalMesh
    model: ModelEndpoint

    def address(self, service: str) -> str:
        return self.mesh.address(service)

    def channel(self, service: str) -> grpc.aio.Channel:
        return grpc.aio.insecure_channel(self.address(service), options=CHANNEL_OPTIONS)

    async def tokens(self) -> int:
        """Prompt and completion tokens all services spent so far, read from their metrics endpoints."""
        return int(await self._metric_sum("llm_tokens_total{"))

    async def model_calls(self) -> int:
        """Model requests so far: the fake server's own count, else the services' request attempts."""
        counted = await self.model.requests()
        return counted if counted is not None else int(await self._metric_sum("llm_request_duration_seconds_count"))

    async def _metric_sum(self, prefix: str) -> float:
        async def one(port: int | None) -> float:
            async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port + 1000}/metrics") as response:
                text = await response.text()
            return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix))

        return sum(await asyncio.gather(*(one(process.port) for process in self.mesh.services.values())))

    def peak_rss_mib(self) -> dict[str, float]:
        """Each service's peak resident memory (VmHWM) so far."""
        return {name: _status_field(process.pid, "VmHWM") / 1024 for name, process in self.mesh.services.items()}

    def cpu_seconds(self) -> float:
        """User and system CPU time all services used so far."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for process in self.mesh.services.values():
            fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime and stime
        return total / ticks


def _status_field(pid: int | None, name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {name} for process {pid}")


def mesh_environment(model: ModelEndpoint) -> dict[str, str]:
    """The LLM settings of the mesh: against the fake, no cap or budget holds a call back; against a real
    endpoint, the caller's own `LLM_*` settings apply unchanged."""
    if not model.fake:
        return {}
    return {
        "LLM_MODEL": FAKE_MODEL,
        "LLM_MAX_CONCURRENCY": "4096",
        "LLM_REQUESTS_PER_MINUTE": str(FAKE_REQUESTS_PER_MINUTE),
        "LLM_TOKENS_PER_MINUTE": "1000000000",
        "LLM_TIMEOUT_S": str(max(60.0, model.latency_s * 20)),
    }


@contextlib.asynccontextmanager
async def started_mesh(
    workdir: Path, llm_base_url: str | None, environment: dict[str, str]
) -> AsyncIterator[LocalMesh]:
    """The six services on free ports (metrics on each port + 1000), data under `workdir`; None starts the
    embedded model."""
    ports = {name: _port_with_metrics_port() for name in DEFAULT_PORTS}
    mesh = LocalMesh(data_dir=workdir / "mesh", ports=ports, llm_base_url=llm_base_url, extra_environment=environment)
    started = time.perf_counter()
    await mesh.start()
    print(f"  mesh started in {time.perf_counter() - started:.1f} s (logs in {mesh.log_dir})", flush=True)
    try:
        yield mesh
    finally:
        await mesh.stop()


@contextlib.asynccontextmanager
async def bench_mesh(workdir: Path, latency_s: float) -> AsyncIterator[BenchMesh]:
    """The model endpoint and the whole mesh calling it; everything stops at the end."""
    async with (
        model_endpoint(workdir, latency_s) as model,
        started_mesh(workdir, model.base_url, mesh_environment(model)) as mesh,
    ):
        yield BenchMesh(mesh, model)
