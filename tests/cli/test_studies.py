"""What `troupe run`, `resume`, `cancel` and `sessions` show, at 80 columns, against calls that answer as told."""

from __future__ import annotations

import grpc
import pytest
from google.longrunning import operations_pb2
from google.rpc import code_pb2, status_pb2
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.cli import main as cli_main
from services.cli import studies
from services.cli.connection import Caller
from services.cli.render import StudyProgressDisplay, answers_table, describe_progress, print_summary
from tests.cli.support import NAME, Calls, StubMesh, console, lines, operation, rpc_error

Phase = orchestrator_pb2.Phase
UNAVAILABLE = grpc.StatusCode.UNAVAILABLE


def progress(
    phase: int, round_: int = 0, total: int = 0, message: str = "", **fields
) -> orchestrator_pb2.StudyProgress:
    return orchestrator_pb2.StudyProgress(
        operation=NAME, phase=phase, round=round_, rounds_total=total, message=message, **fields
    )


def finished(rounds: int = 2, status: int = orchestrator_pb2.STUDY_STATUS_COMPLETED) -> orchestrator_pb2.StudyResult:
    result = orchestrator_pb2.StudyResult(operation_id=NAME, status=status)
    result.simulation_results.rounds_completed = rounds
    result.participants.total = result.participants.successful = 3
    return result


def stream(*events: orchestrator_pb2.StudyProgress, then: Exception | None = None):
    async def events_then():
        for event in events:
            yield event
        if then is not None:
            raise then

    return lambda request: events_then()


def answering(*answers):
    """An async call that gives each answer in turn (an exception is raised), the last one again and again."""
    queue = list(answers)

    async def call(request):
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return call


def test_the_live_line_says_what_happens_in_few_words():
    event = progress(Phase.PHASE_SIMULATING, 3, 10, "round 3", agents_total=3, agents_done=2)
    assert describe_progress(event) == "simulating round 3 · agents 2/3"
    assert describe_progress(progress(Phase.PHASE_QUEUED, message="resuming")) == "resuming"
    assert describe_progress(progress(Phase.PHASE_DONE, message="failed: cancelled")) == "cancelled"
    assert describe_progress(progress(Phase.PHASE_DONE, message="completed")) == "completed"


async def test_a_cancelled_study_shows_cancelled_with_the_rounds_it_got_through(tmp_path):
    mesh = StubMesh(
        orchestrator=Calls(
            WatchStudy=stream(
                progress(Phase.PHASE_SIMULATING, 13, 50, "round 13 done", agents_total=3, agents_done=3),
                progress(Phase.PHASE_SIMULATING, 14, 50, "round 14", agents_total=3, agents_done=1),
                progress(Phase.PHASE_DONE, 14, 50, "failed: cancelled"),
            )
        ),
        operations=Calls(
            WaitOperation=answering(
                operation(done=True, error=status_pb2.Status(code=code_pb2.CANCELLED, message="cancelled"))
            )
        ),
    )
    output = console()
    with pytest.raises(studies.StudyFailed, match=f"^{NAME} was cancelled$"):
        await studies.follow_study(mesh, output, NAME, tmp_path)
    text = output.export_text()
    assert "cancelled" in text and "13/50 rounds" in text, text
    assert "done" not in text and "50/50" not in text
    assert all(len(line) <= 80 for line in lines(output))


async def test_a_resumed_finished_study_shows_its_outcome_not_an_unknown_total(tmp_path):
    mesh = StubMesh(
        orchestrator=Calls(WatchStudy=stream(progress(Phase.PHASE_DONE, message="completed"))),
        operations=Calls(WaitOperation=answering(operation(done=True, result=finished(rounds=2)))),
    )
    output = console()
    result = await studies.follow_study(mesh, output, NAME, tmp_path)
    assert result.simulation_results.rounds_completed == 2
    live = next(line for line in lines(output) if "rounds" in line)
    assert "completed" in live and "2/2 rounds" in live and "?" not in live
    assert (tmp_path / NAME.removeprefix("operations/") / "result.json").exists()


