"""The example plans through `troupe run` against the real servers (in this process, on the fake LLM): the
step shown on the progress line, a step's statistics in the summary, and results.csv with a column per step
and field."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from google.protobuf import json_format
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.orchestrator.study_file import load_study_file
from services.orchestrator.validation import validate_study_request
from tests.cli.test_experiment_runs import dispatch, flat

pytestmark = pytest.mark.asyncio(loop_scope="session")

PLANS = Path(__file__).resolve().parents[2] / "examples" / "plans"


@pytest.mark.parametrize(
    ("name", "steps"),
    [
        ("commute_survey.yaml", ["satisfaction", "mode", "minutes", "would_switch", "wish"]),
        ("interview_guide.yaml", ["journey", "safety", "wish"]),
        ("focus_group_agenda.yaml", ["first_impressions", "worries", "new_price"]),
    ],
)
async def test_the_example_plans_load_and_validate(name, steps):
    request = load_study_file(PLANS / name)
    validate_study_request(request)
    assert [step.name for step in request.steps] == steps and not request.HasField("stimulus")


async def test_the_focus_group_agenda_runs_from_its_file(mesh, tmp_path):
    talk = {"actions": [{"type": "TALK", "target": "", "content": "I have a view on this."}]}
    rule = mesh.fake.script(r"^You are (Amara|Henrik|Mei|Tomas)\. You are in a focus group", talk, on="system")
    try:
        output = await dispatch(mesh, tmp_path / "data", "run", str(PLANS / "focus_group_agenda.yaml"))
    finally:
        mesh.fake.scripts.remove(rule)
    [folder] = (tmp_path / "data" / "results").iterdir()
    result = json_format.Parse((folder / "result.json").read_text(), orchestrator_pb2.StudyResult())
    assert result.status == orchestrator_pb2.STUDY_STATUS_COMPLETED
    assert [step.rounds_completed for step in result.step_results] == [2, 2, 1]
    text = flat(output)
    assert "Step 1 of 3: first_impressions" in text and "Step 3 of 3: new_price" in text
    rows = list(csv.reader((folder / "results.csv").open()))
    assert rows[0] == [
        "agent_name",
        "overall_interest",
        "first_impressions.interest",
        "worries.main_worry",
        "new_price.would_subscribe",
        "new_price.max_price",
        "confidence_score",
    ]
    assert sorted(row[0] for row in rows[1:]) == ["Amara", "Henrik", "Mei", "Tomas"]
    transcript = (folder / "transcript.md").read_text()
    assert "## Step 3: new_price" in transcript and "**intervention** (stimulus → Amara)" in transcript
    await dispatch(mesh, tmp_path / "data", "report", folder.name)
    page = (folder / "report.html").read_text()
    assert "first_impressions" in page and "new_price" in page


async def test_the_progress_line_shows_the_step_of_the_plan_and_its_round():
    from services.cli.render import describe_progress

    event = orchestrator_pb2.StudyProgress(
        phase=orchestrator_pb2.PHASE_SIMULATING, round=7, step=3, steps_total=5, step_round=2, agents_total=4
    )
    assert describe_progress(event) == "simulating step 3/5 round 2 · agents 0/4"
    event.step = event.steps_total = event.step_round = 0
    assert describe_progress(event) == "simulating round 7 · agents 0/4"


async def test_a_plan_file_takes_short_enum_names_in_its_steps_and_names_unknown_step_fields(tmp_path: Path):
    from services.orchestrator.study_file import StudyFileError, study_request_from_dict

    plan = {
        "participants": {"mode": "from_agent"},
        "steps": [{"stimulus": {"content": "Why?"}, "extraction_config": {"mode": "per_agent", "fields": ["why"]}}],
    }
    request = study_request_from_dict(plan, tmp_path)
    assert request.steps[0].extraction_config.mode == 1
    plan["steps"][0]["rundz"] = 2
    with pytest.raises(StudyFileError, match=r"unknown field steps\[0\]\.rundz \(did you mean steps\[0\]\.rounds\?\)"):
        study_request_from_dict(plan, tmp_path)
