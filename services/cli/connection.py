"""Where the CLI finds the mesh, the credentials it presents, and the readable form of the errors the mesh answers.

The CLI is a caller like any backend: it presents the bearer token of `--token` (or `TROUPE_TOKEN`), never
the mesh's own `INTERNAL_TOKEN`, and so acts for that token's tenant. TLS comes from `--ca-file` (or
`TLS_CA_FILE`), with `--cert-file`/`--key-file` for a mesh that asks callers for a certificate.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from typing import Self

import grpc
import jwt
from google.longrunning import operations_pb2_grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status
from tinytroupe_mesh_api.control.v1 import control_pb2_grpc
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2_grpc

from services.common.model_errors import is_model_failure
from services.mesh.launcher import read_state
from services.mesh.processes import pid_alive
from services.runtime.clients import open_channel
from services.runtime.config import MeshSettings
from services.runtime.errors import MeshError, error_details, error_reason, field_violations
from services.runtime.security import Authenticator, is_valid_tenant

TOKEN_VARIABLE = "TROUPE_TOKEN"
"""The environment variable that holds the caller's bearer token when `--token` is not given."""


def service_address(settings: MeshSettings, service: str) -> str:
    """The address from the environment, else from a running local mesh's state file, else the default."""
    variable = f"{service.upper()}_ADDRESS"
    if variable not in os.environ:
        state = read_state(settings.data_dir)
        if state and service in state.get("services", {}):
            return state["services"][service]["address"]
    return settings.address_of(service)


def token_tenant(settings: MeshSettings, token: str) -> str | None:
    """The tenant `token` names, where this machine can tell; None where only the mesh knows.

    With the mesh's `AUTH_TOKENS` or `AUTH_JWT_KEY` in this environment (as beside `troupe up`), the token is
    checked as the mesh checks it; otherwise a JWT's tenant claim is read without verifying it.
    """
    if settings.auth_tokens or settings.auth_jwt_key:
        public = settings.model_copy(update={"public_service": True, "internal_token": None})
        with contextlib.suppress(MeshError):
            return Authenticator(public).authenticate("troupe", {"authorization": f"Bearer {token}"}).tenant
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    tenant = claims.get(settings.auth_tenant_claim) if isinstance(claims, dict) else None
    return tenant if isinstance(tenant, str) and is_valid_tenant(tenant) else None


@dataclass(frozen=True)
class Caller:
    """Who the CLI calls the mesh as: a bearer token, or nobody (a mesh without authentication)."""

    token: str | None = None
    tenant: str | None = None
    """The token's tenant where known (`token_tenant`)."""

    @classmethod
    def of(cls, settings: MeshSettings, token: str | None) -> Caller:
        token = (token or "").strip() or None
        return cls(token, token_tenant(settings, token) if token else None)

    def describe(self) -> str:
        if self.token is None:
            return "no tenant (no token sent)"
        return f"tenant {self.tenant}" if self.tenant else "the tenant of the given token"


@dataclass
class MeshConnection:
    settings: MeshSettings
    orchestrator_address: str
    control_address: str
    caller: Caller = field(default_factory=Caller)
    launcher_pid: int | None = None
    """The `troupe up` that runs the orchestrator called here, when it is this machine's local mesh."""

    @classmethod
    def from_settings(
        cls, settings: MeshSettings, orchestrator_address: str | None = None, caller: Caller | None = None
    ) -> MeshConnection:
        address = orchestrator_address or service_address(settings, "orchestrator")
        state = read_state(settings.data_dir) or {}
        local = state.get("services", {}).get("orchestrator", {}).get("address") == address
        return cls(
            settings,
            address,
            service_address(settings, "control"),
            caller or Caller(),
            state.get("launcher_pid") if local else None,
        )

    def local_mesh_stopped(self) -> bool:
        """Whether the local mesh called here has stopped (`troupe down`, Ctrl-C): it will not come back by
        itself. False where this cannot be told (another machine's mesh)."""
        if self.launcher_pid is None:
            return False
        state = read_state(self.settings.data_dir)
        return state is None or state.get("launcher_pid") != self.launcher_pid or not pid_alive(self.launcher_pid)

    def open(self, address: str) -> grpc.aio.Channel:
        """A channel that presents the caller's token; without one, no credentials at all."""
        if self.caller.token is not None:
            return open_channel(address, self.settings, bearer_token=self.caller.token)
        return open_channel(address, self.settings.model_copy(update={"internal_token": None}))

    async def __aenter__(self) -> Self:
        self._channels = {address: self.open(address) for address in {self.orchestrator_address, self.control_address}}
        orchestrator = self._channels[self.orchestrator_address]
        self.orchestrator = orchestrator_pb2_grpc.OrchestratorServiceStub(orchestrator)
        self.operations = operations_pb2_grpc.OperationsStub(orchestrator)
        self.control = control_pb2_grpc.SimulationControlServiceStub(self._channels[self.control_address])
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for channel in self._channels.values():
            await channel.close()


class FinishedCall:
    """A finished operation's error (a `google.rpc.Status`) in the shape of a failed call, so that the one
    reader of rich error details (services/runtime/errors.py) reads both."""

    CODES = {code.value[0]: code for code in grpc.StatusCode}

    def __init__(self, status: status_pb2.Status):
        self.status = status

    def code(self) -> grpc.StatusCode:
        return self.CODES.get(self.status.code, grpc.StatusCode.UNKNOWN)

    def details(self) -> str:
        return self.status.message

    def trailing_metadata(self) -> tuple[tuple[str, bytes], ...]:
        return ((rpc_status.GRPC_DETAILS_METADATA_KEY, self.status.SerializeToString()),)


def describe_error(error: grpc.aio.AioRpcError | FinishedCall) -> str:
    """The error's code and message, with every field violation it names and what to do where it is clear."""
    violations = field_violations(error)
    lines = [f"{error.code().name}: {error.details()}"]
    if violations:
        lines = [f"{error.code().name}: the request has invalid fields"]
        lines += [f"  {name}: {description}" for name, description in violations.items()]
    reason = error_reason(error)
    if error.code() == grpc.StatusCode.UNAUTHENTICATED:
        lines.append(f"the mesh asks for a token: pass --token or set {TOKEN_VARIABLE}")
    elif error.code() == grpc.StatusCode.PERMISSION_DENIED and reason == "INTERNAL_ONLY":
        lines.append("this service answers the mesh's own services only; callers go through the orchestrator")
    elif delays := error_details(error, error_details_pb2.RetryInfo):
        lines.append(f"retry in {delays[0].retry_delay.ToTimedelta().total_seconds():.1f} s")
    if hint := model_hint(error):
        lines.append(hint)
    return "\n".join(lines)


REJECTED_SIGNS = ("the model endpoint rejected the request", "LLMRequestError")
"""How a model call the endpoint rejected shows in a message that passes on participants' failures."""


def model_hint(error: grpc.aio.AioRpcError | FinishedCall) -> str:
    """What to check where the model endpoint failed the call (the reason, or a participant's failure in the
    message, says so)."""
    reason = error_reason(error)
    text = error.details() or ""
    if reason == "LLM_REQUEST_REJECTED" or any(sign in text for sign in REJECTED_SIGNS):
        return (
            "the model endpoint rejects the mesh's requests: check LLM_BASE_URL (an OpenAI-compatible base URL, "
            "usually ending in /v1), LLM_MODEL and LLM_API_KEY where the mesh runs, then start it again"
        )
    if is_model_failure(reason) or "the model is unavailable" in text:
        return "the model endpoint did not answer as it should: check that it runs (LLM_BASE_URL) and its logs"
    return ""
