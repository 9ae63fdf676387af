"""`troupe`: start the local mesh, run studies and look at their sessions."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

import grpc
from rich.console import Console

from services.cli import local_mesh, panels, studies
from services.cli import tracing as cli_tracing
from services.cli.connection import TOKEN_VARIABLE, Caller, MeshConnection, describe_error
from services.cli.estimates import estimate_file
from services.cli.report import ReportError
from services.cli.report.command import write_report
from services.mesh.launcher import check_replicas, read_state
from services.mesh.processes import MeshStartError
from services.mesh.supervision import RestartPolicy
from services.orchestrator.study_file import StudyFileError
from services.runtime.config import MeshSettings, parse_replicas

RESULTS_FOLDER = "results"
"""Study results go to `DATA_DIR/results/<operation>/` unless `--output` says otherwise."""

TLS_OPTIONS = {"ca_file": "tls_ca_file", "cert_file": "tls_cert_file", "key_file": "tls_key_file"}


class UsageError(Exception):
    """The command line asks for something that cannot work."""


def add_connection_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """How to reach the mesh and who to call it as. On the subcommands too, so they may follow the command."""
    default = None if defaults else argparse.SUPPRESS
    group = parser.add_argument_group("connection")
    group.add_argument(
        "--address", default=default, help="the orchestrator (default: ORCHESTRATOR_ADDRESS or the local mesh)"
    )
    group.add_argument(
        "--token",
        default=default,
        help=f"bearer token that names your tenant, for a mesh with authentication (default: ${TOKEN_VARIABLE})",
    )
    group.add_argument(
        "--ca-file",
        type=Path,
        default=default,
        help="PEM CA that signed the mesh's certificate: speak TLS (default: TLS_CA_FILE)",
    )
    group.add_argument(
        "--cert-file",
        type=Path,
        default=default,
        help="your PEM certificate, for a mesh that asks callers for one (default: TLS_CERT_FILE)",
    )
    group.add_argument("--key-file", type=Path, default=default, help="its key (default: TLS_KEY_FILE)")


def add_output_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output",
        type=Path,
        help=f"where results go: a folder per study (default: DATA_DIR/{RESULTS_FOLDER}, "
        f"i.e. ~/.tinytroupe-mesh/{RESULTS_FOLDER})",
    )


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="troupe", description=__doc__)
    add_connection_options(root, defaults=True)
    commands = root.add_subparsers(dest="command", required=True)
    up = commands.add_parser(
        "up",
        help="start the local mesh (six servers and the embedded model) and keep it running",
        description="Starts the mesh and holds the terminal: run studies from another one, stop it with Ctrl-C "
        "or `troupe down` (or start it with --detach). A server that exits is started again on its port. "
        "The model: LLM_BASE_URL (an OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1), else the "
        "embedded one. Security settings come from the environment, as for a deployment: AUTH_TOKENS "
        "(token=tenant,...), AUTH_JWT_KEY, INTERNAL_TOKEN (made up when callers need tokens and it is unset), "
        "TLS_CERT_FILE, TLS_KEY_FILE and TLS_CA_FILE (mutual TLS between the services).",
    )
    up.add_argument("--detach", action="store_true", help="run it in the background (output in DATA_DIR/logs/up.log)")
    up.add_argument(
        "--restart-limit",
        type=int,
        default=None,
        metavar="N",
        help=f"restarts of one server within {RestartPolicy.window_s:g} s before the mesh stops "
        f"(default {RestartPolicy.limit}; 0: the first exit stops the mesh)",
    )
    up.add_argument(
        "--replicas",
        default=None,
        metavar="SERVICE=N,...",
        help="processes per inner service behind client-side round-robin, e.g. population=2,simulation=3 "
        "(also REPLICAS); they share one model rate budget through control",
    )
    up.add_argument("--background", action="store_true", help=argparse.SUPPRESS)
    commands.add_parser("down", help="stop the local mesh (from any terminal)")
    run = commands.add_parser(
        "run",
        help="run a study or experiment file and wait for its result",
        description="Runs a study file, or an experiment file (one with `arms`: RunExperiment), as in "
        "examples/ and examples/experiments/; shows its progress, writes its files and prints its summary.",
    )
    run.add_argument("study_file", type=Path, metavar="FILE")
    add_output_option(run)
    run.add_argument("--request-id", default="", help="idempotency key: the same id returns the same study")
    estimate = commands.add_parser(
        "estimate",
        help="what a study or experiment file would cost, before running it",
        description="Asks the mesh for the model calls, tokens and cost (low, expected, high) a study or "
        "experiment file would take, and the time of its critical path; runs nothing. Prices come from the "
        "mesh's LLM_PRICES or LLM_PRICES_FILE.",
    )
    estimate.add_argument("study_file", type=Path, metavar="FILE")
    estimate.add_argument(
        "--latency", type=float, default=2.0, metavar="SECONDS", help="time of one model call (default 2)"
    )
    resume = commands.add_parser(
        "resume", help="follow a study again to its result (one whose mesh stopped goes on from its checkpoint)"
    )
    resume.add_argument("operation")
    add_output_option(resume)
    report = commands.add_parser(
        "report",
        help="write an HTML report of a finished study or experiment",
        description="Writes report.html beside the operation's result files: what was asked, charts per "
        "field, the tests and quotes. The page is self-contained (no network needed to open it).",
    )
    report.add_argument("operation")
    add_output_option(report)
    cancel = commands.add_parser("cancel", help="cancel a running study")
    cancel.add_argument("operation")
    sessions = commands.add_parser("sessions", help="list your studies, newest first")
    sessions.add_argument(
        "--all", action="store_true", help="every session in control, not only studies (local mesh, no token)"
    )
    sessions.add_argument("--limit", type=int, default=20)
    checkpoints = commands.add_parser("checkpoints", help="list a study's checkpoints")
    checkpoints.add_argument("session")
    panel_parser = commands.add_parser(
        "panels",
        help="list, show or delete your standing panels (people kept with their memories across studies)",
        description="A study saves its participants into a panel with `save_to_panel`; a follow-up study runs "
        "them again with `participants: {mode: from_panel, panel: panels/NAME}` (examples/follow_up.yaml).",
    )
    panel_commands = panel_parser.add_subparsers(dest="panel_command")
    list_panels = panel_commands.add_parser("list", help="your panels, newest first (the default)")
    panel_parser.add_argument("--limit", type=int, default=50, help="most panels to list (default 50)")
    list_panels.add_argument("--limit", type=int, default=argparse.SUPPRESS, help="most panels to list (default 50)")
    show_panel = panel_commands.add_parser("show", help="a panel's members and the studies each took part in")
    show_panel.add_argument("panel", help="panels/NAME or NAME")
    delete_panel = panel_commands.add_parser("delete", help="delete a panel (its studies stay)")
    delete_panel.add_argument("panel", help="panels/NAME or NAME")
    demo = commands.add_parser("demo", help="start the mesh, run examples/focus_group.json, stop")
    add_output_option(demo)
    for command in (
        run,
        resume,
        report,
        cancel,
        sessions,
        checkpoints,
        panel_parser,
        list_panels,
        show_panel,
        delete_panel,
        demo,
    ):
        add_connection_options(command, defaults=False)
    return root


def mesh_settings(arguments: argparse.Namespace) -> MeshSettings:
    """The settings from the environment, with the command line's address and TLS files."""
    settings = MeshSettings()
    updates: dict[str, object] = {}
    if arguments.address:
        updates["orchestrator_address"] = arguments.address
    for option, setting in TLS_OPTIONS.items():
        if getattr(arguments, option, None) is not None:
            updates[setting] = getattr(arguments, option).expanduser().resolve()
    settings = settings.model_copy(update=updates)
    if (settings.tls_cert_file is None) != (settings.tls_key_file is None):
        raise UsageError("--cert-file and --key-file go together")
    for setting in TLS_OPTIONS.values():
        path = getattr(settings, setting)
        if path is not None and not path.is_file():
            raise UsageError(f"{path} does not exist")
    return settings