async def test_a_study_that_ends_while_its_orchestrator_drains_is_reported(tmp_path):
    """The orchestrator stops (`troupe down`): the stream breaks, but the WaitOperation in flight still answers."""
    mesh = StubMesh(
        orchestrator=Calls(WatchStudy=stream(progress(Phase.PHASE_EXTRACTING, 2, 2), then=rpc_error(UNAVAILABLE))),
        operations=Calls(WaitOperation=answering(operation(done=True, result=finished()))),
        stopped=True,
    )
    output = console()
    result = await studies.follow_study(mesh, output, NAME, tmp_path)
    assert result.status == orchestrator_pb2.STUDY_STATUS_COMPLETED
    assert "not running" not in output.export_text()


async def test_a_study_outlives_a_restarting_orchestrator(tmp_path, monkeypatch):
    monkeypatch.setattr(studies, "RECONNECT_STEP_S", 0.01)
    mesh = StubMesh(
        orchestrator=Calls(WatchStudy=stream(then=rpc_error(UNAVAILABLE))),
        operations=Calls(
            WaitOperation=answering(
                rpc_error(UNAVAILABLE),
                rpc_error(grpc.StatusCode.CANCELLED),
                rpc_error(UNAVAILABLE),
                operation(done=False),
                operation(done=True, result=finished()),
            )
        ),
    )
    output = console()
    await studies.follow_study(mesh, output, NAME, tmp_path)
    text = output.export_text()
    assert "lost the orchestrator at 127.0.0.1:50050; waiting for it to come back" in text
    assert "the orchestrator is back" in text and "completed" in text


async def test_a_stopped_local_mesh_says_how_the_study_goes_on(tmp_path, monkeypatch):
    monkeypatch.setattr(studies, "RECONNECT_STEP_S", 0.01)
    mesh = StubMesh(
        orchestrator=Calls(WatchStudy=stream(then=rpc_error(UNAVAILABLE))),
        operations=Calls(WaitOperation=answering(rpc_error(UNAVAILABLE))),
        stopped=True,
    )
    with pytest.raises(studies.MeshLost) as lost:
        await studies.follow_study(mesh, console(), NAME, tmp_path)
    message = str(lost.value)
    assert message.startswith(f"the local mesh stopped while {NAME} was running")
    assert "`troupe up`" in message and f"`troupe resume {NAME.removeprefix('operations/')}`" in message


async def test_cancel_refuses_a_finished_study_and_confirms_a_cancelled_one():
    cancelled = []

    async def cancel(request):
        cancelled.append(request.name)

    done = operation(done=True, result=finished())
    mesh = StubMesh(operations=Calls(GetOperation=answering(done), CancelOperation=cancel))
    with pytest.raises(
        studies.CommandRefused, match="has already finished \\(completed\\); there is nothing to cancel"
    ):
        await studies.cancel_study(mesh, console(), NAME)
    assert cancelled == []

    stopped = operation(done=True, error=status_pb2.Status(code=code_pb2.CANCELLED, message="cancelled"))
    running = operation(done=False, progress=progress(Phase.PHASE_SIMULATING, 3, 10))
    mesh = StubMesh(operations=Calls(GetOperation=answering(running, stopped), CancelOperation=cancel))
    output = console()
    await studies.cancel_study(mesh, output, NAME.removeprefix("operations/"))
    assert cancelled == [NAME]
    assert output.export_text().strip() == f"cancelled {NAME}"


def test_a_refused_command_exits_with_1(monkeypatch, capsys):
    async def refuse(*arguments):
        raise studies.CommandRefused("operations/x has already finished (completed); there is nothing to cancel")

    monkeypatch.setattr(cli_main, "dispatch", refuse)
    assert cli_main.main(["cancel", "x"]) == 1
    assert "there is nothing to cancel" in capsys.readouterr().out


