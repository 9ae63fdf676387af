"""The `troupe` command against a local mesh of child processes on the fake LLM server."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from services.mesh.launcher import free_port, read_state
from services.mesh.processes import pid_alive
from services.runtime.config import DEFAULT_PORTS
from tests.e2e.support import fake_llm_process, subprocess_mesh

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


async def troupe(
    *arguments: str, environment: dict[str, str], timeout_s: float = 120, cwd: Path | None = None
) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli.main",
        *arguments,
        env={**environment, "COLUMNS": "160"},
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout_s)
    return process.returncode, output.decode()


def mesh_environment(addresses: dict[str, str], data_dir: Path) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.endswith("_ADDRESS")}
    return {**environment, **addresses, "DATA_DIR": str(data_dir)}


async def test_run_writes_the_results_and_prints_a_summary(tmp_path):
    async with (
        fake_llm_process(tmp_path / "logs", latency_s=0.02) as llm_url,
        subprocess_mesh(tmp_path / "mesh", llm_url) as mesh,
    ):
        addresses = {key: value for key, value in mesh.environment.items() if key.endswith("_ADDRESS")}
        environment = mesh_environment(addresses, tmp_path / "cli")
        work = tmp_path / "work"
        work.mkdir()
        code, output = await troupe("run", str(EXAMPLES / "focus_group.json"), environment=environment, cwd=work)
        assert code == 0, output
        assert "completed" in output and "Statistics per field" in output
        for field in ("purchase_intent", "max_monthly_price", "main_concern"):
            assert field in output
        assert list(work.iterdir()) == [], "results go under the data directory, not the current one"
        [study_dir] = list((tmp_path / "cli" / "results").iterdir())
        assert f"results in {study_dir}" in output
        result = json.loads((study_dir / "result.json").read_text())
        assert result["status"] == "STUDY_STATUS_COMPLETED"
        assert result["participants"]["successful"] == 3 and result["participants"]["failed"] == 0
        assert isinstance(result["metadata"]["token_usage"]["calls"], int)
        assert result["metadata"]["token_usage"]["calls"] > 0
        quality = result["extracted_results"]["statistical_analysis"]["quality_metrics"]
        assert {"score", "coverage", "confidence", "agreement", "failure_rate", "notes"} <= set(quality)
        rows = list(csv.reader((study_dir / "results.csv").open()))
        assert len(rows) == 4 and "purchase_intent" in rows[0]
        assert all(len(number.partition(".")[2]) <= 3 for number in (row[-1] for row in rows[1:]))

        code, output = await troupe(
            "run", str(EXAMPLES / "focus_group.json"), "--output", "out", environment=environment, cwd=work
        )
        assert code == 0, output
        [elsewhere] = list((work / "out").iterdir())
        assert f"results in {elsewhere}" in output
        assert result["simulation_results"]["rounds_completed"] == 2
        transcript = (study_dir / "transcript.md").read_text()
        assert "## Stimulus" in transcript and "## Round 1" in transcript  # a round of DONE only shows no heading

        code, output = await troupe("sessions", environment=environment)
        assert code == 0 and study_dir.name in output and elsewhere.name in output, output
        assert "completed" in output
        code, output = await troupe("checkpoints", study_dir.name, environment=environment)
        assert code == 0 and "agents_created" in output and "operation_complete" in output


async def test_commands_say_when_the_mesh_is_not_running(tmp_path):
    port = free_port()
    environment = mesh_environment(
        {"ORCHESTRATOR_ADDRESS": f"127.0.0.1:{port}", "CONTROL_ADDRESS": f"127.0.0.1:{port}"}, tmp_path
    )
    code, output = await troupe("run", str(EXAMPLES / "focus_group.json"), environment=environment)
    assert code == 1
    assert f"the mesh is not running at 127.0.0.1:{port}; start it with `troupe up`" in output
    code, output = await troupe("sessions", environment=environment)
    assert code == 1 and "start it with `troupe up`" in output


async def test_up_detach_and_down(tmp_path):
    async with fake_llm_process(tmp_path / "logs", latency_s=0.02) as llm_url:
        addresses = {f"{name.upper()}_ADDRESS": f"127.0.0.1:{free_port()}" for name in DEFAULT_PORTS}
        environment = {
            **mesh_environment(addresses, tmp_path / "data"),
            "LLM_BASE_URL": llm_url,
            "LLM_MODEL": "fake-model",
        }
        code, output = await troupe("up", "--detach", environment=environment)
        assert code == 0, output
        state = read_state(tmp_path / "data")
        pids = [entry["pid"] for entry in state["services"].values()]
        assert len(pids) == 6 and all(pid_alive(pid) for pid in pids)
        code, output = await troupe("up", "--detach", environment=environment)
        assert code == 1 and "already running" in output
        code, output = await troupe("down", environment=environment)
        assert code == 0 and "orchestrator" in output
        assert not any(pid_alive(pid) for pid in pids)
        assert read_state(tmp_path / "data") is None


async def test_up_stops_every_server_on_sigterm(tmp_path):
    async with fake_llm_process(tmp_path / "logs", latency_s=0.02) as llm_url:
        addresses = {f"{name.upper()}_ADDRESS": f"127.0.0.1:{free_port()}" for name in DEFAULT_PORTS}
        environment = {**mesh_environment(addresses, tmp_path / "data"), "LLM_BASE_URL": llm_url}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "services.cli.main",
            "up",
            env=environment,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            for _ in range(300):
                if (state := read_state(tmp_path / "data")) is not None:
                    break
                await asyncio.sleep(0.1)
            pids = [entry["pid"] for entry in state["services"].values()]
            assert all(pid_alive(pid) for pid in pids)
            process.send_signal(signal.SIGTERM)
            output, _ = await asyncio.wait_for(process.communicate(), 60)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert process.returncode == 0, output.decode()
        assert "the mesh has stopped" in output.decode()
        assert not any(pid_alive(pid) for pid in pids)
