"""`troupe run`, `troupe resume`, `troupe cancel`, `troupe sessions`, `troupe checkpoints`.

`troupe run` takes a study file or an experiment file (one with `arms`); an experiment is an operation like a
study's, so `resume`, `cancel` and `sessions` take it too.

Everything goes through the orchestrator, the one service callers reach, except `troupe sessions --all` and
`troupe checkpoints` without a token, which read control directly on a mesh without authentication.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC
from pathlib import Path

import grpc
from google.longrunning import operations_pb2
from google.protobuf import timestamp_pb2
from google.rpc import code_pb2
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from tinytroupe_mesh_api.control.v1 import control_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.cli.connection import FinishedCall, MeshConnection, describe_error
from services.cli.output import write_experiment_files, write_request, write_study_files
from services.cli.render import (
    PHASE_NAMES,
    STATUS_STYLES,
    StudyProgressDisplay,
    compact_table,
    print_experiment_summary,
    print_summary,
)
from services.cli.tracing import command_span, write_trace_id
from services.orchestrator.study_file import load_run_file, load_study_file

WAIT_STEP_S = 60.0
WATCH_DEADLINE_S = 7 * 24 * 3600.0
"""A study is followed for as long as it runs."""
RECONNECT_WINDOW_S = 180.0
"""How long a study's orchestrator may stay unreachable (restarting) before `troupe run` gives up on it."""
RECONNECT_STEP_S = 1.0
WATCH_SETTLE_S = 2.0
"""How long the progress line may take to show the end once the operation says it is done."""
LOST = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
"""Codes of a call cut by an orchestrator that stopped or restarts, not answers about the study."""


class StudyFailed(Exception):
    """The study's operation ended with an error."""


class CommandRefused(Exception):
    """The command cannot do what it was asked (e.g. cancel a study that has finished)."""


class MeshLost(Exception):
    """The mesh stopped while a study was followed; the study goes on when it is started again."""


def operation_name(name: str) -> str:
    """`operations/ID` from an operation name, a session name or a bare id."""
    return name if name.startswith("operations/") else f"operations/{name.removeprefix('sessions/')}"


Result = orchestrator_pb2.StudyResult | orchestrator_pb2.ExperimentResult


async def run_file(
    mesh: MeshConnection, console: Console, path: Path, output_root: Path, request_id: str = ""
) -> Result:
    """`troupe run FILE`: a study, or an experiment when the file has `arms`; in a trace of its own when
    tracing is on (services/cli/tracing.py)."""
    request = load_run_file(path)
    if request_id:
        request.request_id = request_id
    with command_span(f"troupe run {path.name}", {"troupe.run_file": str(path)}) as trace_id:
        if isinstance(request, orchestrator_pb2.RunExperimentRequest):
            operation = await mesh.orchestrator.RunExperiment(request)
            what = f"{path.name}, an experiment of {len(request.arms)} arms"
        else:
            operation = await mesh.orchestrator.RunStudy(request)
            what = path.name
        return await _follow_started(mesh, console, operation.name, request, what, output_root, trace_id)


async def run_study(
    mesh: MeshConnection, console: Console, study_file: Path, output_root: Path, request_id: str = ""
) -> orchestrator_pb2.StudyResult:
    request = load_study_file(study_file)
    if request_id:
        request.request_id = request_id
    operation = await mesh.orchestrator.RunStudy(request)
    return await _follow_started(mesh, console, operation.name, request, study_file.name, output_root)


async def _follow_started(
    mesh: MeshConnection,
    console: Console,
    name: str,
    request,
    what: str,
    output_root: Path,
    trace_id: str | None = None,
) -> Result:
    """Keeps the request (and the trace id, when traced) beside the results to come (`troupe report` shows
    the request), then follows the run."""
    output_dir = output_root / name.removeprefix("operations/")
    write_request(request, output_dir)
    write_trace_id(trace_id, output_dir)
    console.print(f"started [bold]{name}[/bold] ({escape(what)}) for {escape(mesh.caller.describe())}")
    if trace_id is not None:
        console.print(f"trace {trace_id}")
    return await follow_study(mesh, console, name, output_root)


