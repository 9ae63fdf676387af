"""`troupe demo` on the embedded model (Gemma 3 270M): the real code path with a real local model."""

from __future__ import annotations

import json

import pytest

from services.mesh.launcher import free_port
from services.runtime.config import DEFAULT_PORTS
from tests.e2e.test_cli import mesh_environment, troupe

pytestmark = [pytest.mark.slow, pytest.mark.embedded]

DEMO_TIMEOUT_S = 280


async def test_demo_runs_the_example_focus_group_on_the_embedded_model(tmp_path):
    addresses = {f"{name.upper()}_ADDRESS": f"127.0.0.1:{free_port()}" for name in DEFAULT_PORTS}
    environment = mesh_environment(addresses, tmp_path / "data")
    environment.pop("LLM_BASE_URL", None)
    code, output = await troupe(
        "demo", "--output", str(tmp_path / "out"), environment=environment, timeout_s=DEMO_TIMEOUT_S
    )
    assert code == 0, output
    [study_dir] = list((tmp_path / "out").iterdir())
    result = json.loads((study_dir / "result.json").read_text())
    assert result["status"] in ("STUDY_STATUS_COMPLETED", "STUDY_STATUS_PARTIAL")
    assert result["simulation_results"]["rounds_completed"] == 2
    assert isinstance(result["metadata"]["token_usage"]["calls"], int)  # a number in the file, not a string
    assert result["metadata"]["token_usage"]["calls"] > 0
    quality = result["extracted_results"]["statistical_analysis"]["quality_metrics"]
    assert quality["score"] == result["metadata"]["quality_score"]
    assert sum(note["score_lost"] for note in quality["notes"]) <= 1 - quality["score"] + 1e-9
    assert "Statistics per field" in output
