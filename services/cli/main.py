"""`troupe`: start the local mesh, run studies and look at their sessions."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import grpc
from rich.console import Console

from services.cli import local_mesh, studies
from services.cli.connection import MeshConnection, describe_error
from services.mesh.processes import MeshStartError
from services.orchestrator.study_file import StudyFileError
from services.runtime.config import MeshSettings

DEFAULT_OUTPUT = Path("troupe-results")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="troupe", description=__doc__)
    root.add_argument("--address", help="the orchestrator (default: ORCHESTRATOR_ADDRESS or the local mesh)")
    commands = root.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start the local mesh (six servers and the embedded model)")
    up.add_argument("--detach", action="store_true", help="leave it running in the background")
    commands.add_parser("down", help="stop a local mesh started with --detach")
    run = commands.add_parser("run", help="run a study file and wait for its result")
    run.add_argument("study_file", type=Path)
    run.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help="where results go (default %(default)s)"
    )
    run.add_argument("--request-id", default="", help="idempotency key: the same id returns the same study")
    resume = commands.add_parser("resume", help="resume a study whose orchestrator stopped")
    resume.add_argument("operation")
    resume.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    cancel = commands.add_parser("cancel", help="cancel a running study")
    cancel.add_argument("operation")
    sessions = commands.add_parser("sessions", help="list study sessions, newest first")
    sessions.add_argument("--all", action="store_true", help="all sessions, not only studies")
    sessions.add_argument("--limit", type=int, default=20)
    checkpoints = commands.add_parser("checkpoints", help="list a session's checkpoints")
    checkpoints.add_argument("session")
    demo = commands.add_parser("demo", help="start the mesh, run examples/focus_group.json, stop")
    demo.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    return root


async def dispatch(arguments: argparse.Namespace, console: Console, settings: MeshSettings) -> None:
    if arguments.command == "up":
        return await local_mesh.up(console, settings, detach=arguments.detach)
    if arguments.command == "down":
        return await local_mesh.down(console, settings)
    if arguments.command == "demo":
        return await local_mesh.demo(console, settings, arguments.output)
    async with MeshConnection.from_settings(settings, arguments.address) as mesh:
        if arguments.command == "run":
            await studies.run_study(
                mesh, console, arguments.study_file, arguments.output, arguments.request_id
            )
        elif arguments.command == "resume":
            await studies.resume_study(mesh, console, arguments.operation, arguments.output)
        elif arguments.command == "cancel":
            await studies.cancel_study(mesh, console, arguments.operation)
        elif arguments.command == "sessions":
            await studies.list_sessions(mesh, console, arguments.limit, arguments.all)
        elif arguments.command == "checkpoints":
            await studies.list_checkpoints(mesh, console, arguments.session)


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    console = Console()
    settings = MeshSettings()
    if arguments.address:
        settings = settings.model_copy(update={"orchestrator_address": arguments.address})
    try:
        asyncio.run(dispatch(arguments, console, settings))
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/yellow]; a study already started keeps running in the mesh")
        return 130
    except grpc.aio.AioRpcError as error:
        if error.code() == grpc.StatusCode.UNAVAILABLE:
            console.print(
                f"[red]the mesh is not running at {_address(arguments, settings)}; "
                "start it with `troupe up`[/red]"
            )
        else:
            console.print(f"[red]{describe_error(error)}[/red]")
        return 1
    except (StudyFileError, studies.StudyFailed, local_mesh.MeshAlreadyRunning, MeshStartError) as error:
        console.print(f"[red]{error}[/red]")
        return 1
    return 0


def _address(arguments: argparse.Namespace, settings: MeshSettings) -> str:
    connection = MeshConnection.from_settings(settings, arguments.address)
    if arguments.command in ("sessions", "checkpoints"):
        return connection.control_address
    return connection.orchestrator_address


if __name__ == "__main__":
    sys.exit(main())