async def resume_study(mesh: MeshConnection, console: Console, name: str, output_root: Path) -> Result:
    """`troupe resume`: in a trace of its own when tracing is on, which the study's run links to."""
    name = operation_name(name)
    with command_span(f"troupe resume {name}", {"troupe.operation": name}) as trace_id:
        operation = await mesh.orchestrator.ResumeStudy(orchestrator_pb2.ResumeStudyRequest(name=name))
        verb = "following the finished" if operation.done else "resuming"
        console.print(f"{verb} [bold]{operation.name}[/bold] for {mesh.caller.describe()}")
        if trace_id is not None:
            console.print(f"trace {trace_id}")
        return await follow_study(mesh, console, operation.name, output_root)


async def follow_study(mesh: MeshConnection, console: Console, name: str, output_root: Path) -> Result:
    """Shows the study's (or experiment's) progress until it is done, then writes its files and prints its
    summary."""
    with StudyProgressDisplay(console) as display:
        operation = await follow(mesh, display, name)
        finish_display(display, operation)
    if operation.HasField("error") and operation.error.code == code_pb2.CANCELLED:
        raise StudyFailed(f"{name} was cancelled")
    if operation.HasField("error"):
        raise StudyFailed(f"{name} failed: {describe_error(FinishedCall(operation.error))}")
    result = finished_result(operation)
    output_dir = output_root / name.removeprefix("operations/")
    if isinstance(result, orchestrator_pb2.ExperimentResult):
        print_experiment_summary(console, result, write_experiment_files(result, output_dir))
    else:
        print_summary(console, result, write_study_files(result, output_dir))
    return result


def finished_result(operation: operations_pb2.Operation) -> Result | None:
    """A done operation's response: a StudyResult or an ExperimentResult; None without a response."""
    if not operation.HasField("response"):
        return None
    for result_type in (orchestrator_pb2.ExperimentResult, orchestrator_pb2.StudyResult):
        if operation.response.Is(result_type.DESCRIPTOR):
            result = result_type()
            operation.response.Unpack(result)
            return result
    return None


async def follow(mesh: MeshConnection, display: StudyProgressDisplay, name: str) -> operations_pb2.Operation:
    """The study's operation once done, its progress shown meanwhile.

    A WaitOperation call is always in flight beside the progress stream: an orchestrator that drains (stops
    or restarts) still answers it when the study ends within the drain. An orchestrator that cannot be
    reached is waited for (it restarts under `troupe up`), unless the local mesh has stopped.
    """
    watching = asyncio.ensure_future(watch(mesh, display, name))
    try:
        operation = await wait_done(mesh, display, name)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(watching), WATCH_SETTLE_S)
        return operation
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching


def finish_display(display: StudyProgressDisplay, operation: operations_pb2.Operation) -> None:
    """The outcome in place of the phase: completed or partial (with the rounds done), cancelled or failed."""
    if operation.HasField("error"):
        cancelled = operation.error.code == code_pb2.CANCELLED
        display.finish("cancelled" if cancelled else "failed", ok=False)
        return
    result = finished_result(operation)
    if not isinstance(result, orchestrator_pb2.StudyResult):  # an experiment: its arms' studies have the rounds
        display.finish("completed", ok=True)
        return
    status, _ = STATUS_STYLES.get(result.status, ("done", ""))
    display.finish(
        status,
        ok=result.status != orchestrator_pb2.STUDY_STATUS_FAILED,
        rounds_completed=result.simulation_results.rounds_completed,
    )


