"""`troupe panels`, `troupe panels show PANEL`, `troupe panels delete PANEL`: the caller's standing panels.

A study saves its participants into a panel with `save_to_panel`; a follow-up study runs them again with
`participants: {mode: from_panel, panel: panels/NAME}` (examples/follow_up.yaml). Panels are read through the
orchestrator, the service callers reach, for the caller's tenant.
"""

from __future__ import annotations

from datetime import UTC

from google.protobuf import timestamp_pb2
from rich.console import Console
from rich.text import Text
from tinytroupe_mesh_api.control.v1 import control_pb2

from services.cli.connection import MeshConnection
from services.cli.render import compact_table
from services.common.names import PANELS


def panel_name(name: str) -> str:
    """`panels/ID` from a panel name or a bare id."""
    return name if name.startswith(PANELS) else f"{PANELS}{name}"


def _local_time(moment: timestamp_pb2.Timestamp, form: str = "%Y-%m-%d %H:%M") -> str:
    if not moment.seconds:
        return ""
    return moment.ToDatetime(tzinfo=UTC).astimezone().strftime(form)


async def list_panels(mesh: MeshConnection, console: Console, limit: int) -> None:
    response = await mesh.orchestrator.ListPanels(control_pb2.ListPanelsRequest(page_size=limit))
    table = compact_table(f"Panels of {mesh.caller.describe()}")
    table.add_column("panel", no_wrap=True)
    table.add_column("name")
    table.add_column("members", justify="right", no_wrap=True)
    table.add_column("studies", justify="right", no_wrap=True)
    table.add_column("updated", no_wrap=True)
    for panel in response.panels:
        table.add_row(
            panel.name.removeprefix(PANELS),
            panel.display_name,
            str(panel.member_count),
            str(panel.study_count),
            _local_time(panel.update_time, "%m-%d %H:%M"),
        )
    console.print(table)
    if not response.panels:
        console.print("no panels yet; a study saves one with `save_to_panel` (see examples/follow_up.yaml)")


async def show_panel(mesh: MeshConnection, console: Console, name: str) -> None:
    panel = await mesh.orchestrator.GetPanel(control_pb2.GetPanelRequest(name=panel_name(name)))
    console.print(Text.assemble((panel.name, "bold"), f"  {panel.display_name}" if panel.display_name else ""))
    if panel.description:
        console.print(panel.description, markup=False)
    console.print(
        f"{panel.member_count} members, {panel.study_count} studies; created {_local_time(panel.create_time)}, "
        f"updated {_local_time(panel.update_time)}",
        markup=False,
    )
    members = compact_table("Members")
    members.add_column("member", no_wrap=True)
    members.add_column("memories", justify="right", no_wrap=True)
    members.add_column("studies", justify="right", no_wrap=True)
    members.add_column("latest study", overflow="fold")
    studies: dict[str, tuple[control_pb2.PanelStudy, list[str]]] = {}
    for member in panel.members:
        agent = member.agent
        latest = member.studies[-1] if member.studies else None
        members.add_row(
            agent.name,
            str(len(agent.episodic_memory)),
            str(len(member.studies)),
            (latest.display_name or latest.session) if latest else "",
        )
        for study in member.studies:
            studies.setdefault(study.session, (study, []))[1].append(agent.name)
    console.print(members)
    history = compact_table("Studies, oldest first")
    history.add_column("ended", no_wrap=True)
    history.add_column("name", no_wrap=True)
    history.add_column("members", justify="right", no_wrap=True)
    history.add_column("study", overflow="fold")
    for study, names in sorted(studies.values(), key=lambda entry: entry[0].end_time.ToNanoseconds()):
        history.add_row(
            _local_time(study.end_time), study.display_name, str(len(names)), study.session.removeprefix("sessions/")
        )
    console.print(history)


async def delete_panel(mesh: MeshConnection, console: Console, name: str) -> None:
    name = panel_name(name)
    await mesh.orchestrator.DeletePanel(control_pb2.DeletePanelRequest(name=name))
    console.print(f"deleted {name}", markup=False)
