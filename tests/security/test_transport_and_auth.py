"""TLS, mutual TLS and bearer-token authentication of the shared runtime, through real servers."""

from __future__ import annotations

import time

import grpc
import jwt
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pydantic import SecretStr
from tinytroupe_mesh_api.extraction.v1 import extraction_pb2, extraction_pb2_grpc

from services.runtime.clients import open_channel
from services.runtime.config import MeshSettings
from services.runtime.context import current_tenant
from services.runtime.server import ServiceDefinition, started_server
from services.runtime.testing import serving
from tests.security.certificates import CertificateAuthority

SERVICE = "tinytroupe.extraction.v1.ResultsExtractionService"


class TenantEcho(extraction_pb2_grpc.ResultsExtractionServiceServicer):
    """Answers with the tenant the runtime authenticated, so tests can see it."""

    async def ExportResults(self, request, context):
        return extraction_pb2.ExportResultsResponse(content=current_tenant.get().encode())


async def _register(server, settings):
    extraction_pb2_grpc.add_ResultsExtractionServiceServicer_to_server(TenantEcho(), server)


ECHO = ServiceDefinition("extraction", (SERVICE,), _register)


async def tenant_of(channel: grpc.aio.Channel, metadata=()) -> str:
    reply = await extraction_pb2_grpc.ResultsExtractionServiceStub(channel).ExportResults(
        extraction_pb2.ExportResultsRequest(), metadata=metadata, timeout=5
    )
    return reply.content.decode()


async def healthy(channel: grpc.aio.Channel) -> bool:
    reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    return reply.status == health_pb2.HealthCheckResponse.SERVING


@pytest.fixture
def pki(tmp_path):
    ca = CertificateAuthority(tmp_path)
    return ca, ca.issue("server"), ca.issue("client"), CertificateAuthority(tmp_path, "rogue-ca").issue("rogue")


async def test_mutual_tls_refuses_clients_without_a_valid_certificate(pki, tmp_path):
    ca, server_cert, client_cert, rogue_cert = pki
    settings = MeshSettings(
        data_dir=tmp_path,
        tls_cert_file=server_cert.cert,
        tls_key_file=server_cert.key,
        tls_ca_file=ca.path,
        tls_require_client_cert=True,
    )
    async with serving(ECHO, settings) as address:
        target = address.replace("127.0.0.1", "localhost")
        good = MeshSettings(tls_ca_file=ca.path, tls_cert_file=client_cert.cert, tls_key_file=client_cert.key)
        async with open_channel(target, good) as channel:
            assert await healthy(channel)
            assert await tenant_of(channel) == ""

        refused = {
            "no client certificate": MeshSettings(tls_ca_file=ca.path),
            "certificate from another CA": MeshSettings(
                tls_ca_file=ca.path, tls_cert_file=rogue_cert.cert, tls_key_file=rogue_cert.key
            ),
        }
        for why, client_settings in refused.items():
            async with open_channel(target, client_settings) as channel:
                with pytest.raises(grpc.aio.AioRpcError) as error:
                    await health_pb2_grpc.HealthStub(channel).Check(
                        health_pb2.HealthCheckRequest(), timeout=3, wait_for_ready=False
                    )
                assert error.value.code() == grpc.StatusCode.UNAVAILABLE, why

        async with grpc.aio.insecure_channel(target) as plaintext:
            with pytest.raises(grpc.aio.AioRpcError) as error:
                await health_pb2_grpc.HealthStub(plaintext).Check(health_pb2.HealthCheckRequest(), timeout=3)
            assert error.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_a_health_only_port_answers_probes_without_a_certificate(pki, tmp_path):
    """Probes (kubelet's gRPC probe has no client certificate) use HEALTH_PORT; it serves nothing else."""
    ca, server_cert, _, _ = pki
    settings = MeshSettings(
        data_dir=tmp_path,
        tls_cert_file=server_cert.cert,
        tls_key_file=server_cert.key,
        tls_ca_file=ca.path,
        tls_require_client_cert=True,
        health_port=0,
        metrics_port=0,
    )
    async with started_server(ECHO, settings, port=0) as running:
        assert running.health_port
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.health_port}") as channel:
            assert await healthy(channel)
            service = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=SERVICE), timeout=5
            )
            assert service.status == health_pb2.HealthCheckResponse.SERVING
            with pytest.raises(grpc.aio.AioRpcError) as error:
                await tenant_of(channel)
            assert error.value.code() == grpc.StatusCode.UNIMPLEMENTED
        async with grpc.aio.insecure_channel(f"localhost:{running.port}") as plaintext:
            with pytest.raises(grpc.aio.AioRpcError) as error:
                await health_pb2_grpc.HealthStub(plaintext).Check(health_pb2.HealthCheckRequest(), timeout=3)
            assert error.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_plaintext_off_loopback_is_refused_unless_allowed(tmp_path):
    from services.runtime.security import server_credentials

    with pytest.raises(SystemExit, match="refusing to serve plaintext"):
        server_credentials(MeshSettings(host="0.0.0.0"))
    assert server_credentials(MeshSettings(host="0.0.0.0", allow_insecure=True)) is None
    assert server_credentials(MeshSettings(host="127.0.0.1")) is None


JWT_SECRET = "a-test-secret-that-is-long-enough-for-hs256"


def token(claims: dict) -> str:
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


