"""The onboarding example (two arms, each a three-question survey plan) through `troupe run` and `troupe report`
against the real servers on the fake model: every step's field compared across the arms as `{step}.{field}`.

The fake model rates the guided flow clearer than the self-serve one (the first question names the flow) and
answers the effort question alike in both arms.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest
from google.protobuf import json_format
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from tests.cli.support import lines
from tests.cli.test_experiment_runs import EXPERIMENTS, SURVEY_TURN, dispatch, flat

pytestmark = pytest.mark.asyncio(loop_scope="session")

ONBOARDING_EXTRACTION = r"(?s)- first_look\.clarity:"


def onboarding_answer(body: dict) -> dict:
    text = "\n".join(str(message.get("content", "")) for message in body["messages"])
    spread = int(hashlib.sha256(text.encode()).hexdigest(), 16) % 2

    def value(found):
        return {"value": found, "evidence": "", "confidence": 0.9}

    return {
        "first_look.clarity": value((4 if "video call" in text else 1) + spread),
        "effort.effort": value("some"),
        "finish.would_finish": value("yes"),
    }


@pytest.mark.slow
async def test_the_onboarding_experiment_compares_each_question_across_the_flows(mesh, tmp_path: Path):
    talk = {
        "actions": [
            {"type": "TALK", "target": "", "content": "That is how I see it."},
            {"type": "DONE", "target": "", "content": ""},
        ]
    }
    rules = [
        mesh.fake.script(SURVEY_TURN, talk, on="system"),
        mesh.fake.script(ONBOARDING_EXTRACTION, onboarding_answer, merge=False),
    ]
    data_dir = tmp_path / "data"
    try:
        output = await dispatch(mesh, data_dir, "run", str(EXPERIMENTS / "onboarding_survey.yaml"))
        [folder] = (data_dir / "results").iterdir()
        await dispatch(mesh, data_dir, "report", folder.name)
    finally:
        for rule in rules:
            mesh.fake.scripts.remove(rule)

    assert all(len(line) <= 80 for line in lines(output)), "\n".join(lines(output))
    text = flat(output)
    assert "(onboarding_survey.yaml, an experiment of 2 arms)" in text
    assert "guided call scores higher than self-serve on first_look.clarity" in text

    result = json_format.Parse((folder / "result.json").read_text(), orchestrator_pb2.ExperimentResult())
    by_field = {comparison.field: comparison for comparison in result.comparisons}
    assert list(by_field) == ["first_look.clarity", "effort.effort", "finish.would_finish"]
    assert by_field["first_look.clarity"].significant and by_field["first_look.clarity"].p_value_adjusted < 0.05
    assert not by_field["effort.effort"].significant
    assert [len(arm.participants) for arm in result.arms] == [8, 8]

    answers = list(csv.DictReader((folder / "results.csv").open()))
    assert len(answers) == 16
    assert list(answers[0])[:5] == ["arm", "agent_name", "first_look.clarity", "effort.effort", "finish.would_finish"]

    page = (folder / "report.html").read_text()
    for shown in ("<code>first_look.clarity</code>", "video call", "selfie", "one of little/some/a lot"):
        assert shown in page, shown
