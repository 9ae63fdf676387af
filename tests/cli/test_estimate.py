"""`troupe estimate FILE` against the real servers (in this process, on the fake model), and the spend on the
progress line."""

from __future__ import annotations

from pathlib import Path

import pytest
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.cli.render import describe_progress
from tests.cli.support import lines
from tests.cli.test_against_the_mesh import dispatch, study

pytestmark = pytest.mark.asyncio(loop_scope="session")

EXPERIMENTS = Path(__file__).resolve().parents[2] / "examples" / "experiments"


async def test_estimate_prints_the_ranges_and_the_critical_path_and_runs_nothing(mesh, tmp_path):
    requests = mesh.fake.stats.total_requests
    output = await dispatch(mesh, tmp_path, "estimate", str(study(tmp_path)), "--latency", "3")
    text = "\n".join(lines(output))
    assert mesh.fake.stats.total_requests == requests, "estimating calls no model"
    for row in ("model calls", "prompt tokens", "completion tokens", "cost (USD)"):
        assert row in text, text
    assert "unknown" in text, "the fake model has no price"
    assert "critical path: 3 calls one after another, about 9 s at 3 s a call" in text, text
    assert all(len(line) <= 80 for line in lines(output))


async def test_estimate_takes_an_experiment_file(mesh, tmp_path):
    output = await dispatch(mesh, tmp_path, "estimate", str(EXPERIMENTS / "price_ab.yaml"))
    text = "\n".join(lines(output))
    assert "model calls" in text and "arms run side by side" in text, text


async def test_the_progress_line_shows_the_tokens_and_cost_so_far():
    event = orchestrator_pb2.StudyProgress(
        phase=orchestrator_pb2.PHASE_SIMULATING,
        round=2,
        agents_done=1,
        agents_total=3,
        usage=study_pb2.TokenUsage(prompt_tokens=11_000, completion_tokens=1_300, cost=0.0123),
    )
    assert describe_progress(event) == "simulating round 2 · agents 1/3 · 12k tokens · $0.0123"
    event.usage.unpriced_calls = 2
    assert describe_progress(event).endswith("12k tokens · cost unknown")
    event.budget_exhausted = True
    assert "(budget spent)" in describe_progress(event)
