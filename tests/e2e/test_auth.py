"""SECURITY.md's promises through `troupe up`: six servers as child processes, two tenants' tokens, with and
without TLS (a throwaway CA), the inner services internal-only, and the `troupe` commands acting for a tenant."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from google.longrunning import operations_pb2, operations_pb2_grpc
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from tinytroupe_mesh_api.control.v1 import control_pb2, control_pb2_grpc
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2, orchestrator_pb2_grpc

from services.mesh.launcher import free_port, read_state, stop_from_state
from services.runtime.config import DEFAULT_PORTS
from tests.e2e.support import fake_llm_process
from tests.e2e.test_cli import EXAMPLES, troupe
from tests.orchestrator.support import small_study
from tests.rich_errors import error_details
from tests.security.certificates import CertificateAuthority

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

TOKENS = {"alpha": "tok-alpha-0123456789", "beta": "tok-beta-0123456789"}
WRONG_TOKEN = "tok-nobody-0123456789"
CALL_TIMEOUT_S = 30
STUDY_TIMEOUT_S = 120
START_TIMEOUT_S = 240
SECURITY_VARIABLES = ("AUTH_", "INTERNAL_TOKEN", "TLS_", "PUBLIC_SERVICE", "TROUPE_TOKEN", "ALLOW_INSECURE")


@dataclass
class AuthMesh:
    tls: bool
    orchestrator: str
    control: str
    caller_credentials: grpc.ChannelCredentials | None
    """What a backend holds: the CA (the orchestrator asks for no client certificate)."""
    workload_credentials: grpc.ChannelCredentials | None
    """A certificate from the mesh's CA as well, as a pod inside the mesh holds: it gets past mutual TLS."""
    cli_environment: dict[str, str]
    """A caller's shell: the mesh's address, no tokens, no TLS settings."""
    cli_tls: tuple[str, ...]

    def channel(self, address: str, credentials: grpc.ChannelCredentials | None) -> grpc.aio.Channel:
        if credentials is None:
            return grpc.aio.insecure_channel(address)
        return grpc.aio.secure_channel(address, credentials)

    def caller_channel(self) -> grpc.aio.Channel:
        return self.channel(self.orchestrator, self.caller_credentials)

    def control_channel(self) -> grpc.aio.Channel:
        return self.channel(self.control, self.workload_credentials)


def bearer(token: str | None) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),) if token else ()


def clean_environment() -> dict[str, str]:
    return {
        key: value
        for key, value in os.environ.items()
        if not key.endswith("_ADDRESS") and not key.startswith(SECURITY_VARIABLES)
    }


def credentials_of(ca: Path, cert: Path | None = None, key: Path | None = None) -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials(
        root_certificates=ca.read_bytes(),
        private_key=key.read_bytes() if key else None,
        certificate_chain=cert.read_bytes() if cert else None,
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["plaintext", "tls"])
async def mesh(request, tmp_path_factory) -> AsyncIterator[AuthMesh]:
    tls = request.param == "tls"
    tmp_path = tmp_path_factory.mktemp(request.param)
    data_dir = tmp_path / "data"
    addresses = {f"{name.upper()}_ADDRESS": f"127.0.0.1:{free_port()}" for name in DEFAULT_PORTS}
    async with fake_llm_process(tmp_path / "logs", latency_s=0.02) as llm_url:
        base = {**clean_environment(), **addresses, "DATA_DIR": str(data_dir)}
        servers = {
            **base,
            "LLM_BASE_URL": llm_url,
            "LLM_MODEL": "fake-model",
            "LLM_RESPONSE_FORMAT": "json_schema",
            "AUTH_TOKENS": ",".join(f"{token}={tenant}" for tenant, token in TOKENS.items()),
        }
        caller_credentials = workload_credentials = None
        cli_tls: tuple[str, ...] = ()
        if tls:
            ca = CertificateAuthority(tmp_path)
            server, workload = ca.issue("mesh"), ca.issue("workload")
            # No INTERNAL_TOKEN: `troupe up` makes one up.
            servers.update(TLS_CERT_FILE=str(server.cert), TLS_KEY_FILE=str(server.key), TLS_CA_FILE=str(ca.path))
            caller_credentials = credentials_of(ca.path)
            workload_credentials = credentials_of(ca.path, workload.cert, workload.key)
            cli_tls = ("--ca-file", str(ca.path))
        else:
            servers["INTERNAL_TOKEN"] = "mesh-internal-0123456789"
        code, output = await troupe("up", "--detach", environment=servers, timeout_s=START_TIMEOUT_S)
        assert code == 0, output
        assert "alpha, beta" in output and TOKENS["alpha"] not in output
        try:
            state = read_state(data_dir)
            yield AuthMesh(
                tls=tls,
                orchestrator=state["services"]["orchestrator"]["address"],
                control=state["services"]["control"]["address"],
                caller_credentials=caller_credentials,
                workload_credentials=workload_credentials,
                cli_environment=base,
                cli_tls=cli_tls,
            )
        finally:
            await stop_from_state(data_dir, grace_s=5)


