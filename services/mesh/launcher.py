"""`troupe up`: the six servers as separate processes, plus the embedded model unless LLM_BASE_URL is set.

Everything the mesh keeps (control's SQLite database, logs, the state file) lives in one data
directory: DATA_DIR, or `~/.tinytroupe-mesh`, so meshes started with different HOMEs never share
state. The state file lets `troupe down` stop a mesh started with `--detach`.

Each server gets its role as deploy/ gives it: the orchestrator is public (it takes callers' tokens and
serves TLS without asking for a client certificate); the inner services take the mesh's own calls only
and, with TLS, require the mesh's certificate. The security settings (AUTH_TOKENS, AUTH_JWT_*,
INTERNAL_TOKEN, TLS_*_FILE) pass to every server; an INTERNAL_TOKEN is made up when callers need tokens
and none is set.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from pydantic import SecretStr

from services.llm.embedded import EmbeddedModelServer
from services.mesh.processes import ChildProcess, MeshStartError, ServiceProcess, http_ready, pid_alive
from services.runtime.config import DEFAULT_PORTS, MeshSettings
from services.runtime.security import Authenticator, channel_credentials

INNER_SERVICES = ("population", "content", "extraction", "simulation")
PUBLIC_SERVICES = ("orchestrator",)
"""The services callers reach; every other one answers the mesh's own services only."""
TLS_FILES = ("TLS_CERT_FILE", "TLS_KEY_FILE", "TLS_CA_FILE")
STATE_FILE = "mesh.json"
MODEL_START_TIMEOUT_S = 180.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_of(address: str) -> int:
    return int(address.rsplit(":", 1)[-1])


def secure_environment(environment: Mapping[str, str]) -> dict[str, str]:
    """The security settings checked and completed for servers that run from the project root.

    TLS needs all three files (the services verify each other with the CA and present their certificate);
    relative paths become absolute. Callers' tokens need the services' own INTERNAL_TOKEN: one is made up
    when it is unset.
    """
    secured = dict(environment)
    given = [name for name in TLS_FILES if secured.get(name)]
    if given and len(given) < len(TLS_FILES):
        missing = ", ".join(name for name in TLS_FILES if name not in given)
        raise MeshStartError(f"TLS needs {', '.join(TLS_FILES)}: {missing} is not set")
    for name in given:
        path = Path(secured[name]).expanduser().resolve()
        if not path.is_file():
            raise MeshStartError(f"{name} names {path}, which does not exist")
        secured[name] = str(path)
    if (secured.get("AUTH_TOKENS") or secured.get("AUTH_JWT_KEY")) and not secured.get("INTERNAL_TOKEN"):
        secured["INTERNAL_TOKEN"] = secrets.token_urlsafe(32)
    return secured


def role_environment(service: str, environment: Mapping[str, str]) -> dict[str, str]:
    """What sets one server apart, as deploy/base and deploy/overlays/prod do: PUBLIC_SERVICE for the
    orchestrator only, and with TLS, client certificates required by the inner services only."""
    public = service in PUBLIC_SERVICES
    role = {"PUBLIC_SERVICE": "true" if public else "false"}
    if environment.get("TLS_CERT_FILE"):
        role["TLS_REQUIRE_CLIENT_CERT"] = "false" if public else "true"
    return role


def tls_credentials(environment: Mapping[str, str]) -> grpc.ChannelCredentials | None:
    """Credentials that reach every server of a mesh started with `environment` (its CA and certificate)."""
    if not environment.get("TLS_CA_FILE"):
        return None
    return channel_credentials(
        MeshSettings(
            tls_ca_file=Path(environment["TLS_CA_FILE"]),
            tls_cert_file=Path(environment["TLS_CERT_FILE"]) if environment.get("TLS_CERT_FILE") else None,
            tls_key_file=Path(environment["TLS_KEY_FILE"]) if environment.get("TLS_KEY_FILE") else None,
        )
    )


