"""One server of the mesh as a child process: started with its environment, logging to a file,
ready once it logs its `serving` line, stopped with SIGTERM (SIGKILL after a grace period)."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class MeshStartError(RuntimeError):
    """A server of the mesh did not start."""


def _die_with_parent() -> None:
    """Runs in the child before exec: on Linux it gets SIGTERM when its parent dies."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class ChildProcess:
    """A child process of the mesh with its log file."""

    name: str
    command: list[str]
    environment: dict[str, str]
    log_path: Path
    detached: bool = False
    """Detached children live on after the launcher exits (`troupe up --detach`)."""
    process: asyncio.subprocess.Process | None = field(default=None, repr=False)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    async def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *self.command,
                cwd=PROJECT_ROOT,
                env=self.environment,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                preexec_fn=None if self.detached or not sys.platform.startswith("linux") else _die_with_parent,
            )

    def exited(self) -> bool:
        return self.process is None or self.process.returncode is not None

    def log_tail(self, limit: int = 1500) -> str:
        with contextlib.suppress(OSError):
            data = self.log_path.read_bytes()
            return data[-limit:].decode(errors="replace")
        return ""

    async def stop(self, grace_s: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after `grace_s`."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), grace_s)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    def kill(self) -> None:
        """SIGKILL at once: a crash."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()


@dataclass
class ServiceProcess(ChildProcess):
    """`python -m services.<name>`; its port is read from its `serving` log line."""

    port: int | None = None
    health_credentials: grpc.ChannelCredentials | None = field(default=None, repr=False)
    """TLS credentials for the health checks of a server that serves TLS (None: plaintext)."""

    @classmethod
    def of(
        cls,
        service: str,
        environment: dict[str, str],
        log_dir: Path,
        *,
        name: str | None = None,
        detached: bool = False,
    ) -> ServiceProcess:
        name = name or service
        return cls(
            name=name,
            command=[sys.executable, "-m", f"services.{service}"],
            environment=environment,
            log_path=log_dir / f"{name}.log",
            detached=detached,
        )

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def wait_serving(self, timeout_s: float = 60.0) -> str:
        """Waits for the `serving` log line and a SERVING health check; returns the address."""
        deadline = time.monotonic() + timeout_s
        offset = self.log_path.stat().st_size if self.port is None and self.log_path.exists() else 0
        while self.port is None:
            self._check_alive(deadline)
            self.port, offset = _serving_port(self.log_path, offset)
            if self.port is None:
                await asyncio.sleep(0.05)
        while (problem := await health_problem(self.address, credentials=self.health_credentials)) is not None:
            self._check_alive(deadline, f"its health check answers {problem}")
            await asyncio.sleep(0.1)
        return self.address

    def _check_alive(self, deadline: float, waiting_on: str = "") -> None:
        if self.exited():
            code = self.process.returncode if self.process is not None else None
            raise MeshStartError(f"{self.name} exited with {code}; its log ends with:\n{self.log_tail()}")
        if time.monotonic() > deadline:
            why = f" ({waiting_on})" if waiting_on else ""
            raise MeshStartError(f"{self.name} did not start in time{why}; its log ends with:\n{self.log_tail()}")


def _serving_port(log_path: Path, offset: int) -> tuple[int | None, int]:
    """The port of the first `serving` JSON log line after `offset`, and where reading stopped."""
    if not log_path.exists():
        return None, offset
    with log_path.open("rb") as log:
        log.seek(offset)
        chunk = log.read()
    complete, _, _ = chunk.rpartition(b"\n")
    for line in complete.splitlines():
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            if isinstance(entry, dict) and entry.get("event") == "serving" and entry.get("port"):
                return int(entry["port"]), offset + len(complete) + 1
    return None, offset + (len(complete) + 1 if complete else 0)


async def health_serving(
    address: str, timeout_s: float = 2.0, credentials: grpc.ChannelCredentials | None = None
) -> bool:
    """Whether the server at `address` answers its overall health check with SERVING (over TLS with
    `credentials`)."""
    return await health_problem(address, timeout_s, credentials) is None


async def health_problem(
    address: str, timeout_s: float = 2.0, credentials: grpc.ChannelCredentials | None = None
) -> str | None:
    """None when the server at `address` is SERVING, else what its health check answered."""
    channel = (
        grpc.aio.secure_channel(address, credentials) if credentials is not None else grpc.aio.insecure_channel(address)
    )
    async with channel:
        try:
            response = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=timeout_s
            )
        except grpc.aio.AioRpcError as error:
            return f"{error.code().name}: {error.details()}"
    if response.status != health_pb2.HealthCheckResponse.SERVING:
        return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
    return None


async def http_ready(url: str, timeout_s: float = 2.0) -> bool:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as http:
        try:
            async with http.get(url) as response:
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
