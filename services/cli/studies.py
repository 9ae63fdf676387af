"""`troupe run`, `troupe resume`, `troupe cancel`, `troupe sessions`, `troupe checkpoints`."""

from __future__ import annotations

import asyncio
from datetime import UTC
from pathlib import Path

import grpc
from google.longrunning import operations_pb2
from rich.console import Console
from rich.table import Table
from tinytroupe.control.v1 import control_pb2
from tinytroupe.orchestrator.v1 import orchestrator_pb2

from services.cli.connection import MeshConnection
from services.cli.output import write_study_files
from services.cli.render import print_summary, show_progress
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
    console.print(f"started [bold]{operation.name}[/bold] ({study_file.name})")
    return await follow_study(mesh, console, operation.name, output_root)


async def resume_study(
    mesh: MeshConnection, console: Console, name: str, output_root: Path
) -> orchestrator_pb2.StudyResult:
    name = name if name.startswith("operations/") else f"operations/{name.removeprefix('sessions/')}"
    operation = await mesh.orchestrator.ResumeStudy(orchestrator_pb2.ResumeStudyRequest(name=name))
    console.print(f"resuming [bold]{operation.name}[/bold]")
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
    files = await write_study_files(result, output_root / name.removeprefix("operations/"), mesh.extraction)
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


async def list_sessions(mesh: MeshConnection, console: Console, limit: int, include_all: bool) -> None:
    response = await mesh.control.ListSessions(
        control_pb2.ListSessionsRequest(page_size=limit, labels={} if include_all else {"kind": "study"})
    )
    table = Table(title="Sessions" if include_all else "Study sessions")
    table.add_column("session", no_wrap=True)
    for column in ("name", "state", "created", "checkpoints", "cache namespace", "end reason"):
        table.add_column(column, overflow="fold")
    for session in response.sessions:
        state = control_pb2.Session.State.Name(session.state).removeprefix("STATE_").lower()
        created = session.create_time.ToDatetime(tzinfo=UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(
            session.name.removeprefix("sessions/"),
            session.display_name,
            state,
            created,
            str(session.checkpoint_count),
            session.cache_namespace,
            session.end_reason,
        )
    console.print(table)
    if not response.sessions:
        console.print("no sessions yet; start one with `troupe run examples/focus_group.json`")


async def list_checkpoints(mesh: MeshConnection, console: Console, session: str) -> None:
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
            created = checkpoint.create_time.ToDatetime(tzinfo=UTC).astimezone().strftime("%H:%M:%S")
            table.add_row(
                str(checkpoint.sequence),
                checkpoint.name.rsplit("/", 1)[-1],
                _size(checkpoint.size_bytes),
                checkpoint.content_type.rpartition("type=")[2] or checkpoint.content_type,
                created,
                ", ".join(f"{key}={value}" for key, value in sorted(checkpoint.annotations.items())),
            )
        page_token = page.next_page_token
        if not page_token:
            break
    console.print(table)


def _size(size_bytes: int) -> str:
    return f"{size_bytes / 1024:.1f} KiB" if size_bytes >= 1024 else f"{size_bytes} B"