async def watch(mesh: MeshConnection, display: StudyProgressDisplay, name: str) -> None:
    """Shows the progress until the stream ends; a stream cut by a restarting orchestrator is opened again.
    Any other failure only ends the display: the operation tells the outcome."""
    while True:
        try:
            stream = mesh.orchestrator.WatchStudy(
                orchestrator_pb2.WatchStudyRequest(name=name), timeout=WATCH_DEADLINE_S
            )
            async for event in stream:
                display.show(event)
            return
        except grpc.aio.AioRpcError as error:
            if error.code() not in LOST:
                return
        await asyncio.sleep(RECONNECT_STEP_S)


async def wait_done(mesh: MeshConnection, display: StudyProgressDisplay, name: str) -> operations_pb2.Operation:
    lost_since: float | None = None
    while True:
        request = operations_pb2.WaitOperationRequest(name=name)
        request.timeout.FromSeconds(int(WAIT_STEP_S))
        try:
            operation = await mesh.operations.WaitOperation(request, timeout=WAIT_STEP_S + 10)
        except grpc.aio.AioRpcError as error:
            if error.code() not in LOST:
                raise
            now = time.monotonic()
            if lost_since is None:
                lost_since = now
                display.note(f"lost the orchestrator at {mesh.orchestrator_address}; waiting for it to come back")
            if mesh.local_mesh_stopped() or now - lost_since > RECONNECT_WINDOW_S:
                raise MeshLost(lost_message(mesh, name)) from None
            await asyncio.sleep(RECONNECT_STEP_S)
            continue
        if lost_since is not None:
            display.note("the orchestrator is back")
            lost_since = None
        if operation.done:
            return operation


def lost_message(mesh: MeshConnection, name: str) -> str:
    study = name.removeprefix("operations/")
    where = (
        "the local mesh stopped"
        if mesh.local_mesh_stopped()
        else (f"the orchestrator at {mesh.orchestrator_address} stopped answering")
    )
    return (
        f"{where} while {name} was running; its checkpoints are kept. Start the mesh again (`troupe up`): "
        f"the study goes on from its last checkpoint, and `troupe resume {study}` follows it to its results"
    )


async def cancel_study(mesh: MeshConnection, console: Console, name: str) -> None:
    name = operation_name(name)
    operation = await mesh.operations.GetOperation(operations_pb2.GetOperationRequest(name=name))
    if operation.done:
        raise CommandRefused(f"{name} has already finished ({_outcome(operation)}); there is nothing to cancel")
    await mesh.operations.CancelOperation(operations_pb2.CancelOperationRequest(name=name))
    operation = await mesh.operations.GetOperation(operations_pb2.GetOperationRequest(name=name))
    if operation.done and operation.error.code == code_pb2.CANCELLED:
        console.print(f"cancelled {name}")
    elif operation.done:
        console.print(f"{name} finished ({_outcome(operation)}) before it could be cancelled")
    else:
        console.print(f"asked {name} to stop; `troupe sessions` shows it as cancelled once it has")


def _outcome(operation: operations_pb2.Operation) -> str:
    progress = orchestrator_pb2.StudyProgress()
    operation.metadata.Unpack(progress)
    return _study_state(operation, progress, finished_result(operation))


SHORT_PHASE_NAMES = {
    orchestrator_pb2.PHASE_QUEUED: "queued",
    orchestrator_pb2.PHASE_CREATING_AGENTS: "creating",
    orchestrator_pb2.PHASE_SIMULATING: "simulating",
    orchestrator_pb2.PHASE_EXTRACTING: "extracting",
}
"""A running study's state in a table column: one short word."""
WIDE_COLUMNS = 120
"""From this console width on, the tables show every column; below it, those that fit 80 columns."""


def _started(operation) -> float:
    """When a listed study or experiment started, for ordering (its session's id orders nothing)."""
    found = finished_result(operation)
    if isinstance(found, orchestrator_pb2.StudyResult):
        return found.metadata.start_time.ToNanoseconds() / 1e9
    progress = orchestrator_pb2.StudyProgress()
    operation.metadata.Unpack(progress)
    return progress.update_time.ToNanoseconds() / 1e9


