"""`troupe up`, `troupe down` and `troupe demo`: the local mesh on this machine."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from services.cli.connection import TOKEN_VARIABLE, Caller, MeshConnection, service_address
from services.cli.studies import run_study
from services.mesh.launcher import LocalMesh, read_state, security_summary, stop_from_state
from services.mesh.processes import PROJECT_ROOT, health_serving, pid_alive
from services.runtime.config import MeshSettings
from services.runtime.security import channel_credentials

DEMO_STUDY = PROJECT_ROOT / "examples" / "focus_group.json"


class MeshAlreadyRunning(Exception):
    pass


def running_mesh_pids(data_dir: Path) -> dict[str, int]:
    state = read_state(data_dir) or {}
    pids = {name: entry["pid"] for name, entry in state.get("services", {}).items()}
    return {name: pid for name, pid in pids.items() if pid and pid_alive(pid)}


async def start_mesh(console: Console, settings: MeshSettings, *, detached: bool) -> LocalMesh:
    if running := running_mesh_pids(settings.data_dir):
        raise MeshAlreadyRunning(
            f"a mesh is already running from {settings.data_dir} "
            f"({len(running)} servers); stop it with `troupe down`"
        )
    mesh = LocalMesh.from_settings(settings, detached=detached)
    model = "the embedded model" if mesh.llm_base_url is None else mesh.llm_base_url
    started = time.monotonic()
    with console.status(f"starting the mesh on {model} (data in {settings.data_dir}) ..."):
        await mesh.start()
    console.print(services_table(mesh, time.monotonic() - started))
    for line in security_summary(mesh.environment):
        console.print(f"security: {line}", markup=False)
    if mesh.environment.get("AUTH_TOKENS") or mesh.environment.get("AUTH_JWT_KEY"):
        tls = f" --ca-file {mesh.environment['TLS_CA_FILE']}" if mesh.environment.get("TLS_CA_FILE") else ""
        console.print(
            f"call it with a caller's token: `troupe{tls} --token TOKEN run ...` (or {TOKEN_VARIABLE}=TOKEN)",
            markup=False,
        )
    return mesh


def services_table(mesh: LocalMesh, seconds: float) -> Table:
    table = Table(title=f"TinyTroupe Mesh is up ({seconds:.1f} s)")
    for column in ("service", "address", "pid", "log"):
        table.add_column(column)
    for name, process in mesh.services.items():
        table.add_row(name, process.address, str(process.pid), str(process.log_path))
    table.add_row(
        "model",
        mesh.llm_base_url or "",
        str(mesh.model.pid) if mesh.model else "-",
        str(mesh.model.log_path) if mesh.model else "",
    )
    return table


async def up(console: Console, settings: MeshSettings, *, detach: bool) -> None:
    # Handlers go in before the servers start: a SIGTERM that arrives while they start (or right after the state
    # file appears) must still stop them all, not kill this process and leave them orphaned.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if not detach:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
    mesh = await start_mesh(console, settings, detached=detach)
    if detach:
        console.print("running in the background; stop it with `troupe down`")
        return
    console.print("press Ctrl-C to stop")
    stopping = asyncio.ensure_future(stop.wait())
    exiting = asyncio.ensure_future(mesh.wait_for_exit())
    try:
        await asyncio.wait({stopping, exiting}, return_when=asyncio.FIRST_COMPLETED)
        if exiting.done():
            console.print(f"[red]{exiting.result()} exited[/red]; stopping the mesh")
    finally:
        stopping.cancel()
        exiting.cancel()
        with console.status("stopping the mesh ..."):
            await mesh.stop()
    console.print("the mesh has stopped")


async def down(console: Console, settings: MeshSettings) -> None:
    stopped = await stop_from_state(settings.data_dir)
    console.print(
        f"stopped {', '.join(stopped)}" if stopped else f"no mesh is running from {settings.data_dir}"
    )


async def demo(console: Console, settings: MeshSettings, output_root: Path, caller: Caller) -> None:
    """Runs the example focus group: on the running mesh if there is one, else on a mesh started for it."""
    mesh = None
    credentials = channel_credentials(settings)
    if not await health_serving(service_address(settings, "orchestrator"), credentials=credentials):
        mesh = await start_mesh(console, settings, detached=False)
    try:
        async with MeshConnection.from_settings(settings, caller=caller) as connection:
            await run_study(connection, console, DEMO_STUDY, output_root)
    finally:
        if mesh is not None:
            with console.status("stopping the mesh ..."), contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(mesh.stop())
