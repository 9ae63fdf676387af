"""`troupe up`: the six servers as separate processes, plus the embedded model unless LLM_BASE_URL is set.

Everything the mesh keeps (control's SQLite database, logs, the state file) lives in one data
directory: DATA_DIR, or `~/.tinytroupe-mesh`, so meshes started with different HOMEs never share
state. The state file names the launcher and every child with its pid, so that `troupe down` (from
any terminal) stops the mesh.

The launcher supervises its children (`supervise`): a server or the embedded model that exits on its
own is started again on the same port, after a backoff and within a restart limit
(services/mesh/supervision.py), while the others keep running.

`replicas` (`troupe up --replicas population=2,simulation=3`, or REPLICAS) starts several processes of
an inner service: the first on the service's port, the others on free ports, named `population-2`, ...
The other services reach them through one `ipv4:` target naming every replica, over which their
channels balance round-robin, as `dns:///` targets of headless Services do on Kubernetes.

Each server gets its role as deploy/ gives it: the orchestrator is public (it takes callers' tokens and
serves TLS without asking for a client certificate); the inner services take the mesh's own calls only
and, with TLS, require the mesh's certificate. The security settings (AUTH_TOKENS, AUTH_JWT_*,
INTERNAL_TOKEN, TLS_*_FILE) pass to every server; an INTERNAL_TOKEN is made up when callers need tokens
and none is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import grpc
from pydantic import BaseModel, SecretStr

from services.llm.embedded import EmbeddedModelServer
from services.mesh.processes import ChildProcess, MeshStartError, ServiceProcess, http_ready, pid_alive
from services.mesh.supervision import EVENT_LOG, RestartHistory, RestartPolicy, exit_text, write_event
from services.runtime.config import DEFAULT_PORTS, LLMSettings, MeshSettings
from services.runtime.security import Authenticator, channel_credentials

INNER_SERVICES = ("population", "content", "extraction", "simulation")
PUBLIC_SERVICES = ("orchestrator",)
"""The services callers reach; every other one answers the mesh's own services only."""
TLS_FILES = ("TLS_CERT_FILE", "TLS_KEY_FILE", "TLS_CA_FILE")
STATE_FILE = "mesh.json"
MODEL_START_TIMEOUT_S = 180.0
START_ATTEMPTS = 2
"""Starts of one server before `troupe up` gives up on it."""
ENDPOINT_CHECK_TIMEOUT_S = 5.0


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


def settings_environment(settings: BaseModel, base: BaseModel) -> dict[str, str | None]:
    """The environment variables that give a server `settings` where it would read `base`: one per field
    that differs (None: unset it), named with the settings' prefix (`LLM_MAX_CONCURRENCY`)."""
    prefix = type(settings).model_config.get("env_prefix", "")
    changed: dict[str, str | None] = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if value == getattr(base, name):
            continue
        changed[f"{prefix}{name}".upper()] = None if value is None else _setting_text(value)
    return changed


def _setting_text(value: object) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)  # as pydantic-settings reads complex settings (`LLM_PRICES`)
    return str(value)


def apply_environment(environment: dict[str, str], changes: Mapping[str, str | None]) -> None:
    for name, value in changes.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value


async def check_llm_endpoint(
    base_url: str, api_key: str | None = None, model: str | None = None, timeout_s: float = ENDPOINT_CHECK_TIMEOUT_S
) -> str | None:
    """Whether `base_url` answers as an OpenAI-compatible API does (`GET {base_url}/models`, listing `model`
    where it lists any): None when it does, else a warning for people. Raises MeshStartError when the fix is
    certain: the API answers under `{base_url}/v1`, which LLM_BASE_URL lacks."""
    base = base_url.rstrip("/")
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    status, body = await _get(f"{base}/models", headers, timeout_s)
    if status == 200:
        served = _model_ids(body)
        if model and served and model not in served:
            return (
                f"LLM_MODEL={model} is not among the models {base} serves ({', '.join(sorted(served)[:8])}); "
                "studies fail if the endpoint rejects it"
            )
        return None
    if status == 404:
        if not base.endswith("/v1") and (await _get(f"{base}/v1/models", headers, timeout_s))[0] == 200:
            raise MeshStartError(
                f"LLM_BASE_URL={base_url} is not the model API's base URL: {base}/models answers HTTP 404 "
                f"and {base}/v1/models answers. Set LLM_BASE_URL={base}/v1"
            )
        return (
            f"{base}/models answers HTTP 404: LLM_BASE_URL must be the OpenAI-compatible API's base URL, "
            "which usually ends in /v1 (e.g. http://127.0.0.1:8080/v1); studies fail until it is"
        )
    if status in (401, 403):
        return (
            f"the model endpoint {base} refuses the key (HTTP {status} at /models): check LLM_API_KEY; "
            "studies fail until it is accepted"
        )
    if status is not None:
        return f"the model endpoint {base} answers HTTP {status} at /models; studies may fail"
    return f"nothing answers at LLM_BASE_URL={base_url} ({body}); studies fail until the endpoint is up"


