"""Through the real mesh with authentication on: a tenant's studies are invisible to other tenants, and
each tenant's running studies and study starts are limited, with RESOURCE_EXHAUSTED and QuotaFailure."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest
from google.longrunning import operations_pb2, operations_pb2_grpc
from google.rpc import error_details_pb2
from pydantic import SecretStr
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2, orchestrator_pb2_grpc

from services.mesh.in_process import in_process_mesh
from services.orchestrator.quotas import TokenBucket
from services.orchestrator.settings import StudySettings
from services.runtime.clients import open_channel
from services.runtime.config import LLMSettings, MeshSettings
from tests.fake_llm import FakeLLMServer
from tests.orchestrator.support import small_study
from tests.rich_errors import error_details

TOKENS = {"acme": "tok-acme-0123456789", "globex": "tok-globex-0123456789"}
AUTHENTICATED = MeshSettings(
    auth_tokens=SecretStr(",".join(f"{token}={tenant}" for tenant, token in TOKENS.items())),
    internal_token=SecretStr("mesh-internal-0123456789"),
)


@dataclass
class Caller:
    orchestrator: orchestrator_pb2_grpc.OrchestratorServiceStub
    operations: operations_pb2_grpc.OperationsStub

    async def wait(self, name: str) -> operations_pb2.Operation:
        request = operations_pb2.WaitOperationRequest(name=name)
        request.timeout.FromSeconds(60)
        return await self.operations.WaitOperation(request, timeout=65)


@contextlib.asynccontextmanager
async def authenticated_mesh(
    tmp_path, study: StudySettings, latency_s: float = 0.02
) -> AsyncIterator[dict[str, Caller]]:
    """The mesh with tokens for two tenants; yields a caller per tenant, each with its own token."""
    async with FakeLLMServer(latency=latency_s) as fake, contextlib.AsyncExitStack() as stack:
        llm = LLMSettings(base_url=fake.base_url, model=fake.config.model, response_format="json_schema")
        addresses = await stack.enter_async_context(in_process_mesh(tmp_path, llm, study, AUTHENTICATED))
        callers = {}
        for tenant, token in TOKENS.items():
            channel = await stack.enter_async_context(
                open_channel(addresses.orchestrator, MeshSettings(), bearer_token=token)
            )
            callers[tenant] = Caller(
                orchestrator_pb2_grpc.OrchestratorServiceStub(channel), operations_pb2_grpc.OperationsStub(channel)
            )
        yield callers


async def expect_code(call, code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call
    assert error.value.code() == code, error.value.details()
    return error.value


async def test_a_tenant_cannot_see_or_touch_another_tenants_study(tmp_path):
    study = StudySettings(lease_ttl_s=5, recovery_interval_s=0, watch_poll_interval_s=0.1)
    async with authenticated_mesh(tmp_path, study) as callers:
        acme, globex = callers["acme"], callers["globex"]
        request = small_study()
        operation = await acme.orchestrator.RunStudy(request)
        name = operation.name

        await expect_code(
            globex.operations.GetOperation(operations_pb2.GetOperationRequest(name=name)), grpc.StatusCode.NOT_FOUND
        )
        await expect_code(
            globex.operations.CancelOperation(operations_pb2.CancelOperationRequest(name=name)),
            grpc.StatusCode.NOT_FOUND,
        )
        await expect_code(
            globex.operations.DeleteOperation(operations_pb2.DeleteOperationRequest(name=name)),
            grpc.StatusCode.NOT_FOUND,
        )
        await expect_code(
            globex.operations.WaitOperation(operations_pb2.WaitOperationRequest(name=name)), grpc.StatusCode.NOT_FOUND
        )
        await expect_code(
            globex.orchestrator.ResumeStudy(orchestrator_pb2.ResumeStudyRequest(name=name)), grpc.StatusCode.NOT_FOUND
        )
        watch = globex.orchestrator.WatchStudy(orchestrator_pb2.WatchStudyRequest(name=name))
        await expect_code(watch.read(), grpc.StatusCode.NOT_FOUND)
        listed = await globex.operations.ListOperations(operations_pb2.ListOperationsRequest(page_size=100))
        assert name not in [listed_operation.name for listed_operation in listed.operations]

        # The same request id from another tenant starts that tenant's own study.
        own = await globex.orchestrator.RunStudy(request)
        assert own.name != name

        done = await acme.wait(name)
        assert done.done and not done.HasField("error"), done.error
        result = orchestrator_pb2.StudyResult()
        assert done.response.Unpack(result) and result.status == orchestrator_pb2.STUDY_STATUS_COMPLETED
        listed = await acme.operations.ListOperations(operations_pb2.ListOperationsRequest(page_size=100))
        assert [listed_operation.name for listed_operation in listed.operations] == [name]
        assert (await globex.wait(own.name)).done


async def test_running_studies_and_study_starts_are_limited_per_tenant(tmp_path):
    study = StudySettings(
        lease_ttl_s=5, recovery_interval_s=0, max_running_per_tenant=1, creation_rate_per_minute=1, creation_burst=3
    )
    async with authenticated_mesh(tmp_path, study, latency_s=0.3) as callers:
        acme, globex = callers["acme"], callers["globex"]
        first = small_study(rounds=3)
        running = await acme.orchestrator.RunStudy(first)
        repeated = await acme.orchestrator.RunStudy(first)
        assert repeated.name == running.name, "repeating a running study's request is not a new study"

        error = await expect_code(acme.orchestrator.RunStudy(small_study()), grpc.StatusCode.RESOURCE_EXHAUSTED)
        [failure] = error_details(error, error_details_pb2.QuotaFailure)
        assert failure.violations[0].subject == "running_studies"
        listed = await acme.operations.ListOperations(operations_pb2.ListOperationsRequest(page_size=100))
        assert [operation.name for operation in listed.operations] == [running.name], (
            "a refused study leaves no operation behind"
        )

        assert (await globex.orchestrator.RunStudy(small_study())).name, "other tenants have their own quota"

        # Three starts (the study, its repeat, the refused one) used up acme's burst of three.
        error = await expect_code(acme.orchestrator.RunStudy(small_study()), grpc.StatusCode.RESOURCE_EXHAUSTED)
        [failure] = error_details(error, error_details_pb2.QuotaFailure)
        assert failure.violations[0].subject == "studies_per_minute"
        [retry] = error_details(error, error_details_pb2.RetryInfo)
        assert retry.retry_delay.seconds > 0

        done = await acme.wait(running.name)
        assert done.done and not done.HasField("error"), done.error


def test_token_bucket_refills_at_its_rate_up_to_its_burst():
    now = [0.0]
    bucket = TokenBucket(rate_per_minute=6, burst=2, clock=lambda: now[0])
    assert bucket.take() == 0 and bucket.take() == 0
    assert bucket.take() == pytest.approx(10.0)
    now[0] = 5.0
    assert bucket.take() == pytest.approx(5.0)
    now[0] = 10.0
    assert bucket.take() == 0
    now[0] = 1000.0
    assert [bucket.take() for _ in range(3)][:2] == [0, 0], "at most `burst` tokens are saved up"
