"""A study outlives its orchestrator: SIGKILL orchestrator A mid-simulation, B claims and finishes it.

Every server runs as its own process against the fake LLM process (0.3 s per answer). The resumed
study must equal a clean reference run, the model must not answer any round twice, and a later run
in the crashed study's cache namespace must replay without the model.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass

import pytest
import pytest_asyncio
from tinytroupe_mesh_api.control.v1 import control_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.mesh.in_process import MeshAddresses
from services.mesh.processes import ServiceProcess
from tests.e2e.support import fake_llm_process, fake_stats, reset_fake, subprocess_mesh
from tests.orchestrator.support import Stubs, small_study

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

LEASE_TTL_S = "2"
ROUNDS = 4


@dataclass
class CrashRun:
    reference: orchestrator_pb2.StudyResult
    reference_answers: int
    resumed: orchestrator_pb2.StudyResult
    resumed_answers: int
    cancelled_at_kill: int
    recovered_in_s: float
    final_state: int
    replay: orchestrator_pb2.StudyResult
    replay_answers: int


def answered(stats: dict) -> int:
    """Requests the fake answered (a request cancelled when its caller died is not an answer)."""
    return stats["by_outcome"].get("ok", 0)


def crash_study(cache_file: str) -> orchestrator_pb2.RunStudyRequest:
    study = small_study(names=("Ana", "Ben", "Caio"), rounds=ROUNDS, stimulus="Would you rent a solar kettle?")
    study.session_config.cache_file = cache_file
    return study


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def crash_run(tmp_path_factory) -> CrashRun:
    tmp_path = tmp_path_factory.mktemp("crash")
    async with (
        fake_llm_process(tmp_path / "logs", latency_s=0.3) as llm_url,
        subprocess_mesh(
            tmp_path,
            llm_url,
            STUDY_LEASE_TTL_S=LEASE_TTL_S,
            STUDY_RECOVERY_INTERVAL_S="0.5",
            STUDY_REPLICA_ID="orchestrator-a",
        ) as mesh,
    ):
        orchestrator_b = ServiceProcess.of(
            "orchestrator",
            {**mesh.service_environment("orchestrator", 0), "STUDY_REPLICA_ID": "orchestrator-b"},
            mesh.log_dir,
            name="orchestrator-b",
        )
        await orchestrator_b.start()
        try:
            await orchestrator_b.wait_serving()
            addresses = MeshAddresses(
                **{name: mesh.environment[f"{name.upper()}_ADDRESS"] for name in MeshAddresses.__dataclass_fields__}
            )
            on_a = Stubs.connect(addresses)
            on_b = Stubs.connect(addresses, orchestrator_address=orchestrator_b.address)

            await reset_fake(llm_url)
            reference_run = await on_a.orchestrator.RunStudy(crash_study(f"reference-{uuid.uuid4().hex}"))
            reference = await on_a.result(reference_run.name)
            reference_answers = answered(await fake_stats(llm_url))

            await reset_fake(llm_url)
            crash_namespace = f"crash-{uuid.uuid4().hex}"
            operation = await on_a.orchestrator.RunStudy(crash_study(crash_namespace))
            await _wait_for_checkpoint(on_a, operation.name, "round_2")
            mesh.services["orchestrator"].kill()
            killed_at = time.monotonic()
            resumed = await on_b.result(operation.name, timeout_s=60)
            recovered_in_s = time.monotonic() - killed_at
            crash_stats = await fake_stats(llm_url)
            final_state = (await on_b.session(operation.name)).state

            await reset_fake(llm_url)
            replay = await on_b.result((await on_b.orchestrator.RunStudy(crash_study(crash_namespace))).name)
            replay_answers = answered(await fake_stats(llm_url))
            await on_a.close()
            await on_b.close()
        finally:
            await orchestrator_b.stop(grace_s=5)
    return CrashRun(
        reference,
        reference_answers,
        resumed,
        answered(crash_stats),
        crash_stats["by_outcome"].get("cancelled", 0),
        recovered_in_s,
        final_state,
        replay,
        replay_answers,
    )


async def test_a_killed_orchestrators_study_is_finished_by_another(crash_run: CrashRun):
    resumed = crash_run.resumed
    assert resumed.status == orchestrator_pb2.STUDY_STATUS_COMPLETED
    assert resumed.metadata.resumed_count == 1 and "resumed_1" in resumed.metadata.checkpoints
    assert crash_run.final_state == control_pb2.Session.STATE_ENDED
    assert list(resumed.simulation_results.interactions) == list(crash_run.reference.simulation_results.interactions)
    assert resumed.extracted_results == crash_run.reference.extracted_results
    assert crash_run.resumed_answers == crash_run.reference_answers, "no round was answered twice by the model"
    assert crash_run.recovered_in_s < 30
    print(
        f"reference answers {crash_run.reference_answers}, crashed+resumed answers {crash_run.resumed_answers}, "
        f"cancelled at the kill {crash_run.cancelled_at_kill}, recovered in {crash_run.recovered_in_s:.1f} s"
    )


async def test_the_crashed_studys_cache_namespace_replays_without_the_model(crash_run: CrashRun):
    interactions = list(crash_run.replay.simulation_results.interactions)
    assert interactions == list(crash_run.resumed.simulation_results.interactions)
    assert crash_run.replay_answers == 0
    usage = crash_run.replay.metadata.token_usage
    assert usage.calls == 0 and usage.cached_calls > 0, "every answer came from the cache"


async def _wait_for_checkpoint(stubs: Stubs, operation: str, checkpoint_id: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while checkpoint_id not in await stubs.checkpoint_ids(operation):
        assert time.monotonic() < deadline, f"{checkpoint_id} did not appear"
        await asyncio.sleep(0.05)


async def test_a_restarted_simulation_server_resumes_the_stream_from_its_last_round(tmp_path):
    async with (
        fake_llm_process(tmp_path / "logs", latency_s=0.3) as llm_url,
        subprocess_mesh(tmp_path, llm_url) as mesh,
    ):
        addresses = MeshAddresses(
            **{name: mesh.environment[f"{name.upper()}_ADDRESS"] for name in MeshAddresses.__dataclass_fields__}
        )
        stubs = Stubs.connect(addresses)
        operation = await stubs.orchestrator.RunStudy(crash_study(f"restart-{uuid.uuid4().hex}"))
        await _wait_for_checkpoint(stubs, operation.name, "round_2")
        simulation = mesh.services["simulation"]
        simulation.kill()
        restarted = ServiceProcess.of(
            "simulation", {**simulation.environment}, mesh.log_dir, name="simulation-restarted"
        )
        restarted.environment["PORT"] = str(simulation.port)
        mesh.services["simulation"] = restarted
        await restarted.start()
        await restarted.wait_serving()
        result = await stubs.result(operation.name, timeout_s=60)
        await stubs.close()
    assert result.status == orchestrator_pb2.STUDY_STATUS_COMPLETED
    assert result.simulation_results.rounds_completed == ROUNDS
    assert {entry.round for entry in result.simulation_results.interactions} >= set(range(1, ROUNDS + 1))
    assert result.metadata.resumed_count == 0, "the same runner went on"