def with_replicas(settings: MeshSettings, replicas: str) -> MeshSettings:
    """`--replicas`: the settings with those replicas, and REPLICAS set for a launcher started in the
    background."""
    try:
        parsed = parse_replicas(replicas)
        check_replicas(parsed)
    except (ValueError, MeshStartError) as error:
        raise UsageError(f"--replicas: {error}") from None
    os.environ["REPLICAS"] = replicas
    return settings.model_copy(update={"replicas": parsed})


def caller(arguments: argparse.Namespace, settings: MeshSettings) -> Caller:
    return Caller.of(settings, arguments.token or os.environ.get(TOKEN_VARIABLE))


def results_root(arguments: argparse.Namespace, settings: MeshSettings) -> Path:
    output = arguments.output if arguments.output is not None else settings.data_dir / RESULTS_FOLDER
    return output.expanduser().resolve()


async def dispatch(arguments: argparse.Namespace, console: Console, settings: MeshSettings) -> None:
    if arguments.command == "up":
        if arguments.restart_limit is not None and arguments.restart_limit < 0:
            raise UsageError("--restart-limit must be 0 or more")
        if arguments.replicas is not None:
            settings = with_replicas(settings, arguments.replicas)
        return await local_mesh.up(
            console,
            settings,
            detach=arguments.detach,
            restart_limit=arguments.restart_limit,
            background=arguments.background,
        )
    if arguments.command == "down":
        return await local_mesh.down(console, settings)
    identity = caller(arguments, settings)
    if arguments.command == "demo":
        return await local_mesh.demo(console, settings, results_root(arguments, settings), identity)
    if arguments.command == "sessions" and arguments.all and identity.token is not None:
        raise UsageError(
            "--all reads control, which answers the mesh's own services only; "
            "without --all, `troupe sessions` lists your studies"
        )
    async with MeshConnection.from_settings(settings, arguments.address, identity) as mesh:
        if arguments.command == "run":
            await studies.run_file(
                mesh, console, arguments.study_file, results_root(arguments, settings), arguments.request_id
            )
        elif arguments.command == "estimate":
            await estimate_file(mesh, console, arguments.study_file, arguments.latency)
        elif arguments.command == "resume":
            await studies.resume_study(mesh, console, arguments.operation, results_root(arguments, settings))
        elif arguments.command == "report":
            await write_report(mesh, console, arguments.operation, results_root(arguments, settings))
        elif arguments.command == "cancel":
            await studies.cancel_study(mesh, console, arguments.operation)
        elif arguments.command == "sessions" and arguments.all:
            await studies.list_sessions(mesh, console, arguments.limit)
        elif arguments.command == "sessions":
            await studies.list_studies(mesh, console, arguments.limit)
        elif arguments.command == "checkpoints":
            await studies.list_checkpoints(mesh, console, arguments.session)
        elif arguments.command == "panels" and arguments.panel_command == "show":
            await panels.show_panel(mesh, console, arguments.panel)
        elif arguments.command == "panels" and arguments.panel_command == "delete":
            await panels.delete_panel(mesh, console, arguments.panel)
        elif arguments.command == "panels":
            await panels.list_panels(mesh, console, arguments.limit)


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    console = Console()
    if arguments.command in cli_tracing.TRACED_COMMANDS:
        cli_tracing.configure()
    try:
        settings = mesh_settings(arguments)
        asyncio.run(dispatch(arguments, console, settings))
    except KeyboardInterrupt:
        console.print(
            "[yellow]interrupted[/yellow]; a study already started keeps running in the mesh: "
            "`troupe sessions` lists it, `troupe resume STUDY` follows it again"
        )
        return 130
    except grpc.aio.AioRpcError as error:
        if error.code() == grpc.StatusCode.UNAVAILABLE and _tls_problem(error):
            console.print(
                f"[red]no secure connection to {_address(arguments, settings)}: check --ca-file "
                "(and --cert-file/--key-file where the mesh asks for a certificate)[/red]"
            )
            console.print(error.details(), style="red", markup=False)
        elif error.code() == grpc.StatusCode.UNAVAILABLE:
            console.print(
                f"[red]the mesh is not running at {_address(arguments, settings)}; start it with `troupe up`[/red]",
            )
            if (read_state(settings.data_dir) or {}).get("tls") and settings.tls_ca_file is None:
                console.print("[red]the local mesh speaks TLS: pass --ca-file (or set TLS_CA_FILE)[/red]")
        else:
            console.print(describe_error(error), style="red", markup=False)
        return 1
    except (
        StudyFileError,
        studies.StudyFailed,
        studies.CommandRefused,
        studies.MeshLost,
        local_mesh.MeshAlreadyRunning,
        local_mesh.MeshGaveUp,
        MeshStartError,
        UsageError,
        ReportError,
    ) as error:
        console.print(str(error), style="red", markup=False)
        return 1
    finally:
        cli_tracing.shutdown()
    return 0


def _address(arguments: argparse.Namespace, settings: MeshSettings) -> str:
    connection = MeshConnection.from_settings(settings, arguments.address)
    reads_control = (arguments.command == "sessions" and arguments.all) or (
        arguments.command == "checkpoints" and caller(arguments, settings).token is None
    )
    return connection.control_address if reads_control else connection.orchestrator_address


def _tls_problem(error: grpc.aio.AioRpcError) -> bool:
    details = (error.details() or "").lower()
    return any(word in details for word in ("ssl", "tls", "handshake", "certificate"))


if __name__ == "__main__":
    sys.exit(main())
