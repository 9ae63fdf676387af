"""`troupe up --replicas population=2,simulation=3`: several processes per inner service behind
client-side round-robin, sharing one model rate budget through control."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tinytroupe_mesh_api.population.v1 import population_pb2, population_pb2_grpc

from services.cli.main import UsageError, with_replicas
from services.mesh.launcher import LocalMesh, check_replicas, read_state, service_of
from services.mesh.processes import MeshStartError, ServiceProcess
from services.runtime.clients import open_channel
from services.runtime.config import DEFAULT_PORTS, MeshSettings, parse_replicas
from tests.fake_llm import FakeLLMServer
from tests.orchestrator.support import Stubs, small_study


def test_replicas_read_from_the_command_line_form_or_json(monkeypatch):
    assert parse_replicas("population=2, simulation=3") == {"population": 2, "simulation": 3}
    assert parse_replicas('{"simulation": 3}') == {"simulation": 3}
    assert parse_replicas("") == {}
    with pytest.raises(ValueError, match="SERVICE=COUNT"):
        parse_replicas("population")
    monkeypatch.setenv("REPLICAS", "population=2,simulation=3")
    assert MeshSettings().replicas == {"population": 2, "simulation": 3}


def test_only_inner_services_run_several_processes():
    check_replicas({"population": 2, "simulation": 3, "content": 1, "extraction": 4, "orchestrator": 1})
    for wrong, message in (
        ({"control": 2}, "only population"),
        ({"orchestrator": 2}, "only population"),
        ({"populace": 2}, "no such service"),
        ({"simulation": 0}, "at least 1"),
    ):
        with pytest.raises(MeshStartError, match=message):
            check_replicas(wrong)


def test_the_command_line_option_sets_the_replicas_and_refuses_wrong_ones(monkeypatch):
    monkeypatch.delenv("REPLICAS", raising=False)
    settings = with_replicas(MeshSettings(), "population=2,simulation=3")
    assert settings.replicas == {"population": 2, "simulation": 3}
    with pytest.raises(UsageError, match="--replicas: replicas of control"):
        with_replicas(MeshSettings(), "control=2")


def test_replicas_are_named_after_their_service_and_reached_through_one_target(tmp_path):
    mesh = LocalMesh(data_dir=tmp_path, replicas={"simulation": 3})
    assert mesh.process_names("simulation") == ["simulation", "simulation-2", "simulation-3"]
    assert mesh.process_names("population") == ["population"]
    for index, name in enumerate(mesh.process_names("simulation")):
        process = ServiceProcess.of("simulation", {}, tmp_path, name=name)
        process.port = 6000 + index
        mesh.services[name] = process
    assert mesh.address("simulation") == "ipv4:127.0.0.1:6000,127.0.0.1:6001,127.0.0.1:6002"
    assert [service_of(name) for name in mesh.services] == ["simulation"] * 3
    assert service_of("control") == "control"


@pytest.mark.slow
async def test_troupe_up_with_replicas_spreads_calls_and_shares_one_budget(tmp_path: Path):
    replicas = {"population": 2, "simulation": 3}
    async with FakeLLMServer(latency=0.01) as fake:
        mesh = LocalMesh(
            data_dir=tmp_path / "data",
            ports=dict.fromkeys(DEFAULT_PORTS, 0),
            llm_base_url=fake.base_url,
            check_llm=False,
            replicas=replicas,
            extra_environment={
                "LLM_MODEL": fake.config.model,
                "LLM_RESPONSE_FORMAT": "json_schema",
                "LLM_BACKOFF_BASE_S": "0.01",
                "LLM_BACKOFF_MAX_S": "0.1",
            },
        )
        await mesh.start()
        try:
            state = read_state(mesh.data_dir)
            names = set(state["services"])
            assert {"population", "population-2", "simulation", "simulation-2", "simulation-3"} <= names
            assert "population-3" not in names and "control-2" not in names
            assert state["services"]["simulation-3"]["service"] == "simulation"
            assert mesh.environment["SIMULATION_ADDRESS"].startswith("ipv4:127.0.0.1:")
            assert mesh.environment["SIMULATION_ADDRESS"].count(",") == 2

            # Calls through the one target reach every replica (round-robin).
            async with open_channel(mesh.address("population")) as channel:
                population = population_pb2_grpc.PopulationServiceStub(channel)
                for _ in range(6):
                    await population.ListFragments(population_pb2.ListFragmentsRequest())
            for name in ("population", "population-2"):
                assert _logged_calls(mesh, name, "ListFragments") >= 2, f"{name} got no share of the calls"

            # A study runs through the replicas, and its model calls take grants of the shared budget.
            stubs = Stubs.connect(_Addresses(mesh), mesh.address("orchestrator"))
            try:
                operation = await stubs.orchestrator.RunStudy(small_study(("Ana", "Ben", "Cy"), rounds=1))
                result = await stubs.result(operation.name, timeout_s=120)
            finally:
                await stubs.close()
            assert result.participants.successful == 3
            assert _logged_calls(mesh, "control", "AcquireRateGrant") >= 1
        finally:
            await mesh.stop(grace_s=5)
    assert read_state(mesh.data_dir) is None
    assert all(process.exited() for process in mesh.services.values())


class _Addresses:
    """What `Stubs.connect` reads of a mesh's addresses."""

    def __init__(self, mesh: LocalMesh) -> None:
        self.orchestrator = mesh.address("orchestrator")
        self.control = mesh.address("control")


def _logged_calls(mesh: LocalMesh, process: str, method: str) -> int:
    count = 0
    for line in (mesh.log_dir / f"{process}.log").read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("event") == "rpc" and entry.get("grpc_method") == method:
            count += 1
    return count
