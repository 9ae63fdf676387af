"""`troupe run`, `troupe resume`, `troupe cancel`, `troupe sessions`, `troupe checkpoints`.

Everything goes through the orchestrator, the one service callers reach, except `troupe sessions --all` and
`troupe checkpoints` without a token, which read control directly on a mesh without authentication.
"""

from __future__ import annotations

import asyncio
from datetime import UTC
from pathlib import Path

import grpc
from google.longrunning import operations_pb2
from google.protobuf import timestamp_pb2
from google.rpc import code_pb2
from rich.console import Console
from rich.table import Table
from tinytroupe.control.v1 import control_pb2
from tinytroupe.orchestrator.v1 import orchestrator_pb2

from services.cli.connection import MeshConnection
from services.cli.output import write_study_files
from services.cli.render import PHASE_NAMES, STATUS_STYLES, print_summary, show_progress
from services.orchestrator.study_file import load_study_file
from services.runtime.errors import status_code_name

WAIT_STEP_S = 60.0
WATCH_DEADLINE_S = 7 * 24 * 3600.0
"""A study is followed for as long as it runs."""
WATCH_ATTEMPTS = 5


class StudyFailed(Exception):
    """The study's operation ended with an error."""


async def run_study(
    mesh: MeshConnection, console: Console, study_file: Path, output_root: Path, request_id: str = ""
) -> orchestrator_pb2.StudyResult:
    request = load_study_file(study_file)
    if request_id:
        request.request_id = request_id
    operation = await mesh.orchestrator.RunStudy(request)
    console.print(f"started [bold]{operation.name}[/bold] ({study_file.name}) for {mesh.caller.describe()}")
    return await follow_study(mesh, console, operation.name, output_root)


async def resume_study(
    mesh: MeshConnection, console: Console, name: str, output_root: Path
) -> orchestrator_pb2.StudyResult:
    name = name if name.startswith("operations/") else f"operations/{name.removeprefix('sessions/')}"
    operation = await mesh.orchestrator.ResumeStudy(orchestrator_pb2.ResumeStudyRequest(name=name))
    console.print(f"resuming [bold]{operation.name}[/bold] for {mesh.caller.describe()}")
    return await follow_study(mesh, console, operation.name, output_root)


async def follow_study(
    mesh: MeshConnection, console: Console, name: str, output_root: Path
) -> orchestrator_pb2.StudyResult:
    """Shows the study's progress until it is done, then writes its files and prints its summary."""
    await watch(mesh, console, name)
    operation = await wait_done(mesh, name)
    if operation.HasField("error"):
        raise StudyFailed(
            f"{name} failed: {status_code_name(operation.error.code)}: {operation.error.message}"
        )
    result = orchestrator_pb2.StudyResult()
    operation.response.Unpack(result)
    files = write_study_files(result, output_root / name.removeprefix("operations/"))
    print_summary(console, result, files)
    return result


async def watch(mesh: MeshConnection, console: Console, name: str) -> None:
    """Shows the progress; a stream cut by a restarting orchestrator is opened again."""
    for attempt in range(1, WATCH_ATTEMPTS + 1):
        try:
            await show_progress(
                console,
                mesh.orchestrator.WatchStudy(
                    orchestrator_pb2.WatchStudyRequest(name=name), timeout=WATCH_DEADLINE_S
                ),
            )
            return
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.UNAVAILABLE or attempt == WATCH_ATTEMPTS:
                raise
            console.print("[yellow]lost the orchestrator; watching again[/yellow]")
            await asyncio.sleep(attempt)


async def wait_done(mesh: MeshConnection, name: str) -> operations_pb2.Operation:
    while True:
        request = operations_pb2.WaitOperationRequest(name=name)
        request.timeout.FromSeconds(int(WAIT_STEP_S))
        operation = await mesh.operations.WaitOperation(request, timeout=WAIT_STEP_S + 10)
        if operation.done:
            return operation


async def cancel_study(mesh: MeshConnection, console: Console, name: str) -> None:
    name = name if name.startswith("operations/") else f"operations/{name.removeprefix('sessions/')}"
    await mesh.operations.CancelOperation(operations_pb2.CancelOperationRequest(name=name))
    console.print(f"cancelled {name}")


