"""`troupe up`, `troupe down` and `troupe demo`: the local mesh on this machine.

`troupe up` holds the terminal: it starts the mesh, supervises it (a server that exits is started again
on its port) and stops it on Ctrl-C or SIGTERM. `troupe up --detach` runs that same launcher in the
background, its output in `DATA_DIR/logs/up.log`, and returns once the mesh is up; `troupe down` stops
either from any terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from services.cli.connection import TOKEN_VARIABLE, Caller, MeshConnection, service_address
from services.cli.studies import run_study
from services.mesh.launcher import MODEL_START_TIMEOUT_S, LocalMesh, read_state, stop_from_state
from services.mesh.processes import PROJECT_ROOT, MeshStartError, health_serving, pid_alive
from services.mesh.supervision import RestartPolicy
from services.runtime.config import MeshSettings
from services.runtime.security import channel_credentials

DEMO_STUDY = PROJECT_ROOT / "examples" / "focus_group.json"
EMBEDDED_MODEL_HINT = (
    "note: the embedded model (Gemma 3 270M) is tiny and its people speak poorly; for real studies point the "
    "mesh at a real model: LLM_BASE_URL=https://.../v1 LLM_API_KEY=... LLM_MODEL=... troupe demo"
)
BACKGROUND_LOG = "up.log"
BACKGROUND_START_TIMEOUT_S = MODEL_START_TIMEOUT_S + 180.0


class MeshAlreadyRunning(Exception):
    pass


class MeshGaveUp(Exception):
    """A server kept exiting past the restart limit, so the launcher stopped the mesh."""


def running_mesh_pids(data_dir: Path) -> dict[str, int]:
    state = read_state(data_dir) or {}
    pids = {name: entry["pid"] for name, entry in state.get("services", {}).items()}
    return {name: pid for name, pid in pids.items() if pid and pid_alive(pid)}


def refuse_a_second_mesh(settings: MeshSettings) -> None:
    if running := running_mesh_pids(settings.data_dir):
        raise MeshAlreadyRunning(
            f"a mesh is already running from {settings.data_dir} ({len(running)} servers); stop it with `troupe down`"
        )


async def start_mesh(
    console: Console, settings: MeshSettings, *, restart_limit: int | None = None, background: bool = False
) -> LocalMesh:
    refuse_a_second_mesh(settings)
    policy = RestartPolicy() if restart_limit is None else RestartPolicy(limit=restart_limit)
    mesh = LocalMesh.from_settings(settings, detached=background, restart_policy=policy)
    model = "the embedded model" if mesh.llm_base_url is None else mesh.llm_base_url
    started = time.monotonic()
    with console.status(f"starting the mesh on {model} (data in {settings.data_dir}) ..."):
        await mesh.start()
    print_started(console, read_state(settings.data_dir) or {}, time.monotonic() - started)
    return mesh


def print_started(console: Console, state: dict, seconds: float) -> None:
    """The services table, the security summary and any warning of a started mesh, from its state file."""
    console.print(services_table(state, seconds))
    if line := logs_line(state):
        console.print(line, markup=False, soft_wrap=True)
    for line in state.get("security", []):
        console.print(f"security: {line}", markup=False)
    if any("bearer" in line for line in state.get("security", [])):
        tls = " --ca-file CA.pem" if state.get("tls") else ""
        console.print(
            f"call it with a caller's token: `troupe{tls} --token TOKEN run ...` (or {TOKEN_VARIABLE}=TOKEN)",
            markup=False,
        )
    for warning in state.get("warnings", []):
        console.print(f"warning: {warning}", style="yellow", markup=False)


def services_table(state: dict, seconds: float) -> Table:
    table = Table(title=f"TinyTroupe Mesh is up ({seconds:.1f} s)")
    for column in ("service", "address", "pid"):
        table.add_column(column, no_wrap=True)
    for name, entry in state.get("services", {}).items():
        table.add_row(name, entry.get("address", ""), str(entry.get("pid", "")))
    model_pid = state.get("model_pid")
    table.add_row("model", state.get("llm_base_url") or "", str(model_pid) if model_pid else "-")
    return table


def logs_line(state: dict) -> str:
    event_log = state.get("event_log")
    return f"logs: {Path(event_log).parent}/<service>.log" if event_log else ""


def next_steps(console: Console, *, detached: bool) -> None:
    console.print(
        "run a study from another terminal: `troupe run examples/focus_group.json`"
        if not detached
        else "run a study: `troupe run examples/focus_group.json`",
        markup=False,
    )
    console.print(
        "stop it with `troupe down`" + ("" if detached else " (or Ctrl-C here)"),
        markup=False,
    )


async def up(
    console: Console,
    settings: MeshSettings,
    *,
    detach: bool,
    restart_limit: int | None = None,
    background: bool = False,
) -> None:
    if detach:
        return await start_in_background(console, settings, restart_limit)
    # Handlers go in before the servers start: a SIGTERM that arrives while they start (or right after the state
    # file appears) must still stop them all, not kill this process and leave them orphaned.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    mesh = await start_mesh(console, settings, restart_limit=restart_limit, background=background)
    if not background:
        next_steps(console, detached=False)
    stopping = asyncio.ensure_future(stop.wait())
    supervising = asyncio.ensure_future(
        mesh.supervise(lambda line: console.print(f"{time.strftime('%H:%M:%S')} {line}", markup=False))
    )
    given_up = ""
    try:
        await asyncio.wait({stopping, supervising}, return_when=asyncio.FIRST_COMPLETED)
        if supervising.done() and not supervising.cancelled():
            given_up = supervising.result()
    finally:
        stopping.cancel()
        supervising.cancel()
        with console.status("stopping the mesh ..."):
            await mesh.stop()
    if mesh.restarts.counts:
        counts = ", ".join(f"{name} {count}" for name, count in sorted(mesh.restarts.counts.items()))
        console.print(f"restarts: {counts} (events in {mesh.log_dir / 'mesh.log'})", markup=False)
    if given_up:
        log = mesh.children[given_up].log_path
        raise MeshGaveUp(f"the mesh has stopped: {given_up} kept exiting (its log: {log})")
    console.print("the mesh has stopped")


async def start_in_background(console: Console, settings: MeshSettings, restart_limit: int | None) -> None:
    """Runs `troupe up` as a background process (its output in logs/up.log) and returns once the mesh is up."""
    refuse_a_second_mesh(settings)
    data_dir = settings.data_dir.expanduser().resolve()
    log_path = data_dir / "logs" / BACKGROUND_LOG
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "services.cli.main", "up", "--background"]
    if restart_limit is not None:
        command += ["--restart-limit", str(restart_limit)]
    started = time.monotonic()
    with log_path.open("wb") as log:
        launcher = subprocess.Popen(
            command,
            env={**os.environ, "DATA_DIR": str(data_dir), "COLUMNS": "200"},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    deadline = started + BACKGROUND_START_TIMEOUT_S
    with console.status(f"starting the mesh in the background (data in {data_dir}) ..."):
        while (state := read_state(data_dir)) is None or state.get("launcher_pid") != launcher.pid:
            if launcher.poll() is not None or time.monotonic() > deadline:
                if launcher.poll() is None:
                    launcher.terminate()
                raise MeshStartError(f"the mesh did not start ({log_path}):\n{_tail(log_path)}")
            await asyncio.sleep(0.2)
    print_started(console, state, time.monotonic() - started)
    console.print(f"running in the background (launcher pid {launcher.pid}, its output in {log_path})", markup=False)
    next_steps(console, detached=True)


def _tail(path: Path, limit: int = 2000) -> str:
    with contextlib.suppress(OSError):
        return path.read_bytes()[-limit:].decode(errors="replace")
    return ""


async def down(console: Console, settings: MeshSettings) -> None:
    stopped = await stop_from_state(settings.data_dir)
    console.print(f"stopped {', '.join(stopped)}" if stopped else f"no mesh is running from {settings.data_dir}")


async def demo(console: Console, settings: MeshSettings, output_root: Path, caller: Caller) -> None:
    """Runs the example focus group: on the running mesh if there is one, else on a mesh started for it."""
    mesh = None
    supervising = None
    credentials = channel_credentials(settings)
    if not await health_serving(service_address(settings, "orchestrator"), credentials=credentials):
        mesh = await start_mesh(console, settings)
        supervising = asyncio.ensure_future(mesh.supervise(lambda line: console.print(line, markup=False)))
    if settings.llm.base_url is None:
        console.print(EMBEDDED_MODEL_HINT, markup=False, soft_wrap=True)
    try:
        async with MeshConnection.from_settings(settings, caller=caller) as connection:
            await run_study(connection, console, DEMO_STUDY, output_root)
    finally:
        if supervising is not None:
            supervising.cancel()
        if mesh is not None:
            with console.status("stopping the mesh ..."), contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(mesh.stop())
