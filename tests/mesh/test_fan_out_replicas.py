"""A large study fanned out over real replicas: each replica of population, simulation and extraction
gets parts of the one study."""

from __future__ import annotations

from pathlib import Path

import pytest
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.mesh.launcher import LocalMesh
from services.runtime.config import DEFAULT_PORTS
from tests.fake_llm import FakeLLMServer
from tests.mesh.test_replicas import _Addresses, _logged_calls
from tests.orchestrator.support import Stubs
from tests.orchestrator.test_fan_out_studies import survey

REPLICAS = {"population": 2, "simulation": 2, "extraction": 2}


@pytest.mark.slow
async def test_the_parts_of_one_study_reach_every_replica(tmp_path: Path):
    async with FakeLLMServer(latency=0.01) as fake:
        mesh = LocalMesh(
            data_dir=tmp_path / "data",
            ports=dict.fromkeys(DEFAULT_PORTS, 0),
            llm_base_url=fake.base_url,
            check_llm=False,
            replicas=REPLICAS,
            extra_environment={
                "LLM_MODEL": fake.config.model,
                "LLM_RESPONSE_FORMAT": "json_schema",
                "LLM_BACKOFF_BASE_S": "0.01",
                "LLM_BACKOFF_MAX_S": "0.1",
                "STUDY_FAN_OUT_CHUNK": "2",
            },
        )
        await mesh.start()
        try:
            stubs = Stubs.connect(_Addresses(mesh), mesh.address("orchestrator"))
            try:
                operation = await stubs.orchestrator.RunStudy(survey())
                result = await stubs.result(operation.name, timeout_s=180)
            finally:
                await stubs.close()
            assert result.status == orchestrator_pb2.STUDY_STATUS_COMPLETED, result.participant_failures
            assert result.participants.successful == 7
            assert len(result.extracted_results.individual_results) == 7
            calls = {
                name: _logged_calls(mesh, name, method)
                for service, method in (
                    ("population", "GeneratePopulation"),
                    ("simulation", "RunSimulation"),
                    ("extraction", "ExtractResults"),
                )
                for name in mesh.process_names(service)
            }
        finally:
            await mesh.stop(grace_s=5)
    # population: the plan and 4 parts; simulation and extraction: 4 parts each, over 2 replicas.
    assert all(count >= 1 for count in calls.values()), calls
    assert calls["population"] + calls["population-2"] == 5, calls
    assert calls["simulation"] + calls["simulation-2"] == 4, calls