async def list_studies(mesh: MeshConnection, console: Console, limit: int) -> None:
    """The caller's studies, newest first, from the orchestrator (the service callers may reach)."""
    studies, experiments = await asyncio.gather(
        *(
            mesh.operations.ListOperations(operations_pb2.ListOperationsRequest(page_size=limit, filter=kind))
            for kind in ("kind=study", "kind=experiment")
        )
    )
    newest_first = sorted([*studies.operations, *experiments.operations], key=_started, reverse=True)[:limit]
    wide = console.width >= WIDE_COLUMNS
    table = compact_table(f"Studies of {mesh.caller.describe()}")
    table.add_column("study", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("started", no_wrap=True)
    table.add_column("rounds", justify="right", no_wrap=True)
    table.add_column("quality", justify="right", no_wrap=True)
    if wide:
        table.add_column("checkpoints", justify="right")
        table.add_column("cache namespace", overflow="fold")
    errors = []
    for operation in newest_first:
        progress = orchestrator_pb2.StudyProgress()
        operation.metadata.Unpack(progress)
        found = finished_result(operation)
        experiment = found if isinstance(found, orchestrator_pb2.ExperimentResult) else None
        finished = isinstance(found, orchestrator_pb2.StudyResult)
        result = found if finished else orchestrator_pb2.StudyResult()
        started = result.metadata.start_time if finished else progress.update_time
        if experiment is not None and experiment.arms:
            started = experiment.arms[0].result.metadata.start_time
        study = operation.name.removeprefix("operations/")
        state = _study_state(operation, progress, found)
        row = [
            study,
            state,
            _local_time(started, "%m-%d %H:%M"),
            f"{result.simulation_results.rounds_completed}"
            if finished
            else (f"{len(experiment.arms)} arms" if experiment is not None else _rounds(progress)),
            f"{result.metadata.quality_score:.2f}" if finished else "",
        ]
        if wide:
            row += [str(len(result.metadata.checkpoints)) if finished else "", result.metadata.cache_file]
        table.add_row(*row)
        if operation.HasField("error") and operation.error.message not in ("", state):
            errors.append((study, operation.error.message))
    console.print(table)
    for study, message in errors:
        console.print(Text.assemble((f"{study}: ", "bold"), (message, "red")))
    if not newest_first:
        console.print("no studies yet; start one with `troupe run examples/focus_group.json`")


def _rounds(progress: orchestrator_pb2.StudyProgress) -> str:
    if not progress.rounds_total:
        return ""
    return f"{progress.round}/{progress.rounds_total}"


def _study_state(
    operation: operations_pb2.Operation,
    progress: orchestrator_pb2.StudyProgress,
    result: Result | None,
) -> str:
    if not operation.done:
        return SHORT_PHASE_NAMES.get(progress.phase, "running")
    if operation.HasField("error"):
        return "cancelled" if operation.error.code == code_pb2.CANCELLED else "failed"
    if isinstance(result, orchestrator_pb2.ExperimentResult):
        return "completed"
    return STATUS_STYLES.get(result.status, ("unknown", ""))[0] if result is not None else "done"


async def list_sessions(mesh: MeshConnection, console: Console, limit: int) -> None:
    """Every session in control, studies or not: for a local mesh without authentication (control answers
    the mesh's own services only)."""
    response = await mesh.control.ListSessions(control_pb2.ListSessionsRequest(page_size=limit))
    wide = console.width >= WIDE_COLUMNS
    table = compact_table("Sessions")
    table.add_column("session", no_wrap=True)
    table.add_column("name", overflow="fold")
    table.add_column("state", no_wrap=True)
    table.add_column("created", no_wrap=True)
    if wide:
        table.add_column("checkpoints", justify="right")
        table.add_column("cache namespace", overflow="fold")
        table.add_column("end reason", overflow="fold")
    for session in response.sessions:
        state = control_pb2.Session.State.Name(session.state).removeprefix("STATE_").lower()
        row = [
            session.name.removeprefix("sessions/"),
            session.display_name,
            state,
            _local_time(session.create_time, "%m-%d %H:%M"),
        ]
        if wide:
            row += [str(session.checkpoint_count), session.cache_namespace, session.end_reason]
        table.add_row(*row)
    console.print(table)
    if not response.sessions:
        console.print("no sessions yet; start one with `troupe run examples/focus_group.json`")


async def list_checkpoints(mesh: MeshConnection, console: Console, session: str) -> None:
    """A session's checkpoints from control; with a caller's token, a study's from its operation."""
    if mesh.caller.token is not None:
        return await list_study_checkpoints(mesh, console, session)
    parent = session if session.startswith("sessions/") else f"sessions/{session.removeprefix('operations/')}"
    table = compact_table(f"Checkpoints of {parent}")
    table.add_column("#", justify="right")
    table.add_column("checkpoint", overflow="fold")
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("type", overflow="fold")
    table.add_column("created", no_wrap=True)
    table.add_column("annotations", overflow="fold")
    page_token = ""
    while True:
        page = await mesh.control.ListCheckpoints(
            control_pb2.ListCheckpointsRequest(parent=parent, page_size=1000, page_token=page_token)
        )
        for checkpoint in page.checkpoints:
            content_type = checkpoint.content_type.rpartition("type=")[2] or checkpoint.content_type
            table.add_row(
                str(checkpoint.sequence),
                checkpoint.name.rsplit("/", 1)[-1],
                _size(checkpoint.size_bytes),
                content_type.rsplit(".", 1)[-1],
                _local_time(checkpoint.create_time, "%H:%M:%S"),
                ", ".join(f"{key}={value}" for key, value in sorted(checkpoint.annotations.items())),
            )
        page_token = page.next_page_token
        if not page_token:
            break
    console.print(table)


async def list_study_checkpoints(mesh: MeshConnection, console: Console, session: str) -> None:
    """A finished study's checkpoints as its result names them (callers reach the orchestrator only)."""
    name = f"operations/{session.removeprefix('operations/').removeprefix('sessions/')}"
    operation = await mesh.operations.GetOperation(operations_pb2.GetOperationRequest(name=name))
    result = finished_result(operation)
    if isinstance(result, orchestrator_pb2.ExperimentResult):
        table = Table(title=f"Checkpoints of the arms of {name} ({mesh.caller.describe()})")
        for column in ("arm", "#", "checkpoint"):
            table.add_column(column, overflow="fold")
        for arm in result.arms:
            for index, checkpoint in enumerate(arm.result.metadata.checkpoints, start=1):
                table.add_row(arm.name if index == 1 else "", str(index), checkpoint)
        console.print(table)
        return
    if result is None:
        progress = orchestrator_pb2.StudyProgress()
        operation.metadata.Unpack(progress)
        state = "ended without a result" if operation.done else PHASE_NAMES.get(progress.phase, "running")
        console.print(f"{name} is {state}; its checkpoints are listed here once it has a result")
        return
    table = Table(title=f"Checkpoints of {name} ({mesh.caller.describe()})")
    table.add_column("#")
    table.add_column("checkpoint", overflow="fold")
    for index, checkpoint in enumerate(result.metadata.checkpoints, start=1):
        table.add_row(str(index), checkpoint)
    console.print(table)


def _local_time(timestamp: timestamp_pb2.Timestamp, form: str) -> str:
    if not timestamp.seconds and not timestamp.nanos:
        return ""
    return timestamp.ToDatetime(tzinfo=UTC).astimezone().strftime(form)


def _size(size_bytes: int) -> str:
    return f"{size_bytes / 1024:.1f} KiB" if size_bytes >= 1024 else f"{size_bytes} B"
