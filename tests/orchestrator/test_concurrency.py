"""Ten studies at once with the same agent names: each completes with its own, unmixed results."""

from __future__ import annotations

import asyncio
import time

import pytest
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from tests.orchestrator.support import Stubs, small_study

pytestmark = pytest.mark.asyncio(loop_scope="session")

STUDIES = 10


async def test_ten_concurrent_studies_stay_isolated(mesh):
    stubs = Stubs.connect(mesh.addresses)
    studies = [
        small_study(names=("Ana", "Ben", "Caio"), rounds=2, stimulus=f"Study {index}: would you buy product P{index}?")
        for index in range(STUDIES)
    ]
    started = time.monotonic()
    operations = await asyncio.gather(*(stubs.orchestrator.RunStudy(study) for study in studies))
    results = await asyncio.gather(*(stubs.result(operation.name, timeout_s=120) for operation in operations))
    elapsed = time.monotonic() - started
    await stubs.close()

    assert len({result.session_id for result in results}) == STUDIES
    for index, result in enumerate(results):
        assert result.status == orchestrator_pb2.STUDY_STATUS_COMPLETED
        transcript = result.simulation_results.interactions
        stimuli = {entry.content for entry in transcript if entry.action == study_pb2.ACTION_TYPE_STIMULUS}
        assert stimuli and all(f"Study {index}:" in content for content in stimuli), stimuli
        others = [f"Study {other}:" for other in range(STUDIES) if other != index]
        assert not any(marker in entry.content for entry in transcript for marker in others)
        actors = {entry.agent_name for entry in transcript if entry.action != study_pb2.ACTION_TYPE_STIMULUS}
        assert actors and actors <= {"Ana", "Ben", "Caio"}
        assert sorted(agent.agent_name for agent in result.extracted_results.individual_results) == [
            "Ana",
            "Ben",
            "Caio",
        ]
        assert result.simulation_results.rounds_completed == 2
    assert elapsed < 60, f"ten studies took {elapsed:.1f} s"
