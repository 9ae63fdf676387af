"""The Python example client (clients/python/run_study.py) against the real mesh, as a separate process."""

from __future__ import annotations

import sys

import pytest

from tests.polyglot.conftest import ROOT, run_json

SCRIPT = str(ROOT / "clients" / "python" / "run_study.py")


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="session")
async def test_python_client_runs_a_study(mesh) -> None:
    code, result, stderr = await run_json(sys.executable, SCRIPT, "--address", mesh.addresses.orchestrator)
    assert code == 0, (result, stderr)
    assert result["status"] == "STUDY_STATUS_COMPLETED", result
    assert result["participants"]["total"] == 2
    assert result["participants"]["successful"] == 2
    assert result["simulation_results"]["rounds_completed"] == 2
    statistics = result["extracted_results"]["aggregate_statistics"]
    assert [s["field"] for s in statistics] == ["rating"]
    assert statistics[0]["total_count"] == 2
    assert "PHASE_DONE" in stderr


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize(("invalid", "field"), [("mode", "participants.mode"), ("rounds", "simulation_config.rounds")])
async def test_python_client_decodes_rich_errors(mesh, invalid: str, field: str) -> None:
    code, error, stderr = await run_json(
        sys.executable, SCRIPT, "--address", mesh.addresses.orchestrator, "--invalid", invalid
    )
    assert code == 0, (error, stderr)
    assert error["code"] == "INVALID_ARGUMENT"
    assert error["error_info"]["domain"] == "tinytroupe.io"
    assert field in [v["field"] for v in error["field_violations"]]
