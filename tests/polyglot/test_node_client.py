"""The Node.js client (clients/node, @grpc/grpc-js + @grpc/proto-loader) against the real mesh.

It runs whole studies through the orchestrator (RunStudy, WatchStudy, WaitOperation, the StudyResult
unpacked from the operation) and reads the mesh's rich errors, as a backend in another language does.
"""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path

import pytest

from services.orchestrator.service import make_definition
from services.orchestrator.settings import StudySettings
from services.runtime.config import MeshSettings
from services.runtime.testing import serving
from tests.polyglot.conftest import NODE_CLIENT, run_json

mesh_loop = pytest.mark.asyncio(loop_scope="session")


async def run_node(script: str, *args: str) -> tuple[int, dict, str]:
    """Runs a script of clients/node/src; returns its exit status, its JSON stdout and its stderr."""
    return await run_json("node", str(NODE_CLIENT / "src" / script), *args)


def assert_statistics(summary: dict, fields: list[str], participants: int) -> None:
    statistics = summary["statistics"]
    assert sorted(statistics) == sorted(fields)
    for field, stats in statistics.items():
        assert stats["total_count"] == participants, field
        assert 0 <= stats["usable_count"] <= participants, field
        assert stats["kind"] != "VALUE_KIND_UNSPECIFIED", field
        if stats["kind"] == "VALUE_KIND_NUMBER" and stats["usable_count"]:
            numeric = stats["numeric"]
            assert numeric["count"] == stats["usable_count"]
            assert numeric["min"] <= numeric["mean"] <= numeric["max"]
        if stats["kind"] in ("VALUE_KIND_CATEGORY", "VALUE_KIND_BOOLEAN"):
            assert sum(c["count"] for c in stats["counts"]) == stats["usable_count"]
    assert summary["statistical_analysis"]["sample_size"] <= participants
    assert summary["individual_results"] == participants


@pytest.mark.slow
@mesh_loop
async def test_node_client_runs_studies(node_client: Path, mesh) -> None:
    orchestrator_address = mesh.addresses.orchestrator
    # The study the script builds itself: a focus group of three, two rounds, three fields.
    code, summary, progress = await run_node("run-study.js", "--address", orchestrator_address)
    assert code == 0, (summary, progress)
    assert summary["status"] == "STUDY_STATUS_COMPLETED", summary
    assert summary["operation"].startswith("operations/")
    assert summary["session_id"].startswith("sessions/")
    assert {key: summary["participants"][key] for key in ("total", "successful", "failed")} == {
        "total": 3,
        "successful": 3,
        "failed": 0,
    }
    assert not any(count for key, count in summary["participants"].items() if key.startswith("failed_"))
    assert summary["rounds_completed"] == 2
    assert summary["total_interactions"] > 0
    assert_statistics(summary, ["purchase_intent", "rating", "concerns"], participants=3)
    assert summary["statistics"]["rating"]["kind"] == "VALUE_KIND_NUMBER"
    assert summary["progress_events"] >= 1
    assert summary["phases"][-1] == "PHASE_DONE"
    assert "started operations/" in progress

    # A request read from a JSON file, in the seed template's spelling (`from_agent`, `survey`).
    code, summary, progress = await run_node(
        "run-study.js", "--address", orchestrator_address, "--quiet", str(NODE_CLIENT / "examples" / "survey.json")
    )
    assert code == 0, (summary, progress)
    assert summary["status"] == "STUDY_STATUS_COMPLETED", summary
    assert {key: summary["participants"][key] for key in ("total", "successful", "failed")} == {
        "total": 4,
        "successful": 4,
        "failed": 0,
    }
    assert not any(count for key, count in summary["participants"].items() if key.startswith("failed_"))
    assert summary["rounds_completed"] == 1
    assert_statistics(summary, ["would_subscribe", "max_monthly_price", "reasons"], participants=4)
    assert progress == ""


@pytest.mark.slow
@mesh_loop
@pytest.mark.parametrize(
    ("invalid", "field"),
    [
        ("mode", "participants.mode"),
        ("rounds", "simulation_config.rounds"),
    ],
)
async def test_node_client_decodes_rich_errors(node_client: Path, mesh, invalid: str, field: str) -> None:
    code, error, stderr = await run_node(
        "bad-request.js", "--address", mesh.addresses.orchestrator, "--invalid", invalid
    )
    assert code == 0, (error, stderr)
    assert error["code"] == 3
    assert error["code_name"] == "INVALID_ARGUMENT"
    assert error["error_info"]["domain"] == "tinytroupe.io"
    assert error["error_info"]["reason"]
    assert field in [violation["field"] for violation in error["field_violations"]], error
    assert all(violation["description"] for violation in error["field_violations"])


@contextlib.asynccontextmanager
async def authenticating_orchestrator(mesh, tmp_path: Path):
    """A second orchestrator in front of the shared mesh that asks callers for a bearer token."""
    settings = mesh.addresses.settings(
        MeshSettings(data_dir=tmp_path, metrics_port=0, auth_tokens="s3cret-node=tenant-a", public_service=True)
    )
    study = StudySettings(recovery_interval_s=0, replica_id="polyglot-auth")
    async with serving(make_definition(study), settings) as address:
        yield address


@pytest.mark.slow
@mesh_loop
@pytest.mark.skipif("auth_tokens" not in MeshSettings.model_fields, reason="the mesh has no caller authentication")
async def test_node_client_sends_the_bearer_token(node_client: Path, mesh, tmp_path: Path) -> None:
    async with authenticating_orchestrator(mesh, tmp_path) as address:
        _, error, _ = await run_node("bad-request.js", "--address", address)
        assert error["code_name"] == "UNAUTHENTICATED", error
        assert error["error_info"]["domain"] == "tinytroupe.io"

        _, error, _ = await run_node("bad-request.js", "--address", address, "--token", "s3cret-node")
        assert error["code_name"] == "INVALID_ARGUMENT", error
        assert "participants.mode" in [violation["field"] for violation in error["field_violations"]]


def test_node_client_unit_tests(node_client: Path) -> None:
    result = subprocess.run(
        ["node", "--test", "test/"], cwd=node_client, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# fail 0" in result.stdout
