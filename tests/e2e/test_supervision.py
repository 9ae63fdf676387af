"""`troupe up` supervises its servers: kill -9 of the orchestrator, then of simulation, then of control (SQLite),
each mid-study, and each comes back on its port while the others keep running; the study that `troupe run`
follows meanwhile ends with its result.

`troupe up` and `troupe run` run as child processes against the fake LLM server. The test waits on what the
mesh shows (round checkpoints in control, new pids in the state file), never on fixed sleeps.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

import grpc
import pytest
from tinytroupe_mesh_api.control.v1 import control_pb2, control_pb2_grpc

from services.mesh.launcher import free_port, read_state
from services.mesh.processes import pid_alive
from services.mesh.supervision import read_events
from services.runtime.config import DEFAULT_PORTS
from tests.e2e.support import fake_llm_process
from tests.e2e.test_cli import EXAMPLES, mesh_environment, troupe

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]

ROUNDS = 10
DOWN_ROUNDS = 4
STEP_TIMEOUT_S = 90.0
KILLED = ("orchestrator", "simulation", "control")


def study_file(folder: Path, rounds: int = ROUNDS) -> Path:
    """The example focus group with more rounds (its agent files found where they are)."""
    study = json.loads((EXAMPLES / "focus_group.json").read_text())
    for entry in study["participants"]["specifications"]:
        entry["file"] = str(EXAMPLES / entry["file"])
    study["simulation_config"]["rounds"] = rounds
    path = folder / "long_focus_group.json"
    path.write_text(json.dumps(study))
    return path


class Mesh:
    """What the test sees of the mesh: the state file and control's checkpoints."""

    def __init__(self, data_dir: Path, control_address: str, up: asyncio.subprocess.Process | None = None):
        self.data_dir = data_dir
        self.up = up
        self.channel = grpc.aio.insecure_channel(control_address)
        self.control = control_pb2_grpc.SimulationControlServiceStub(self.channel)

    def pid(self, service: str) -> int:
        return read_state(self.data_dir)["services"][service]["pid"]

    async def until(self, what: str, check) -> object:
        deadline = time.monotonic() + STEP_TIMEOUT_S
        while True:
            assert self.up is None or self.up.returncode is None, f"troupe up exited while waiting for {what}"
            try:
                if found := await check():
                    return found
            except grpc.aio.AioRpcError as error:
                if error.code() != grpc.StatusCode.UNAVAILABLE:
                    raise
            assert time.monotonic() < deadline, f"{what} did not happen within {STEP_TIMEOUT_S} s"
            await asyncio.sleep(0.05)

    async def study_session(self) -> str:
        async def find():
            page = await self.control.ListSessions(control_pb2.ListSessionsRequest(page_size=10), timeout=5)
            return next((session.name for session in page.sessions if session.labels.get("kind") == "study"), None)

        return await self.until("the study's session", find)

    async def checkpoint_ids(self, session: str) -> list[str]:
        page = await self.control.ListCheckpoints(
            control_pb2.ListCheckpointsRequest(parent=session, page_size=1000), timeout=5
        )
        return [checkpoint.name.rsplit("/", 1)[-1] for checkpoint in page.checkpoints]

    async def next_round(self, session: str) -> int:
        """Waits for a round checkpoint after those there now; returns its round."""
        before = latest_round(await self.until("control", lambda: self.checkpoint_ids(session)))

        async def later():
            latest = latest_round(await self.checkpoint_ids(session))
            return latest if latest > before else None

        return await self.until(f"a round after round {before}", later)

    async def kill(self, service: str) -> int:
        """kill -9 of one server; returns when it serves again under a new pid."""
        pid = self.pid(service)
        os.kill(pid, signal.SIGKILL)

        async def restarted():
            state = read_state(self.data_dir)
            return state is not None and state["services"][service]["pid"] != pid

        await self.until(f"{service} restarted", restarted)
        assert not pid_alive(pid)
        return self.pid(service)


def latest_round(ids: list[str]) -> int:
    return max((int(name.removeprefix("round_")) for name in ids if name.startswith("round_")), default=0)


def environment_of(data_dir: Path, llm_url: str) -> dict[str, str]:
    addresses = {f"{name.upper()}_ADDRESS": f"127.0.0.1:{free_port()}" for name in DEFAULT_PORTS}
    return {
        **mesh_environment(addresses, data_dir),
        "LLM_BASE_URL": llm_url,
        "LLM_MODEL": "fake-model",
        "LLM_RESPONSE_FORMAT": "json_schema",
        "LLM_BACKOFF_BASE_S": "0.01",
        "LLM_BACKOFF_MAX_S": "0.1",
        # A killed orchestrator's study is claimed once its lease expires.
        "STUDY_LEASE_TTL_S": "3",
        "STUDY_RECOVERY_INTERVAL_S": "0.5",
        "COLUMNS": "80",
    }


