"""The TypeScript client (clients/typescript: ts-proto stubs for @grpc/grpc-js) against the real mesh.

The client package is built once per test session exactly as a user builds it, `npm run build`: buf
generates src/gen from the current protos/ with the pinned ts-proto, and tsc compiles it with the
client. Its generated code is never committed, so it cannot lag behind the contracts; a contract
change that breaks the client breaks this build. The compiled programs then run as separate Node.js
processes: a whole study (RunStudy, the WatchStudy progress stream, WaitOperation, the StudyResult
unpacked from the operation) and invalid requests whose rich error details they decode.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from services.orchestrator.service import make_definition
from services.orchestrator.settings import StudySettings
from services.runtime.config import MeshSettings
from services.runtime.testing import serving
from tests.polyglot.conftest import ROOT, run_json

TS_CLIENT = ROOT / "clients" / "typescript"
BUF = ROOT / "node_modules" / ".bin" / "buf"
NPM_CI = ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"]

mesh_loop = pytest.mark.asyncio(loop_scope="session")


def installed(folder: Path) -> bool:
    """Whether `npm ci` has run in `folder` since its lock file last changed."""
    marker = folder / "node_modules" / ".package-lock.json"
    return marker.exists() and marker.stat().st_mtime >= (folder / "package-lock.json").stat().st_mtime


@contextlib.contextmanager
def build_lock():
    """One build at a time on this machine: `buf generate` empties src/gen before writing it."""
    name = hashlib.sha256(str(TS_CLIENT).encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"mesh-typescript-build-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def typescript_client() -> Path:
    """clients/typescript built from the current protos: its compiled programs are in dist/."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are needed for the polyglot tests (Node.js 20 or later)")
    with build_lock():
        if not BUF.exists() or not installed(ROOT):
            subprocess.run(NPM_CI, cwd=ROOT, check=True, timeout=300)
        if not installed(TS_CLIENT):
            subprocess.run(NPM_CI, cwd=TS_CLIENT, check=True, timeout=300)
        build = subprocess.run(
            ["npm", "run", "build"], cwd=TS_CLIENT, capture_output=True, text=True, timeout=300, check=False
        )
    assert build.returncode == 0, f"npm run build failed:\n{build.stdout}\n{build.stderr}"
    for generated in (
        "tinytroupe/orchestrator/v1/orchestrator.ts",
        "google/longrunning/operations.ts",
        "google/rpc/error_details.ts",
    ):
        assert (TS_CLIENT / "src" / "gen" / generated).is_file(), generated
    return TS_CLIENT / "dist"


async def run_ts(dist: Path, program: str, *args: str) -> tuple[int, dict, str]:
    """Runs a compiled program of the client; returns its exit status, its JSON stdout and its stderr."""
    return await run_json("node", str(dist / program), *args)


@pytest.mark.slow
@mesh_loop
async def test_typescript_client_runs_a_study(typescript_client: Path, mesh) -> None:
    code, summary, progress = await run_ts(typescript_client, "run-study.js", "--address", mesh.addresses.orchestrator)
    assert code == 0, (summary, progress)
    assert summary["status"] == "STUDY_STATUS_COMPLETED", summary
    assert summary["done"] is True
    assert summary["operation"].startswith("operations/")
    assert summary["sessionId"] == "sessions/" + summary["operation"].removeprefix("operations/")
    assert summary["participants"] == {"total": 3, "successful": 3, "failed": 0}
    assert summary["roundsCompleted"] == 2
    assert summary["totalInteractions"] > 0
    assert summary["individualResults"] == 3
    assert summary["executionTimeS"] > 0

    statistics = summary["statistics"]
    assert sorted(statistics) == ["concerns", "purchase_intent", "rating"]
    for field, stats in statistics.items():
        assert stats["totalCount"] == 3, field
        assert 0 <= stats["usableCount"] <= 3, field
        assert stats["kind"] != "VALUE_KIND_UNSPECIFIED", field
    rating = statistics["rating"]
    assert rating["kind"] == "VALUE_KIND_NUMBER"
    if rating["usableCount"]:
        assert rating["numeric"]["min"] <= rating["numeric"]["mean"] <= rating["numeric"]["max"]

    # The progress stream: every phase in order, each event printed on stderr as it came.
    assert summary["progressEvents"] >= 3
    phases = summary["phases"]
    assert phases[-1] == "PHASE_DONE"
    assert "PHASE_SIMULATING" in phases and "PHASE_EXTRACTING" in phases
    assert phases.index("PHASE_SIMULATING") < phases.index("PHASE_EXTRACTING")
    assert f"started {summary['operation']}" in progress
    assert "[PHASE_SIMULATING] round 2/2" in progress


@pytest.mark.slow
@mesh_loop
@pytest.mark.parametrize(
    ("invalid", "field"),
    [
        ("mode", "participants.mode"),
        ("rounds", "simulation_config.rounds"),
    ],
)
async def test_typescript_client_decodes_rich_errors(typescript_client: Path, mesh, invalid: str, field: str) -> None:
    code, error, stderr = await run_ts(
        typescript_client, "bad-request.js", "--address", mesh.addresses.orchestrator, "--invalid", invalid
    )
    assert code == 0, (error, stderr)
    assert error["code"] == 3
    assert error["codeName"] == "INVALID_ARGUMENT"
    assert error["errorInfo"]["domain"] == "tinytroupe.io"
    assert error["errorInfo"]["reason"]
    assert field in [violation["field"] for violation in error["fieldViolations"]], error
    assert all(violation["description"] for violation in error["fieldViolations"])


@pytest.mark.slow
@mesh_loop
@pytest.mark.skipif("auth_tokens" not in MeshSettings.model_fields, reason="the mesh has no caller authentication")
async def test_typescript_client_sends_the_bearer_token(typescript_client: Path, mesh, tmp_path: Path) -> None:
    settings = mesh.addresses.settings(
        MeshSettings(data_dir=tmp_path, metrics_port=0, auth_tokens="s3cret-ts=tenant-a", public_service=True)
    )
    study = StudySettings(recovery_interval_s=0, replica_id="polyglot-ts-auth")
    async with serving(make_definition(study), settings) as address:
        _, error, _ = await run_ts(typescript_client, "bad-request.js", "--address", address)
        assert error["codeName"] == "UNAUTHENTICATED", error
        assert error["errorInfo"]["domain"] == "tinytroupe.io"

        _, error, _ = await run_ts(typescript_client, "bad-request.js", "--address", address, "--token", "s3cret-ts")
        assert error["codeName"] == "INVALID_ARGUMENT", error
        assert "participants.mode" in [violation["field"] for violation in error["fieldViolations"]]
