"""The example experiments through `troupe run` and `troupe report` against the real servers (in this process,
on the fake LLM): the comparisons table at 80 columns, the result files, and a report drawn in headless Chromium.

For the price test the fake model is scripted so that the 49 EUR arm likes the offer and the 69 EUR arm does
not (each participant talks, its answers depend on the price it saw); the message test runs on the fake's own
answers.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from google.protobuf import json_format
from rich.console import Console
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.cli.main import dispatch as cli_dispatch
from services.cli.main import parser
from services.runtime.config import MeshSettings
from tests.cli.headless import INSTALL_HINT, find_chromium, open_page
from tests.cli.support import console, lines

pytestmark = pytest.mark.asyncio(loop_scope="session")

EXPERIMENTS = Path(__file__).resolve().parents[2] / "examples" / "experiments"
SURVEY_TURN = r"^You are [^\n]+?\. You are answering a survey on your own"
PRICE_EXTRACTION = r"(?s)- purchase_intent:.*Transcript:.*(49|69) EUR a month"


@dataclass
class Run:
    output: Console
    folder: Path
    report_output: Console
    data_dir: Path


async def dispatch(mesh, data_dir: Path, *argv: str) -> Console:
    """`troupe ARGV` against the in-process mesh, its output on an 80-column console."""
    settings = MeshSettings(data_dir=data_dir).model_copy(
        update={"orchestrator_address": mesh.addresses.orchestrator, "control_address": mesh.addresses.control}
    )
    output = console(80)
    await cli_dispatch(parser().parse_args(list(argv)), output, settings)
    return output


def price_answer(body: dict) -> dict:
    """Extraction answers by the price the participant saw, varied a little by who it is."""
    text = "\n".join(str(message.get("content", "")) for message in body["messages"])
    cheap = "49 EUR a month" in text
    spread = int(hashlib.sha256(text.encode()).hexdigest(), 16) % 3
    intent = (7 if cheap else 2) + spread

    def value(found):
        return {"value": found, "evidence": "", "confidence": 0.9}

    return {
        "would_subscribe": value("yes" if cheap else "no"),
        "purchase_intent": value(intent),
        "price_fairness": value("fair" if cheap else "too expensive"),
        "max_monthly_price": value((55 if cheap else 35) + 5 * spread),
    }


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def runs(mesh, tmp_path_factory) -> dict[str, Run]:
    """Both examples run once, each with its own data directory, and their reports written."""
    talk = {
        "actions": [
            {"type": "TALK", "target": "", "content": "Here is what I think of it, honestly."},
            {"type": "DONE", "target": "", "content": ""},
        ]
    }
    rules = [
        mesh.fake.script(SURVEY_TURN, talk, on="system"),
        mesh.fake.script(PRICE_EXTRACTION, price_answer, merge=False),
    ]
    found = {}
    try:
        for name in ("price_ab.yaml", "message_test.yaml"):
            data_dir = tmp_path_factory.mktemp(name.split(".")[0]) / "data"
            output = await dispatch(mesh, data_dir, "run", str(EXPERIMENTS / name))
            [folder] = (data_dir / "results").iterdir()
            report_output = await dispatch(mesh, data_dir, "report", folder.name)
            found[name] = Run(output, folder, report_output, data_dir)
    finally:
        for rule in rules:
            mesh.fake.scripts.remove(rule)
    return found


def flat(output: Console) -> str:
    """The output with its line breaks undone: sentences wrap at 80 columns."""
    return " ".join(output.export_text(clear=False).split())


def result_of(run: Run) -> orchestrator_pb2.ExperimentResult:
    return json_format.Parse((run.folder / "result.json").read_text(), orchestrator_pb2.ExperimentResult())


async def test_the_price_test_prints_its_comparisons_at_80_columns(runs):
    run = runs["price_ab.yaml"]
    shown = lines(run.output)
    assert all(len(line) <= 80 for line in shown), "\n".join(shown)
    text = flat(run.output)
    assert "(price_ab.yaml, an experiment of 2 arms)" in text
    assert "Comparisons of the arms" in text and "p adj." in text and "effect" in text
    assert "49 EUR: 10 participants, completed" in text and "69 EUR: 10 participants, completed" in text
    assert "49 EUR scores higher than 69 EUR on purchase_intent" in text
    assert "49 EUR: yes 100%" in text and "69 EUR: no 100%" in text
    assert f"troupe report {run.folder.name}" in text


async def test_the_price_test_writes_its_result_files(runs):
    run = runs["price_ab.yaml"]
    result = result_of(run)
    assert [arm.name for arm in result.arms] == ["49 EUR", "69 EUR"]
    assert sorted(len(arm.participants) for arm in result.arms) == [10, 10]
    by_field = {comparison.field: comparison for comparison in result.comparisons}
    assert list(by_field) == ["would_subscribe", "purchase_intent", "price_fairness", "max_monthly_price"]
    assert by_field["purchase_intent"].test == "welch_t" and by_field["purchase_intent"].significant
    assert by_field["price_fairness"].test in ("chi_square", "fisher_exact") and by_field["price_fairness"].significant
    document = json.loads((run.folder / "result.json").read_text())
    assert document["comparisons"][0]["rank_test"] == "" and "arm_orders" in document, "every field present"

    rows = list(csv.DictReader((run.folder / "comparisons.csv").open()))
    assert [row["row"] for row in rows].count("comparison") == 4 and [row["row"] for row in rows].count("arm") == 8
    intent = next(row for row in rows if row["row"] == "comparison" and row["field"] == "purchase_intent")
    assert intent["test"] == "welch_t" and intent["significant"] == "yes" and float(intent["p_value_adjusted"]) < 0.05
    assert intent["sentence"].startswith("49 EUR scores higher")
    cheap = next(
        row for row in rows if row["row"] == "arm" and row["field"] == "price_fairness" and row["arm"] == "49 EUR"
    )
    assert cheap["categories"] == "too cheap=0; fair=10; too expensive=0" and cheap["shares"].startswith("too cheap=0")

    answers = list(csv.DictReader((run.folder / "results.csv").open()))
    assert len(answers) == 20 and {row["arm"] for row in answers} == {"49 EUR", "69 EUR"}
    assert list(answers[0])[:3] == ["arm", "agent_name", "would_subscribe"]
    transcript = (run.folder / "transcript.md").read_text()
    assert "## Arm 49 EUR" in transcript and "## Arm 69 EUR" in transcript and "### Round 1" in transcript
    request = json_format.Parse((run.folder / "request.json").read_text(), orchestrator_pb2.RunExperimentRequest())
    assert [arm.name for arm in request.arms] == ["49 EUR", "69 EUR"]


async def test_the_message_test_compares_three_arms(runs):
    run = runs["message_test.yaml"]
    shown = lines(run.output)
    assert all(len(line) <= 80 for line in shown), "\n".join(shown)
    result = result_of(run)
    assert [arm.name for arm in result.arms] == ["savings", "clean air", "neighbours"]
    assert sum(len(arm.participants) for arm in result.arms) == 18
    by_field = {comparison.field: comparison for comparison in result.comparisons}
    assert by_field["main_doubt"].skipped_reason == "a text field has no test"
    assert "main_doubt: not compared: a text field has no test" in flat(run.output)
    for field in ("would_apply", "interest", "first_reaction"):
        assert (
            by_field[field].test in ("one_way_anova", "chi_square", "fisher_exact") or by_field[field].skipped_reason
        ), by_field[field]
        assert len(by_field[field].arms) == 3 or by_field[field].skipped_reason
    rows = list(csv.DictReader((run.folder / "comparisons.csv").open()))
    assert len([row for row in rows if row["row"] == "comparison"]) == 4


async def test_resume_follows_a_finished_experiment_to_its_files(mesh, runs, tmp_path):
    run = runs["price_ab.yaml"]
    await dispatch(mesh, run.data_dir, "resume", run.folder.name, "--output", str(tmp_path))
    again = json_format.Parse(
        (tmp_path / run.folder.name / "result.json").read_text(), orchestrator_pb2.ExperimentResult()
    )
    assert again == result_of(run)


async def test_the_reports_show_the_request_and_draw_their_charts(runs, tmp_path):
    chromium = find_chromium()
    for name, run in runs.items():
        report = run.folder / "report.html"
        assert f"report of operations/{run.folder.name} in {report}" in flat(run.report_output)
        page = report.read_text()
        request = json_format.Parse((run.folder / "request.json").read_text(), orchestrator_pb2.RunExperimentRequest())
        assert request.session_config.session_name in page and "What was asked" in page
        assert all(arm.name in page for arm in request.arms)
        if chromium is None:
            continue
        loaded = await open_page(chromium, report)
        assert loaded.errors == [], (name, loaded.errors)
        assert loaded.requests == [report.resolve().as_uri()]
        assert loaded.canvases and all(canvas["painted"] > 0 for canvas in loaded.canvases), loaded.canvases
        assert loaded.charts_drawn == str(len(loaded.canvases))
    if chromium is None:
        pytest.skip(f"the reports were written; no Chromium to draw them in: {INSTALL_HINT}")


async def test_a_study_gets_a_report_too(mesh, tmp_path):
    data_dir = tmp_path / "data"
    await dispatch(mesh, data_dir, "run", str(EXPERIMENTS.parent / "focus_group.json"))
    [folder] = (data_dir / "results").iterdir()
    await dispatch(mesh, data_dir, "report", folder.name)
    page = (folder / "report.html").read_text()
    for text in (
        "Study: E-bike subscription focus group",
        "PedalShare: an electric bike delivered",
        "Amara",
        "agents/Amara.agent.json",
        "purchase_intent",
        "Statistics",
        "What participants said",
    ):
        assert text in page, text
    chromium = find_chromium()
    if chromium is None:
        pytest.skip(f"the report was written; no Chromium to draw it in: {INSTALL_HINT}")
    loaded = await open_page(chromium, folder / "report.html")
    assert loaded.errors == [] and loaded.canvases and all(canvas["painted"] for canvas in loaded.canvases)


async def test_a_report_elsewhere_reads_the_request_from_control(mesh, runs, tmp_path):
    """Under another --output there is no request.json: the request stored in the experiment's session is read
    (a local mesh without tokens lets the CLI read control)."""
    run = runs["message_test.yaml"]
    output = await dispatch(mesh, run.data_dir, "report", run.folder.name, "--output", str(tmp_path))
    page = (tmp_path / run.folder.name / "report.html").read_text()
    assert "Experiment: Heat pump grant messages" in page and "The request itself was not found" not in page
    assert "Cleaner air in your street" in page
    assert "its request was not found" not in output.export_text()