async def test_the_studies_table_fits_80_columns_and_puts_errors_below():
    long_error = "every participant failed: " + "the model endpoint rejected the request: HTTP 404; " * 3
    failed = operation(done=True, error=status_pb2.Status(code=code_pb2.FAILED_PRECONDITION, message=long_error))
    failed.name = "operations/00000000-0000-4000-8000-000000000003"
    running = operation(done=False, progress=progress(Phase.PHASE_CREATING_AGENTS, 0, 10))
    running.name = "operations/00000000-0000-4000-8000-000000000002"
    result = finished()
    result.metadata.quality_score = 0.54
    result.metadata.cache_file = "focus-group-cache"
    result.metadata.start_time.FromSeconds(1_700_000_000)
    completed = operation(done=True, result=result)
    completed.name = "operations/00000000-0000-4000-8000-000000000001"
    listing = operations_pb2.ListOperationsResponse(operations=[failed, running, completed])
    mesh = StubMesh(operations=Calls(ListOperations=answering(listing)))

    narrow = console(80)
    await studies.list_studies(mesh, narrow, 20)
    shown = lines(narrow)
    assert all(len(line) <= 80 for line in shown), "\n".join(shown)
    for expected in (
        "00000000-0000-4000-8000-000000000003  failed",
        "00000000-0000-4000-8000-000000000002  creating",
        "00000000-0000-4000-8000-000000000001  completed",
    ):
        assert any(expected in line for line in shown), "\n".join(shown)
    assert any(line.startswith("00000000-0000-4000-8000-000000000003: every participant failed") for line in shown)
    text = narrow.export_text()
    assert "0.54" in text and "cache namespace" not in text

    wide = console(140)
    await studies.list_studies(mesh, wide, 20)
    text = wide.export_text()
    assert "cache namespace" in text and "focus-group-cache" in text, text


async def test_the_sessions_and_checkpoints_tables_fit_80_columns():
    session = control_pb2.Session(
        name="sessions/00000000-0000-4000-8000-000000000001",
        display_name="E-bike subscription focus group",
        state=control_pb2.Session.STATE_ENDED,
        cache_namespace="a-rather-long-cache-namespace-of-a-study",
        end_reason="completed",
    )
    session.create_time.FromSeconds(1_700_000_000)
    checkpoint = control_pb2.Checkpoint(
        name=f"{session.name}/checkpoints/round_12",
        sequence=14,
        size_bytes=48_000,
        content_type="application/x-protobuf; type=tinytroupe.simulation.v1.WorldState",
        annotations={"round": "12", "agents": "3"},
    )
    mesh = StubMesh(
        control=Calls(
            ListSessions=answering(control_pb2.ListSessionsResponse(sessions=[session])),
            ListCheckpoints=answering(control_pb2.ListCheckpointsResponse(checkpoints=[checkpoint])),
        )
    )
    output = console(80)
    await studies.list_sessions(mesh, output, 20)
    await studies.list_checkpoints(mesh, output, session.name)
    shown = lines(output)
    assert all(len(line) <= 80 for line in shown), "\n".join(shown)
    assert any("00000000-0000-4000-8000-000000000001" in line and "ended" in line for line in shown)
    assert any("round_12" in line and "WorldState" in line for line in shown)


def test_a_participant_without_answers_says_why():
    result = finished()
    extracted = result.extracted_results
    ana = extracted.individual_results.add(agent_name="Ana")
    ana.fields["rating"].CopyFrom(study_pb2.FieldValue(kind=study_pb2.VALUE_KIND_NUMBER, number_value=7))
    ana.fields["concern"].CopyFrom(study_pb2.FieldValue(kind=study_pb2.VALUE_KIND_TEXT, string_value="price"))
    extracted.individual_results.add(agent_name="Ben", failure_reason="the model's answers stayed invalid")
    caio = extracted.individual_results.add(agent_name="Caio")
    caio.fields["rating"].CopyFrom(study_pb2.FieldValue(kind=study_pb2.VALUE_KIND_NUMBER, problem="missing"))
    result.participant_failures.add(
        agent_name="Ben", reason="the model's answers stayed invalid", phase=orchestrator_pb2.FAILURE_PHASE_EXTRACTION
    )
    output = console(80)
    output.print(answers_table(extracted))
    print_summary(output, result, None)
    text = output.export_text()
    assert text.count("no answers (below)") == 4  # Ben and Caio, in both tables
    assert "no answers from Caio: missing" in text
    assert "participant failed Ben: the model's answers stayed invalid" in text
    assert "no answers from Ben" not in text, "said once, as the failure it is"