async def test_public_service_maps_tokens_to_tenants(tmp_path):
    settings = MeshSettings(
        data_dir=tmp_path,
        public_service=True,
        auth_tokens=SecretStr("tok-acme=acme,tok-globex=globex"),
        auth_jwt_key=SecretStr(JWT_SECRET),
        internal_token=SecretStr("mesh-internal"),
    )
    async with serving(ECHO, settings) as address, grpc.aio.insecure_channel(address) as channel:
        assert await healthy(channel), "health stays open for probes"
        assert await tenant_of(channel, (("authorization", "Bearer tok-acme"),)) == "acme"
        assert await tenant_of(channel, (("authorization", "Bearer tok-globex"),)) == "globex"
        valid_jwt = token({"tenant": "initech", "exp": int(time.time()) + 60})
        assert await tenant_of(channel, (("authorization", f"Bearer {valid_jwt}"),)) == "initech"

        rejected = {
            "missing": (),
            "unknown token": (("authorization", "Bearer nope"),),
            "expired jwt": (("authorization", f"Bearer {token({'tenant': 'x', 'exp': int(time.time()) - 10})}"),),
            "wrong scheme": (("authorization", "Basic tok-acme"),),
        }
        for why, metadata in rejected.items():
            with pytest.raises(grpc.aio.AioRpcError) as error:
                await tenant_of(channel, metadata)
            assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED, why

        no_tenant = token({"exp": int(time.time()) + 60})
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await tenant_of(channel, (("authorization", f"Bearer {no_tenant}"),))
        assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_inner_services_accept_only_the_mesh_and_receive_the_tenant(tmp_path):
    inner = MeshSettings(
        data_dir=tmp_path, auth_tokens=SecretStr("tok-acme=acme"), internal_token=SecretStr("mesh-internal")
    )
    async with serving(ECHO, inner) as address:
        async with grpc.aio.insecure_channel(address) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as error:
                await tenant_of(channel, (("authorization", "Bearer tok-acme"),))
            assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED
            assert await healthy(channel)

        caller = MeshSettings(internal_token=SecretStr("mesh-internal"))
        async with open_channel(address, caller) as channel:
            reset = current_tenant.set("acme")
            try:
                assert await tenant_of(channel) == "acme"
            finally:
                current_tenant.reset(reset)


async def test_streaming_calls_carry_credentials_and_tenant_too(tmp_path):
    """Server-streaming calls between services present the internal token and the tenant as well."""
    from tinytroupe_mesh_api.simulation.v1 import simulation_pb2, simulation_pb2_grpc

    class TenantStream(simulation_pb2_grpc.SimulationServiceServicer):
        async def RunSimulation(self, request, context):
            yield simulation_pb2.SimulationEvent(agent_failed=simulation_pb2.AgentFailed(reason=current_tenant.get()))

    async def register(server, settings):
        simulation_pb2_grpc.add_SimulationServiceServicer_to_server(TenantStream(), server)

    definition = ServiceDefinition("simulation", ("tinytroupe.simulation.v1.SimulationService",), register)
    inner = MeshSettings(data_dir=tmp_path, internal_token=SecretStr("mesh-internal"))
    async with serving(definition, inner) as address:
        async with open_channel(address, MeshSettings(internal_token=SecretStr("mesh-internal"))) as channel:
            reset = current_tenant.set("acme")
            try:
                stream = simulation_pb2_grpc.SimulationServiceStub(channel).RunSimulation(
                    simulation_pb2.RunSimulationRequest()
                )
                events = [event async for event in stream]
            finally:
                current_tenant.reset(reset)
    assert [event.agent_failed.reason for event in events] == ["acme"]


async def test_inner_services_tell_a_wrong_token_from_a_callers_token(tmp_path):
    """Holding the callers' credentials (as every server of `troupe up` does), an inner service answers a
    caller's valid token PERMISSION_DENIED and a wrong one UNAUTHENTICATED; holding only the internal token
    (as the inner services of deploy/ do), it cannot tell them apart and refuses both as internal-only."""
    knowing = MeshSettings(
        data_dir=tmp_path,
        auth_tokens=SecretStr("tok-acme=acme"),
        auth_jwt_key=SecretStr(JWT_SECRET),
        internal_token=SecretStr("mesh-internal"),
    )
    async with serving(ECHO, knowing) as address, grpc.aio.insecure_channel(address) as channel:
        answers = {
            "caller token": (("authorization", "Bearer tok-acme"),),
            "caller jwt": (("authorization", f"Bearer {token({'tenant': 'acme', 'exp': int(time.time()) + 60})}"),),
            "wrong token": (("authorization", "Bearer tok-nope"),),
            "expired jwt": (("authorization", f"Bearer {token({'tenant': 'acme', 'exp': int(time.time()) - 10})}"),),
            "no token": (),
        }
        codes = {}
        for why, metadata in answers.items():
            with pytest.raises(grpc.aio.AioRpcError) as error:
                await tenant_of(channel, metadata)
            codes[why] = error.value.code()
        assert codes == {
            "caller token": grpc.StatusCode.PERMISSION_DENIED,
            "caller jwt": grpc.StatusCode.PERMISSION_DENIED,
            "wrong token": grpc.StatusCode.UNAUTHENTICATED,
            "expired jwt": grpc.StatusCode.UNAUTHENTICATED,
            "no token": grpc.StatusCode.UNAUTHENTICATED,
        }

    internal_only = MeshSettings(data_dir=tmp_path, internal_token=SecretStr("mesh-internal"))
    async with serving(ECHO, internal_only) as address, grpc.aio.insecure_channel(address) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await tenant_of(channel, (("authorization", "Bearer tok-nope"),))
        assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED
