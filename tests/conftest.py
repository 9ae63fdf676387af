"""Suite-wide fixtures: the fake LLM server's, and `mesh`, the six real servers in this process.

`mesh` starts once per test session, lazily, on 127.0.0.1 and free ports: control on SQLite in a
temporary directory, every service pointing at one fake LLM server (20 ms per answer). Tests that
use it run in the session's event loop, where the servers live:

    pytestmark = pytest.mark.asyncio(loop_scope="session")

    async def test_something(mesh):
        channel = open_channel(mesh.addresses.orchestrator) ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio

from services.mesh.in_process import MeshAddresses, in_process_mesh
from services.orchestrator.settings import StudySettings
from services.runtime.config import LLMSettings, MeshSettings
from tests.fake_llm import FakeLLMServer
from tests.fake_llm.settings import client_settings

pytest_plugins = ["tests.fake_llm.pytest_plugin"]

MESH_LLM_LATENCY_S = 0.02
MESH_LEASE_TTL_S = 2.0


@dataclass(frozen=True)
class Mesh:
    addresses: MeshAddresses
    fake: FakeLLMServer
    study_settings: StudySettings


@pytest.fixture
def settings(fake_llm, tmp_path) -> MeshSettings:
    """Settings of one service under test on its own: the `fake_llm` model, short retries, no control service
    (127.0.0.1:9 refuses), no metrics port."""
    llm = client_settings(fake_llm)
    return MeshSettings(data_dir=tmp_path, metrics_port=0, log_level="WARNING", llm=llm, control_address="127.0.0.1:9")


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def mesh(tmp_path_factory) -> AsyncIterator[Mesh]:
    async with FakeLLMServer(latency=MESH_LLM_LATENCY_S) as fake:
        llm = LLMSettings(
            base_url=fake.base_url,
            model=fake.config.model,
            response_format="json_schema",
            timeout_s=10.0,
            max_retries=4,
            backoff_base_s=0.01,
            backoff_max_s=0.1,
        )
        study = StudySettings(
            lease_ttl_s=MESH_LEASE_TTL_S,
            recovery_interval_s=0.5,
            watch_poll_interval_s=0.1,
            replica_id="mesh-orchestrator",
            max_running_per_tenant=0,  # the suite starts many studies; quotas have their own tests
            creation_rate_per_minute=0,
        )
        async with in_process_mesh(tmp_path_factory.mktemp("mesh"), llm, study) as addresses:
            yield Mesh(addresses=addresses, fake=fake, study_settings=study)