async def _get(url: str, headers: dict[str, str], timeout_s: float) -> tuple[int | None, object]:
    """The status and JSON body of a GET (the body None where it is not JSON), or None and what went wrong."""
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as http,
            http.get(url, headers=headers) as response,
        ):
            try:
                return response.status, await response.json(content_type=None)
            except ValueError:
                return response.status, None
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        return None, str(error) or type(error).__name__


def _model_ids(body: object) -> set[str]:
    data = body.get("data") if isinstance(body, dict) else None
    return {entry["id"] for entry in data or () if isinstance(entry, dict) and isinstance(entry.get("id"), str)}


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
        lines.append(
            f"callers authenticate at the orchestrator with bearer {' and '.join(ways)}; "
            "the inner services answer the mesh's own services only"
        )
    elif environment.get("INTERNAL_TOKEN"):
        lines.append("the services authenticate each other; no caller tokens are set (AUTH_TOKENS, AUTH_JWT_KEY)")
    else:
        lines.append('authentication is off: every caller is the one tenant ""')
    if environment.get("TLS_CERT_FILE"):
        lines.append("TLS on every gRPC port; the inner services require the mesh's client certificate")
    return lines


def service_of(process_name: str) -> str:
    """The service a process of the mesh runs: `population-2` runs population."""
    service, _, index = process_name.rpartition("-")
    return service if service and index.isdigit() else process_name


def check_replicas(replicas: Mapping[str, int]) -> None:
    """Only the stateless inner services run several processes: control keeps its SQLite database in
    one process, and callers reach one orchestrator."""
    for service, count in replicas.items():
        if service not in DEFAULT_PORTS:
            raise MeshStartError(f"replicas of {service!r}: no such service ({', '.join(DEFAULT_PORTS)})")
        if count < 1:
            raise MeshStartError(f"replicas of {service}: at least 1, not {count}")
        if count > 1 and service not in INNER_SERVICES:
            raise MeshStartError(
                f"replicas of {service}: only {', '.join(INNER_SERVICES)} run several processes locally"
            )