async def troupe_process(*arguments: str, environment: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.cli.main", *arguments,
        env=environment, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip


async def test_up_restarts_killed_servers_and_the_study_completes(tmp_path):
    data_dir = tmp_path / "data"
    async with fake_llm_process(tmp_path / "logs", latency_s=0.25) as llm_url:
        environment = environment_of(data_dir, llm_url)
        addresses = {key: value for key, value in environment.items() if key.endswith("_ADDRESS")}
        up = await troupe_process("up", environment=environment)
        run = None
        mesh = Mesh(data_dir, addresses["CONTROL_ADDRESS"], up)
        try:
            await mesh.until("the mesh", lambda: asyncio.sleep(0, read_state(data_dir) is not None))
            first = {name: mesh.pid(name) for name in DEFAULT_PORTS}
            run = await troupe_process("run", str(study_file(tmp_path)), environment=environment)
            session = await mesh.study_session()
            killed_at = {}
            for service in KILLED:
                killed_at[service] = await mesh.next_round(session)
                assert killed_at[service] < ROUNDS, "the study is still running when the server is killed"
                await mesh.kill(service)
            output, _ = await asyncio.wait_for(run.communicate(), STEP_TIMEOUT_S * 2)
            output = output.decode()
            assert run.returncode == 0, output
            state = read_state(data_dir)
            for name in DEFAULT_PORTS:
                kept = name not in KILLED
                assert (state["services"][name]["pid"] == first[name]) == kept, f"{name} kept running: {kept}"
                assert state["services"][name]["restarts"] == (0 if kept else 1)
                assert state["services"][name]["address"] == addresses[f"{name.upper()}_ADDRESS"]
        finally:
            for process in (run, up):
                if process is not None and process.returncode is None:
                    process.send_signal(signal.SIGTERM)
            up_output, _ = await asyncio.wait_for(up.communicate(), 60)
            await mesh.channel.close()
    up_output = up_output.decode()
    print(f"killed at rounds {killed_at}\n{up_output}")

    [study_dir] = list((data_dir / "results").iterdir())
    result = json.loads((study_dir / "result.json").read_text())
    assert result["status"] in ("STUDY_STATUS_COMPLETED", "STUDY_STATUS_PARTIAL"), result["status"]
    assert result["simulation_results"]["rounds_completed"] == ROUNDS
    assert result["metadata"]["resumed_count"] >= 1, "the restarted orchestrator resumed the study"
    assert result["extracted_results"]["individual_results"]
    assert ("completed" if result["status"] == "STUDY_STATUS_COMPLETED" else "partial") in output

    restarted = read_events(data_dir / "logs", "service_restarted")
    assert [event["service"] for event in restarted] == list(KILLED)
    exits = read_events(data_dir / "logs", "service_exited")
    assert [(event["service"], event["exit"]) for event in exits] == [(name, "signal SIGKILL") for name in KILLED]
    for name in KILLED:
        assert f"{name} exited (signal SIGKILL, pid " in up_output and f"{name} is back (pid " in up_output
    assert "restarts: control 1, orchestrator 1, simulation 1" in up_output
    assert "the mesh has stopped" in up_output


async def test_a_study_stopped_by_down_says_how_it_goes_on_and_does(tmp_path):
    """`troupe down` mid-study: `troupe run` says the mesh stopped and how the study goes on (not that the mesh is
    not running); after `troupe up`, `troupe resume` follows it from its last checkpoint to its result."""
    data_dir = tmp_path / "data"
    # Answers slow enough that the study cannot end within the orchestrator's 1 s drain.
    async with fake_llm_process(tmp_path / "logs", latency_s=1.0) as llm_url:
        environment = {**environment_of(data_dir, llm_url), "SHUTDOWN_GRACE_S": "1"}
        mesh = Mesh(data_dir, environment["CONTROL_ADDRESS"])
        code, output = await troupe("up", "--detach", environment=environment)
        assert code == 0, output
        run = None
        try:
            run = await troupe_process("run", str(study_file(tmp_path, DOWN_ROUNDS)), environment=environment)
            session = await mesh.study_session()
            stopped_after = await mesh.next_round(session)
            code, output = await troupe("down", environment=environment)
            assert code == 0 and "orchestrator" in output, output
            output, _ = await asyncio.wait_for(run.communicate(), STEP_TIMEOUT_S)
            study = session.removeprefix("sessions/")
            flat = " ".join(output.decode().split())
            assert run.returncode == 1, flat
            assert f"the local mesh stopped while operations/{study} was running" in flat
            assert f"`troupe resume {study}`" in flat and "not running" not in flat

            code, output = await troupe("up", "--detach", environment=environment)
            assert code == 0, output
            code, output = await troupe("resume", study, environment=environment, timeout_s=STEP_TIMEOUT_S * 2)
            assert code == 0, output
            assert "completed" in output or "partial" in output
        finally:
            if run is not None and run.returncode is None:
                run.kill()
            await troupe("down", environment=environment)
        await mesh.channel.close()
    result = json.loads((data_dir / "results" / study / "result.json").read_text())
    assert result["simulation_results"]["rounds_completed"] == DOWN_ROUNDS
    assert result["metadata"]["resumed_count"] >= 1
    print(f"stopped after round {stopped_after}")


async def test_past_the_restart_limit_up_stops_the_mesh_and_fails(tmp_path):
    data_dir = tmp_path / "data"
    async with fake_llm_process(tmp_path / "logs", latency_s=0.01) as llm_url:
        up = await troupe_process("up", "--restart-limit", "0", environment=environment_of(data_dir, llm_url))
        mesh = Mesh(data_dir, "127.0.0.1:9", up)
        try:
            await mesh.until("the mesh", lambda: asyncio.sleep(0, read_state(data_dir) is not None))
            pids = [entry["pid"] for entry in read_state(data_dir)["services"].values()]
            os.kill(mesh.pid("content"), signal.SIGKILL)
            output, _ = await asyncio.wait_for(up.communicate(), 60)
        finally:
            if up.returncode is None:
                up.kill()
                await up.wait()
            await mesh.channel.close()
    flat = " ".join(output.decode().split())
    assert up.returncode == 1, flat
    assert "content exited (signal SIGKILL); restarts are off (restart limit 0)" in flat
    assert "the mesh has stopped: content kept exiting" in flat
    assert not any(pid_alive(pid) for pid in pids) and read_state(data_dir) is None
    assert [event["event"] for event in read_events(data_dir / "logs")] == ["restart_limit_reached"]
