"""A tenant's daily budget, counted in control's ledger across replicas: once spent, new studies are refused
with RESOURCE_EXHAUSTED and a QuotaFailure. Runs on a mesh whose control keeps SQLite and on one on PostgreSQL."""

from __future__ import annotations

import uuid
from pathlib import Path

import grpc
import psycopg
import pytest
from google.rpc import error_details_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.mesh.in_process import in_process_mesh
from services.orchestrator.settings import StudySettings
from services.runtime.config import LLMSettings, MeshSettings
from tests.control.conftest import POSTGRES_ADMIN_URL, schema_url
from tests.fake_llm import FakeLLMServer
from tests.orchestrator.support import Stubs, small_study
from tests.rich_errors import error_details

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def base_settings(request: pytest.FixtureRequest):
    if request.param == "sqlite":
        yield MeshSettings()
        return
    schema = f"budget_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield MeshSettings(database_url=schema_url(schema))
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


async def test_a_tenant_over_its_daily_budget_is_refused_with_a_quota_failure(
    tmp_path: Path, base_settings: MeshSettings
) -> None:
    async with FakeLLMServer(latency=0.01) as fake:
        llm = LLMSettings(
            base_url=fake.base_url,
            model=fake.config.model,
            backoff_base_s=0.01,
            prices={fake.config.model: {"input": 2.0, "output": 8.0}},
        )
        study = StudySettings(
            recovery_interval_s=0,
            watch_poll_interval_s=0.1,
            max_running_per_tenant=0,
            creation_rate_per_minute=0,
            tenant_max_cost_per_day=0.001,  # less than one study costs at these prices
        )
        async with in_process_mesh(tmp_path, llm, study, base=base_settings) as addresses:
            stubs = Stubs.connect(addresses)
            try:
                first = await stubs.result((await stubs.orchestrator.RunStudy(small_study(rounds=1))).name)
                assert first.metadata.token_usage.cost > 0.001
                assert first.metadata.token_usage.unpriced_calls == 0

                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await stubs.orchestrator.RunStudy(small_study(rounds=1))
                assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
                [failure] = error_details(refused.value, error_details_pb2.QuotaFailure)
                assert failure.violations[0].subject == "cost_per_day"
                assert "budget" in failure.violations[0].description
                requests = fake.stats.total_requests
                estimate_only = await stubs.orchestrator.EstimateStudy(
                    orchestrator_pb2.EstimateStudyRequest(study=small_study(rounds=1))
                )
                assert estimate_only.cost.expected > 0, "a priced model's estimate has a cost"
                assert fake.stats.total_requests == requests, "estimating calls no model"
            finally:
                await stubs.close()


async def test_a_study_stops_after_the_round_that_spent_its_tenants_daily_tokens(tmp_path: Path) -> None:
    async with FakeLLMServer(latency=0.01) as fake:
        llm = LLMSettings(base_url=fake.base_url, model=fake.config.model, backoff_base_s=0.01)
        study = StudySettings(
            recovery_interval_s=0,
            watch_poll_interval_s=0.1,
            max_running_per_tenant=0,
            creation_rate_per_minute=0,
            tenant_max_tokens_per_day=500,  # less than one round of two turns
        )
        async with in_process_mesh(tmp_path, llm, study) as addresses:
            stubs = Stubs.connect(addresses)
            try:
                result = await stubs.result((await stubs.orchestrator.RunStudy(small_study(rounds=3))).name)
                assert result.status == orchestrator_pb2.STUDY_STATUS_PARTIAL
                assert result.end_reason == orchestrator_pb2.STUDY_END_REASON_BUDGET_EXHAUSTED
                assert result.simulation_results.rounds_completed == 1
                assert fake.stats.total_requests == result.metadata.token_usage.model_requests == 2

                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await stubs.orchestrator.RunStudy(small_study(rounds=1))
                [failure] = error_details(refused.value, error_details_pb2.QuotaFailure)
                assert failure.violations[0].subject == "tokens_per_day"
            finally:
                await stubs.close()