@dataclass
class LocalMesh:
    """Starts and stops the local mesh. `ports` maps services to ports; 0 picks a free one."""

    data_dir: Path
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    llm_base_url: str | None = None
    """An OpenAI-compatible endpoint; None starts the embedded model."""
    extra_environment: dict[str, str] = field(default_factory=dict)
    detached: bool = False
    """The launcher runs in the background (`troupe up --detach`); recorded in the state file."""
    restart_policy: RestartPolicy = field(default_factory=RestartPolicy)
    replicas: dict[str, int] = field(default_factory=dict)
    """Processes per inner service (1 where unnamed)."""
    check_llm: bool = True
    """Check LLM_BASE_URL before starting the servers (`check_llm_endpoint`)."""
    model: ChildProcess | None = None
    model_url: str | None = None
    """The embedded model's base URL, when it runs."""
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    """The environment the servers share (service addresses included); `service_environment` adds a
    server's own port and role."""
    warnings: list[str] = field(default_factory=list)
    """What the start found wrong but not fatal (e.g. a model endpoint that does not answer yet)."""
    restarts: RestartHistory = field(init=False)
    started_at: float | None = field(default=None, init=False)
    _stopping: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.restarts = RestartHistory(self.restart_policy)

    @classmethod
    def from_settings(cls, settings: MeshSettings, **options) -> LocalMesh:
        """The mesh on the ports of the configured service addresses (defaults 50050-50055)."""
        ports = {name: port_of(settings.address_of(name)) for name in DEFAULT_PORTS}
        options.setdefault("replicas", dict(settings.replicas))
        return cls(data_dir=settings.data_dir, ports=ports, llm_base_url=settings.llm.base_url, **options)

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def state_path(self) -> Path:
        return self.data_dir / STATE_FILE

    def address(self, service: str) -> str:
        """The target that reaches `service`: its one process, or every replica (`ipv4:` list)."""
        addresses = [self.services[name].address for name in self.process_names(service)]
        return addresses[0] if len(addresses) == 1 else "ipv4:" + ",".join(addresses)

    def process_names(self, service: str) -> list[str]:
        """The processes of `service`: `population`, then `population-2`, ... for its replicas."""
        return [service] + [f"{service}-{index}" for index in range(2, self.replicas.get(service, 1) + 1)]

    @property
    def children(self) -> dict[str, ChildProcess]:
        """Every child process: the servers, and the embedded model when it runs."""
        return {**self.services, **({"model": self.model} if self.model is not None else {})}

    async def start(self) -> None:
        """Starts everything and waits until every health check passes; stops what started on failure."""
        check_replicas(self.replicas)
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
        self.started_at = time.time()
        self.write_state()

    def service_environment(
        self, service: str, port: int, environment: Mapping[str, str] | None = None
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
            if self.check_llm and environment.get("LLM_PROVIDER", "openai").lower() != "azure":
                llm = LLMSettings()  # the defaults, where the servers' environment sets nothing
                key = environment.get("LLM_API_KEY", llm.api_key.get_secret_value())
                model = environment.get("LLM_MODEL", llm.model)
                if warning := await check_llm_endpoint(self.llm_base_url, key, model):
                    self.warnings.append(warning)
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
            environment=dict(environment),
            log_path=self.log_dir / "model.log",
        )
        self.model_url = embedded.base_url
        await self.model.start()
        await self._wait_model()
        llm = embedded.llm_settings()
        # Every setting the embedded model's client settings change, e.g. attempts bounded by the deadline only.
        apply_environment(environment, settings_environment(llm, LLMSettings()))
        environment["LLM_BASE_URL"] = embedded.base_url
        self.llm_base_url = embedded.base_url
        return environment

    async def _wait_model(self) -> None:
        deadline = time.monotonic() + MODEL_START_TIMEOUT_S
        while not await http_ready(f"{self.model_url}/models"):
            if self.model.exited() or time.monotonic() > deadline:
                raise MeshStartError(f"the embedded model did not start; its log ends with:\n{self.model.log_tail()}")
            await asyncio.sleep(0.2)

    async def _start_services(self, services: list[str], environment: dict[str, str]) -> None:
        await asyncio.gather(
            *(
                self._start_service(service, environment, name)
                for service in services
                for name in self.process_names(service)
            )
        )

    async def _start_service(self, service: str, environment: dict[str, str], name: str | None = None) -> None:
        """Starts one server (the process `name` of `service`) and waits until it serves; one that crashes
        while starting (a rare abort in gRPC's core has been seen) is started again once before the mesh
        gives up. Replicas after the first take free ports (their metrics too)."""
        name = name or service
        credentials = tls_credentials(environment)
        for attempt in range(START_ATTEMPTS):
            port = self.ports.get(service, 0) if name == service else free_port()
            process_environment = self.service_environment(service, port, environment)
            if name != service:
                process_environment["METRICS_PORT"] = str(free_port())
            process = ServiceProcess.of(service, process_environment, self.log_dir, name=name)
            process.health_credentials = credentials
            if port:
                process.port = port
            self.services[name] = process
            await process.start()
            try:
                await process.wait_serving()
                return
            except MeshStartError:
                if not process.exited() or attempt + 1 == START_ATTEMPTS:
                    raise
                write_event(self.log_dir, "start_retried", service=name, returncode=process.process.returncode)

    async def stop(self, grace_s: float = 10.0) -> None:
        """Stops the orchestrator first (it releases its studies' leases), control and the model last."""
        self._stopping = True
        for group in (["orchestrator"], list(INNER_SERVICES), ["control"]):
            await asyncio.gather(
                *(process.stop(grace_s) for name, process in self.services.items() if service_of(name) in group)
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
            "model_restarts": self.restarts.counts.get("model", 0),
            "tls": bool(self.environment.get("TLS_CERT_FILE")),
            "model_log": str(self.model.log_path) if self.model is not None else None,
            "services": {
                name: {
                    "service": service_of(name),
                    "pid": process.pid,
                    "address": process.address,
                    "log": str(process.log_path),
                    "restarts": self.restarts.counts.get(name, 0),
                }
                for name, process in self.services.items()
            },
            "security": security_summary(self.environment),
            "warnings": self.warnings,
            "restart_limit": self.restart_policy.limit,
            "started_at": self.started_at,
            "event_log": str(self.log_dir / EVENT_LOG),
        }
        # Written aside and renamed, so a reader never sees half a file.
        partial = self.state_path.with_suffix(".partial")
        partial.write_text(json.dumps(state, indent=2))
        partial.replace(self.state_path)

    async def wait_for_exit(self) -> str:
        """Waits until a child exits (returns its name) or this task is cancelled."""
        waits = {
            asyncio.ensure_future(child.process.wait()): name
            for name, child in self.children.items()
            if child.process is not None
        }
        try:
            done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            return waits[next(iter(done))]
        finally:
            for wait in waits:
                wait.cancel()

    async def supervise(self, report: Callable[[str], None] = lambda line: None) -> str:
        """Starts again every child that exits on its own, on its port, until this task is cancelled or the mesh
        stops. Returns the name of a child that exited more often than the restart policy allows (it is left
        down). Each exit and restart is a line to `report` and an event in the log; the state file keeps the
        new pids and the count of restarts."""
        policy = self.restart_policy
        while True:
            name = await self.wait_for_exit()
            if self._stopping:
                return ""
            child = self.children[name]
            code = child.process.returncode if child.process is not None else None
            recent = self.restarts.recent(name)
            fields = {"service": name, "pid": child.pid, "exit": exit_text(code), "exit_code": code}
            if not self.restarts.may_restart(name):
                write_event(
                    self.log_dir,
                    "restart_limit_reached",
                    **fields,
                    restarts_in_window=recent,
                    limit=policy.limit,
                    window_s=policy.window_s,
                )
                report(
                    f"{name} exited ({exit_text(code)}); restarts are off (restart limit 0)"
                    if not policy.limit
                    else f"{name} exited ({exit_text(code)}) after {recent} restarts within "
                    f"{policy.window_s:g} s, the most allowed; see {child.log_path}"
                )
                return name
            delay = policy.delay_s(recent)
            count = self.restarts.record(name)
            write_event(self.log_dir, "service_exited", **fields, restart=count, delay_s=delay)
            report(f"{name} exited ({exit_text(code)}, pid {child.pid}); restart {count} in {delay:g} s")
            await asyncio.sleep(delay)
            if self._stopping:
                return ""
            try:
                await self._restart(name)
            except MeshStartError as error:
                child.kill()
                write_event(self.log_dir, "restart_failed", service=name, restart=count, error=str(error)[:500])
                report(f"{name} did not come back: {str(error).splitlines()[0]}")
                continue
            self.write_state()
            write_event(
                self.log_dir,
                "service_restarted",
                service=name,
                pid=child.pid,
                restart=count,
                address=self.services[name].address if name in self.services else self.model_url,
            )
            report(f"{name} is back (pid {child.pid})")

    async def _restart(self, name: str) -> None:
        """Starts the child `name` again where it was: a server on its port, the model on its URL."""
        if name == "model":
            await self.model.start()
            await self._wait_model()
            return
        process = self.services[name]
        # A server started on port 0 found a free one; clients hold that address, so it comes back there.
        process.environment = {**process.environment, "PORT": str(process.port)}
        await process.start()
        await process.wait_serving()