async def expect_code(call, code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call
    assert error.value.code() == code, error.value.details()
    return error.value


async def test_health_stays_open(mesh):
    for channel in (mesh.caller_channel(), mesh.control_channel()):
        async with channel:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=CALL_TIMEOUT_S
            )
            assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_no_token_and_a_wrong_token_are_unauthenticated_everywhere(mesh):
    async with mesh.caller_channel() as caller, mesh.control_channel() as inner:
        operations = operations_pb2_grpc.OperationsStub(caller)
        orchestrator = orchestrator_pb2_grpc.OrchestratorServiceStub(caller)
        control = control_pb2_grpc.SimulationControlServiceStub(inner)
        for token in (None, WRONG_TOKEN):
            await expect_code(
                operations.ListOperations(
                    operations_pb2.ListOperationsRequest(), metadata=bearer(token), timeout=CALL_TIMEOUT_S
                ),
                grpc.StatusCode.UNAUTHENTICATED,
            )
            await expect_code(
                orchestrator.RunStudy(small_study(), metadata=bearer(token), timeout=CALL_TIMEOUT_S),
                grpc.StatusCode.UNAUTHENTICATED,
            )
            await expect_code(
                control.ListSessions(control_pb2.ListSessionsRequest(), metadata=bearer(token), timeout=CALL_TIMEOUT_S),
                grpc.StatusCode.UNAUTHENTICATED,
            )


async def test_a_tenants_token_straight_to_control_is_permission_denied(mesh):
    async with mesh.control_channel() as inner:
        control = control_pb2_grpc.SimulationControlServiceStub(inner)
        error = await expect_code(
            control.ListSessions(
                control_pb2.ListSessionsRequest(), metadata=bearer(TOKENS["alpha"]), timeout=CALL_TIMEOUT_S
            ),
            grpc.StatusCode.PERMISSION_DENIED,
        )
        [info] = error_details(error, error_details_pb2.ErrorInfo)
        assert info.reason == "INTERNAL_ONLY"
    if mesh.tls:
        # Without a certificate from the mesh's CA, control does not even finish the handshake.
        async with mesh.channel(mesh.control, mesh.caller_credentials) as outsider:
            await expect_code(
                health_pb2_grpc.HealthStub(outsider).Check(health_pb2.HealthCheckRequest(), timeout=5),
                grpc.StatusCode.UNAVAILABLE,
            )


async def test_a_tenant_sees_its_own_study_and_not_another_tenants(mesh):
    async with mesh.caller_channel() as channel:
        orchestrator = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
        operations = operations_pb2_grpc.OperationsStub(channel)
        alpha, beta = bearer(TOKENS["alpha"]), bearer(TOKENS["beta"])
        operation = await orchestrator.RunStudy(small_study(), metadata=alpha, timeout=CALL_TIMEOUT_S)

        wait = operations_pb2.WaitOperationRequest(name=operation.name)
        wait.timeout.FromSeconds(STUDY_TIMEOUT_S)
        done = await operations.WaitOperation(wait, metadata=alpha, timeout=STUDY_TIMEOUT_S + 10)
        assert done.done and not done.HasField("error"), done.error
        result = orchestrator_pb2.StudyResult()
        assert done.response.Unpack(result) and result.status == orchestrator_pb2.STUDY_STATUS_COMPLETED

        get = operations_pb2.GetOperationRequest(name=operation.name)
        assert (await operations.GetOperation(get, metadata=alpha, timeout=CALL_TIMEOUT_S)).done
        await expect_code(
            operations.GetOperation(get, metadata=beta, timeout=CALL_TIMEOUT_S), grpc.StatusCode.NOT_FOUND
        )
        listing = operations_pb2.ListOperationsRequest(page_size=100)
        listed = await operations.ListOperations(listing, metadata=alpha, timeout=CALL_TIMEOUT_S)
        assert operation.name in [listed_operation.name for listed_operation in listed.operations]
        listed = await operations.ListOperations(listing, metadata=beta, timeout=CALL_TIMEOUT_S)
        assert operation.name not in [listed_operation.name for listed_operation in listed.operations]


async def test_the_cli_acts_for_the_tenant_of_its_token(mesh, tmp_path):
    environment, tls = mesh.cli_environment, mesh.cli_tls
    code, output = await troupe("sessions", *tls, environment=environment)
    assert code == 1 and "UNAUTHENTICATED" in output and "pass --token or set TROUPE_TOKEN" in output

    code, output = await troupe(
        "run",
        str(EXAMPLES / "focus_group.json"),
        "--output",
        str(tmp_path),
        "--token",
        TOKENS["beta"],
        *tls,
        environment=environment,
        timeout_s=STUDY_TIMEOUT_S,
    )
    assert code == 0, output
    assert "for the tenant of the given token" in output and "completed" in output
    [study] = [path.name for path in tmp_path.iterdir()]

    code, output = await troupe("sessions", "--token", TOKENS["beta"], *tls, environment=environment)
    assert code == 0 and study in output, output
    code, output = await troupe("checkpoints", study, *tls, environment={**environment, "TROUPE_TOKEN": TOKENS["beta"]})
    assert code == 0 and "agents_created" in output and "operation_complete" in output, output

    # Beside `troupe up` (its AUTH_TOKENS in the environment) the CLI names the tenant.
    alpha_shell = {**environment, "TROUPE_TOKEN": TOKENS["alpha"], "AUTH_TOKENS": f"{TOKENS['alpha']}=alpha"}
    code, output = await troupe("sessions", *tls, environment=alpha_shell)
    assert code == 0 and "Studies of tenant alpha" in output and study not in output, output
    code, output = await troupe("checkpoints", study, *tls, environment=alpha_shell)
    assert code == 1 and "NOT_FOUND" in output, output
    code, output = await troupe("sessions", "--all", *tls, environment=alpha_shell)
    assert code == 1 and "--all reads control" in output, output