def security_summary(environment: Mapping[str, str]) -> list[str]:
    """How a mesh started with `environment` treats callers, for people (no secrets)."""
    lines = []
    if environment.get("AUTH_TOKENS") or environment.get("AUTH_JWT_KEY"):
        settings = MeshSettings(auth_tokens=SecretStr(environment.get("AUTH_TOKENS", "")))
        tenants = sorted(set(Authenticator(settings).static_tokens.values()))
        ways = [f"tokens of {', '.join(tenants)}"] if tenants else []
        if environment.get("AUTH_JWT_KEY"):
            ways.append("JWTs")
        lines.append(f"callers authenticate at the orchestrator with bearer {' and '.join(ways)}; "
                     "the inner services answer the mesh's own services only")
    elif environment.get("INTERNAL_TOKEN"):
        lines.append("the services authenticate each other; no caller tokens are set (AUTH_TOKENS, AUTH_JWT_KEY)")
    else:
        lines.append('authentication is off: every caller is the one tenant ""')
    if environment.get("TLS_CERT_FILE"):
        lines.append("TLS on every gRPC port; the inner services require the mesh's client certificate")
    return lines


@dataclass
class LocalMesh:
    """Starts and stops the local mesh. `ports` maps services to ports; 0 picks a free one."""

    data_dir: Path
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    llm_base_url: str | None = None
    """An OpenAI-compatible endpoint; None starts the embedded model."""
    extra_environment: dict[str, str] = field(default_factory=dict)
    detached: bool = False
    model: ChildProcess | None = None
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    """The environment the servers share (service addresses included); `service_environment` adds a
    server's own port and role."""

    @classmethod
    def from_settings(cls, settings: MeshSettings, **options) -> LocalMesh:
        """The mesh on the ports of the configured service addresses (defaults 50050-50055)."""
        ports = {name: port_of(settings.address_of(name)) for name in DEFAULT_PORTS}
        return cls(data_dir=settings.data_dir, ports=ports, llm_base_url=settings.llm.base_url, **options)

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def state_path(self) -> Path:
        return self.data_dir / STATE_FILE

    def address(self, service: str) -> str:
        return self.services[service].address

    async def start(self) -> None:
        """Starts everything and waits until every health check passes; stops what started on failure."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            environment = await self._model_environment()
            await self._start_services(["control"], environment)
            environment["CONTROL_ADDRESS"] = self.address("control")
            await self._start_services(list(INNER_SERVICES), environment)
            environment.update({f"{name.upper()}_ADDRESS": self.address(name) for name in INNER_SERVICES})
            await self._start_services(["orchestrator"], environment)
            environment["ORCHESTRATOR_ADDRESS"] = self.address("orchestrator")
            self.environment = environment
        except BaseException:
            await self.stop()
            raise
        self.write_state()

    def service_environment(self, service: str, port: int, environment: Mapping[str, str] | None = None
                            ) -> dict[str, str]:
        """The environment of one server of `service` on `port` (0: any free port)."""
        shared = self.environment if environment is None else environment
        return {
            **shared,
            "PORT": str(port),
            "METRICS_PORT": str(port + 1000 if port else 0),
            **role_environment(service, shared),
        }

    async def _model_environment(self) -> dict[str, str]:
        environment = {key: value for key, value in os.environ.items() if key != "PORT"}
        environment.update(self.extra_environment)
        environment.update({"DATA_DIR": str(self.data_dir.resolve()), "LOG_FORMAT": "json"})
        environment = secure_environment(environment)
        self.environment = environment
        if self.llm_base_url:
            environment["LLM_BASE_URL"] = self.llm_base_url
            return environment
        model_port = free_port()
        embedded = EmbeddedModelServer(port=model_port)
        self.model = ChildProcess(
            name="model",
            command=[
                sys.executable,
                "-m",
                "services.llm.embedded",
                "--port",
                str(model_port),
                "--log",
                str(self.log_dir / "model-server.log"),
            ],
            environment=environment,
            log_path=self.log_dir / "model.log",
            detached=self.detached,
        )
        await self.model.start()
        deadline = time.monotonic() + MODEL_START_TIMEOUT_S
        while not await http_ready(f"{embedded.base_url}/models"):
            if self.model.exited() or time.monotonic() > deadline:
                raise MeshStartError(
                    f"the embedded model did not start; its log ends with:\n{self.model.log_tail()}"
                )
            await asyncio.sleep(0.2)
        llm = embedded.llm_settings()
        environment.update(
            {
                "LLM_BASE_URL": embedded.base_url,
                "LLM_MODEL": llm.model,
                "LLM_RESPONSE_FORMAT": llm.response_format,
                "LLM_MAX_CONCURRENCY": str(llm.max_concurrency),
                "LLM_MAX_TOKENS": str(llm.max_tokens),
                "LLM_TIMEOUT_S": str(llm.timeout_s),
            }
        )
        self.llm_base_url = embedded.base_url
        return environment

    async def _start_services(self, names: list[str], environment: dict[str, str]) -> None:
        started = []
        credentials = tls_credentials(environment)
        for name in names:
            port = self.ports.get(name, 0)
            process = ServiceProcess.of(
                name, self.service_environment(name, port, environment), self.log_dir, detached=self.detached
            )
            process.health_credentials = credentials
            if port:
                process.port = port
            self.services[name] = process
            await process.start()
            started.append(process)
        await asyncio.gather(*(process.wait_serving() for process in started))

    async def stop(self, grace_s: float = 10.0) -> None:
        """Stops the orchestrator first (it releases its studies' leases), control and the model last."""
        for group in (["orchestrator"], list(INNER_SERVICES), ["control"]):
            await asyncio.gather(
                *(self.services[name].stop(grace_s) for name in group if name in self.services)
            )
        if self.model is not None:
            await self.model.stop(grace_s)
        self.state_path.unlink(missing_ok=True)

    def write_state(self) -> None:
        state = {
            "launcher_pid": os.getpid(),
            "detached": self.detached,
            "llm_base_url": self.llm_base_url,
            "model_pid": self.model.pid if self.model is not None else None,
            "tls": bool(self.environment.get("TLS_CERT_FILE")),
            "services": {
                name: {"pid": process.pid, "address": process.address}
                for name, process in self.services.items()
            },
            "started_at": time.time(),
        }
        # Written aside and renamed, so a reader never sees half a file.
        partial = self.state_path.with_suffix(".partial")
        partial.write_text(json.dumps(state, indent=2))
        partial.replace(self.state_path)

    async def wait_for_exit(self) -> str:
        """Waits until a child exits (returns its name) or this task is cancelled."""
        children = {**self.services, **({"model": self.model} if self.model else {})}
        waits = {
            asyncio.ensure_future(child.process.wait()): name
            for name, child in children.items()
            if child.process is not None
        }
        try:
            done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            return waits[next(iter(done))]
        finally:
            for wait in waits:
                wait.cancel()


def read_state(data_dir: Path) -> dict | None:
    path = data_dir / STATE_FILE
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError:
        return None


async def stop_from_state(data_dir: Path, grace_s: float = 10.0) -> list[str]:
    """Stops a mesh recorded in the state file (e.g. started with --detach); returns what it stopped."""
    state = read_state(data_dir)
    if state is None:
        return []
    groups = [["orchestrator"], list(INNER_SERVICES), ["control"]]
    stopped = []
    for group in groups:
        pids = {name: state["services"][name]["pid"] for name in group if name in state.get("services", {})}
        stopped += await _terminate(pids, grace_s)
    if state.get("model_pid"):
        stopped += await _terminate({"model": state["model_pid"]}, grace_s)
    (data_dir / STATE_FILE).unlink(missing_ok=True)
    return stopped


async def _terminate(pids: dict[str, int], grace_s: float) -> list[str]:
    alive = {name: pid for name, pid in pids.items() if pid and pid_alive(pid)}
    for pid in alive.values():
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while any(pid_alive(pid) for pid in alive.values()) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    for pid in alive.values():
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
    return list(alive)