def read_state(data_dir: Path) -> dict | None:
    path = data_dir / STATE_FILE
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError:
        return None


async def stop_from_state(data_dir: Path, grace_s: float = 10.0) -> list[str]:
    """Stops the mesh recorded in the state file; returns the children that were running.

    A launcher that is still running is asked to stop (SIGTERM): it stops its children in order and does
    not start them again. What is left afterwards (or of a mesh whose launcher is gone) is stopped here.
    """
    state = read_state(data_dir)
    if state is None:
        return []
    services = state.get("services", {})
    pids = {name: entry.get("pid") for name, entry in services.items()}
    service_names = {name: entry.get("service", name) for name, entry in services.items()}
    if state.get("model_pid"):
        pids["model"] = state["model_pid"]
        service_names["model"] = "model"
    running = [name for name, pid in pids.items() if pid and pid_alive(pid)]
    launcher = state.get("launcher_pid")
    if launcher and launcher != os.getpid() and is_launcher(launcher):
        with contextlib.suppress(ProcessLookupError):
            os.kill(launcher, signal.SIGTERM)
        deadline = time.monotonic() + grace_s * 3 + 5
        while pid_alive(launcher) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        if read_state(data_dir) is None:  # it stopped everything and said so
            return running
    for group in (["orchestrator"], list(INNER_SERVICES), ["control"], ["model"]):
        await _terminate({name: pid for name, pid in pids.items() if pid and service_names[name] in group}, grace_s)
    (data_dir / STATE_FILE).unlink(missing_ok=True)
    return running


def is_launcher(pid: int) -> bool:
    """Whether `pid` runs `troupe up` (where the system tells; elsewhere, whether it runs at all)."""
    if not pid_alive(pid):
        return False
    try:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return not sys.platform.startswith("linux")
    troupe = any(Path(argument).name == "troupe" for argument in arguments) or "services.cli.main" in arguments
    return troupe and "up" in arguments


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