def test_the_progress_line_fits_80_columns_while_running():
    output = console(80)
    with StudyProgressDisplay(output) as display:
        display.show(
            progress(Phase.PHASE_SIMULATING, 12, 50, "round 12", agents_total=120, agents_done=87, agents_failed=12)
        )
        display.finish("partial", ok=True, rounds_completed=50)
    assert all(len(line) <= 80 for line in lines(output))


def experiment_result() -> orchestrator_pb2.ExperimentResult:
    result = orchestrator_pb2.ExperimentResult(
        operation=NAME, seed=5, design=orchestrator_pb2.EXPERIMENT_DESIGN_BETWEEN_SUBJECTS
    )
    for index, name in enumerate(("short message", "a long message about the neighbours")):
        arm = result.arms.add(
            name=name,
            study_operation=f"operations/arm-{index}",
            participants=[f"P{index}{number}" for number in range(3)],
            result=finished(1),
        )
        arm.result.metadata.checkpoints.extend(["agents_created", "operation_complete"])
    result.comparisons.add(
        field="interest_in_the_grant_over_the_next_months",
        test="welch_t",
        p_value=0.0004,
        p_value_adjusted=0.0008,
        effect_size_name="hedges_g",
        effect_size=1.234,
        significant=True,
        sentence="a long message about the neighbours scores higher than short message on interest: 7.10 vs 4.20.",
        arms=[
            orchestrator_pb2.ArmSummary(arm=arm.name, count=3, mean=4.2 + 2.9 * index)
            for index, arm in enumerate(result.arms)
        ],
    )
    result.comparisons.add(
        field="would_apply",
        test="chi_square",
        p_value=0.3,
        p_value_adjusted=0.3,
        effect_size_name="cramers_v",
        effect_size=0.2,
        sentence="They do not differ.",
        arms=[
            orchestrator_pb2.ArmSummary(
                arm=arm.name,
                count=3,
                categories=[
                    study_pb2.CategoryCount(value="yes", count=2, share=2 / 3),
                    study_pb2.CategoryCount(value="no", count=1, share=1 / 3),
                ],
            )
            for arm in result.arms
        ],
    )
    result.comparisons.add(field="doubt", skipped_reason="a text field has no test")
    return result


def test_an_experiment_shows_its_steps_not_rounds():
    running = progress(Phase.PHASE_SIMULATING, message="running 3 arms", agents_total=18, agents_done=18)
    assert describe_progress(running) == "running 3 arms · 18 participants"
    assert describe_progress(progress(Phase.PHASE_EXTRACTING, message="comparing the arms")) == "comparing the arms"


async def test_a_followed_experiment_prints_its_comparisons_at_80_columns_and_writes_its_files(tmp_path):
    mesh = StubMesh(
        orchestrator=Calls(WatchStudy=stream(progress(Phase.PHASE_DONE, message="completed"))),
        operations=Calls(WaitOperation=answering(operation(done=True, result=experiment_result()))),
    )
    output = console()
    result = await studies.follow_study(mesh, output, NAME, tmp_path)
    assert isinstance(result, orchestrator_pb2.ExperimentResult)
    shown = lines(output)
    assert all(len(line) <= 80 for line in shown), "\n".join(shown)
    text = " ".join(output.export_text().split())
    assert "✓ completed" in text and "Comparisons of the arms" in text
    assert "short message: 4.20 (n 3)" in text and "<0.001" in text and "g 1.23" in text
    assert "doubt: not compared: a text field has no test" in text
    assert "a long message about the neighbours scores higher" in text
    folder = tmp_path / NAME.removeprefix("operations/")
    assert {path.name for path in folder.iterdir()} == {"result.json", "comparisons.csv", "transcript.md"}, (
        "no results.csv: the arms have no answers"
    )


async def test_an_experiment_is_cancelled_and_its_checkpoints_listed_like_a_study(tmp_path):
    done = operation(done=True, result=experiment_result())
    mesh = StubMesh(operations=Calls(GetOperation=answering(done)), caller=Caller("tok", "acme"))
    with pytest.raises(studies.CommandRefused, match="has already finished \\(completed\\)"):
        await studies.cancel_study(mesh, console(), NAME)
    output = console()
    await studies.list_checkpoints(mesh, output, NAME)
    text = output.export_text()
    assert "short message" in text and "operation_complete" in text