async def list_studies(mesh: MeshConnection, console: Console, limit: int) -> None:
    """The caller's studies, newest first, from the orchestrator (the service callers may reach)."""
    response = await mesh.operations.ListOperations(operations_pb2.ListOperationsRequest(page_size=limit))
    table = Table(title=f"Studies of {mesh.caller.describe()}")
    table.add_column("session", no_wrap=True)
    for column in ("state", "started", "rounds", "checkpoints", "quality", "cache namespace", "error"):
        table.add_column(column, overflow="fold")
    for operation in response.operations:
        progress = orchestrator_pb2.StudyProgress()
        operation.metadata.Unpack(progress)
        result = orchestrator_pb2.StudyResult()
        finished = operation.HasField("response") and operation.response.Unpack(result)
        started = result.metadata.start_time if finished else progress.update_time
        table.add_row(
            operation.name.removeprefix("operations/"),
            _study_state(operation, progress, result if finished else None),
            _local_time(started, "%Y-%m-%d %H:%M:%S"),
            f"{result.simulation_results.rounds_completed}" if finished else
            f"{progress.round}/{progress.rounds_total}",
            str(len(result.metadata.checkpoints)) if finished else "",
            f"{result.metadata.quality_score:.2f}" if finished else "",
            result.metadata.cache_file,
            operation.error.message if operation.HasField("error") else "",
        )
    console.print(table)
    if not response.operations:
        console.print("no studies yet; start one with `troupe run examples/focus_group.json`")


def _study_state(
    operation: operations_pb2.Operation,
    progress: orchestrator_pb2.StudyProgress,
    result: orchestrator_pb2.StudyResult | None,
) -> str:
    if not operation.done:
        return f"running ({PHASE_NAMES.get(progress.phase, 'working')})"
    if operation.HasField("error"):
        return "cancelled" if operation.error.code == code_pb2.CANCELLED else "failed"
    return STATUS_STYLES.get(result.status, ("unknown", ""))[0] if result is not None else "done"


async def list_sessions(mesh: MeshConnection, console: Console, limit: int) -> None:
    """Every session in control, studies or not: for a local mesh without authentication (control answers
    the mesh's own services only)."""
    response = await mesh.control.ListSessions(control_pb2.ListSessionsRequest(page_size=limit))
    table = Table(title="Sessions")
    table.add_column("session", no_wrap=True)
    for column in ("name", "state", "created", "checkpoints", "cache namespace", "end reason"):
        table.add_column(column, overflow="fold")
    for session in response.sessions:
        state = control_pb2.Session.State.Name(session.state).removeprefix("STATE_").lower()
        table.add_row(
            session.name.removeprefix("sessions/"),
            session.display_name,
            state,
            _local_time(session.create_time, "%Y-%m-%d %H:%M:%S"),
            str(session.checkpoint_count),
            session.cache_namespace,
            session.end_reason,
        )
    console.print(table)
    if not response.sessions:
        console.print("no sessions yet; start one with `troupe run examples/focus_group.json`")


async def list_checkpoints(mesh: MeshConnection, console: Console, session: str) -> None:
    """A session's checkpoints from control; with a caller's token, a study's from its operation."""
    if mesh.caller.token is not None:
        return await list_study_checkpoints(mesh, console, session)
    parent = session if session.startswith("sessions/") else f"sessions/{session.removeprefix('operations/')}"
    table = Table(title=f"Checkpoints of {parent}")
    for column in ("#", "checkpoint", "size", "type", "created", "annotations"):
        table.add_column(column, overflow="fold")
    page_token = ""
    while True:
        page = await mesh.control.ListCheckpoints(
            control_pb2.ListCheckpointsRequest(parent=parent, page_size=1000, page_token=page_token)
        )
        for checkpoint in page.checkpoints:
            table.add_row(
                str(checkpoint.sequence),
                checkpoint.name.rsplit("/", 1)[-1],
                _size(checkpoint.size_bytes),
                checkpoint.content_type.rpartition("type=")[2] or checkpoint.content_type,
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
    result = orchestrator_pb2.StudyResult()
    if not (operation.HasField("response") and operation.response.Unpack(result)):
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
