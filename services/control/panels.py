"""Standing panels of the control service: CreatePanel, GetPanel, ListPanels, DeletePanel, AddPanelStudy.

A panel keeps people across studies: each member is an agent as it left its latest study (specification,
cognitive state, episodic memory) with the list of studies it took part in. AddPanelStudy merges a study's
participants into a panel by name; it reads, merges and writes with the panel's version, so concurrent
recordings of two studies both land.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator, Sequence

import grpc
from google.protobuf import empty_pb2
from tinytroupe_mesh_api.common.v1 import agent_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2

from services.common.names import (
    PANEL_ID_RULE,
    check_session_name,
    is_panel_id,
    panel_id_of,
    panel_name,
)
from services.common.violations import Violations
from services.control import limits
from services.control.errors import DataLoss
from services.control.messages import timestamp
from services.control.page_tokens import decode_page_token, encode_page_token
from services.control.payloads import PayloadCorrupted, decode_payload, encode_payload
from services.control.storage.panels import (
    NewPanel,
    PanelAlreadyExists,
    PanelChanged,
    PanelMembers,
    PanelNotFound,
    PanelRecord,
    PanelStorage,
)
from services.control.validation import check_labels, check_text, page_size
from services.runtime.context import current_tenant
from services.runtime.errors import Aborted, AlreadyExists, FailedPrecondition, InvalidArgument, NotFound

PANEL_TYPE = "control.tinytroupe.io/Panel"
PANEL_FULL = "PANEL_FULL"
PANEL_CHANGED = "PANEL_CHANGED"
View = control_pb2.PanelView
Panel = control_pb2.Panel


@contextlib.contextmanager
def panel_errors(panel_id: str) -> Iterator[None]:
    """Re-raises the storage's panel errors inside the block as gRPC errors."""
    try:
        yield
    except PanelNotFound as error:
        raise NotFound(PANEL_TYPE, panel_name(error.panel_id)) from error
    except PanelAlreadyExists as error:
        raise AlreadyExists(PANEL_TYPE, panel_name(error.panel_id)) from error
    except PayloadCorrupted as error:
        raise DataLoss(f"stored panel {panel_name(panel_id)} is corrupted: {error}") from error


def agents_violations(
    agents: Sequence[agent_pb2.Agent], field: str, agent_field: Callable[[int], str]
) -> list[tuple[str, str]]:
    """Each agent needs a name and a specification; names are unique (they identify panel members).
    `field` names the list, `agent_field(i)` its i-th agent."""
    violations = Violations()
    violations.check(
        len(agents) <= limits.MAX_PANEL_MEMBERS, field, f"must hold at most {limits.MAX_PANEL_MEMBERS} agents"
    )
    seen: dict[str, int] = {}
    for index, agent in enumerate(agents):
        if not agent.name.strip():
            violations.add(f"{agent_field(index)}.name", "is required: it identifies the panel member")
        elif agent.name in seen:
            violations.add(f"{agent_field(index)}.name", f"{agent.name!r} is also {agent_field(seen[agent.name])}")
        else:
            seen[agent.name] = index
        violations.check(bool(agent.spec_json.strip()), f"{agent_field(index)}.spec_json", "is required")
    return violations.found


def merge_study(
    members: list[control_pb2.PanelMember], study: control_pb2.PanelStudy, agents: Sequence[agent_pb2.Agent]
) -> list[control_pb2.PanelMember]:
    """The members after `study`: each agent replaces the member of its name or joins, and the study enters
    its history once (recording the same session again refreshes the entry instead of repeating it)."""
    by_name = {member.agent.name: member for member in members}
    for agent in agents:
        member = by_name.get(agent.name)
        if member is None:
            member = control_pb2.PanelMember()
            members.append(member)
            by_name[agent.name] = member
        member.agent.CopyFrom(agent)
        earlier = [index for index, entry in enumerate(member.studies) if entry.session == study.session]
        if earlier:
            member.studies[earlier[0]].CopyFrom(study)
        else:
            member.studies.append(study)
    return members


def study_count(members: Sequence[control_pb2.PanelMember]) -> int:
    return len({entry.session for member in members for entry in member.studies})


def encode_members(members: Sequence[control_pb2.PanelMember]) -> PanelMembers:
    """The members as stored. CPU-bound: run it off the event loop."""
    payload = Panel(members=members).SerializeToString(deterministic=True)
    return PanelMembers(len(members), study_count(members), encode_payload(payload))


def decode_members(record: PanelRecord) -> list[control_pb2.PanelMember]:
    """The stored members. CPU-bound: run it off the event loop."""
    return list(Panel.FromString(decode_payload(record.payload)).members)


def panel_message(record: PanelRecord, view: int) -> Panel:
    """The panel as `view` shows it. CPU-bound: run it off the event loop."""
    message = Panel(
        name=panel_name(record.panel_id),
        display_name=record.display_name,
        description=record.description,
        labels=record.labels,
        members=decode_members(record),
        member_count=record.member_count,
        study_count=record.study_count,
        create_time=timestamp(record.create_time),
        update_time=timestamp(record.update_time),
        tenant=record.tenant,
    )
    if view == View.PANEL_VIEW_BASIC:
        for member in message.members:
            member.agent.CopyFrom(agent_pb2.Agent(agent_id=member.agent.agent_id, name=member.agent.name))
    return message


class PanelMethods:
    """The panel methods of the SimulationControlService, on the servicer's `_storage`."""

    _storage: PanelStorage

    async def _stored(self, members: Sequence[control_pb2.PanelMember]) -> PanelMembers:
        stored = await asyncio.to_thread(encode_members, members)
        if stored.payload.size_bytes > limits.MAX_PANEL_BYTES:
            raise FailedPrecondition(
                PANEL_FULL,
                f"the panel's members would take {stored.payload.size_bytes} bytes; at most {limits.MAX_PANEL_BYTES}",
            )
        return stored

    async def CreatePanel(self, request: control_pb2.CreatePanelRequest, context: grpc.aio.ServicerContext) -> Panel:
        violations = Violations()
        if violations.check(bool(request.panel_id), "panel_id", "is required"):
            violations.check(is_panel_id(request.panel_id), "panel_id", f"must be {PANEL_ID_RULE}")
        if not request.HasField("panel"):
            violations.add("panel", "is required")
        panel = request.panel
        check_text(violations, "panel.display_name", panel.display_name, limits.MAX_DISPLAY_NAME_LENGTH)
        check_text(violations, "panel.description", panel.description, limits.MAX_DESCRIPTION_LENGTH)
        check_labels(violations, "panel.labels", panel.labels, limits.MAX_LABELS)
        violations.extend(
            agents_violations(
                [member.agent for member in panel.members],
                "panel.members",
                lambda index: f"panel.members[{index}].agent",
            )
        )
        violations.raise_if_any()
        members = [control_pb2.PanelMember(agent=member.agent) for member in panel.members]
        new = NewPanel(
            panel_id=request.panel_id,
            display_name=panel.display_name,
            description=panel.description,
            labels=dict(panel.labels),
            members=await self._stored(members),
            tenant=current_tenant.get(),
        )
        with panel_errors(request.panel_id):
            record = await self._storage.create_panel(new)
            return await asyncio.to_thread(panel_message, record, View.PANEL_VIEW_FULL)

    async def GetPanel(self, request: control_pb2.GetPanelRequest, context: grpc.aio.ServicerContext) -> Panel:
        panel_id = panel_id_of(request.name, "name")
        view = _view("view", request.view, View.PANEL_VIEW_FULL)
        with panel_errors(panel_id):
            record = await self._storage.get_panel(panel_id, tenant=current_tenant.get())
            return await asyncio.to_thread(panel_message, record, view)

    async def ListPanels(
        self, request: control_pb2.ListPanelsRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.ListPanelsResponse:
        limit = page_size("page_size", request.page_size, limits.DEFAULT_PANEL_PAGE_SIZE)
        view = _view("view", request.view, View.PANEL_VIEW_BASIC)
        tenant = current_tenant.get()
        query = {"panels": True, "tenant": tenant}
        after = decode_page_token(request.page_token, query, int)
        page = await self._storage.list_panels(limit=limit, after=after, tenant=tenant)
        with panel_errors(""):
            panels = await asyncio.to_thread(lambda: [panel_message(record, view) for record in page.items])
        return control_pb2.ListPanelsResponse(panels=panels, next_page_token=encode_page_token(page.next_cursor, query))

    async def DeletePanel(
        self, request: control_pb2.DeletePanelRequest, context: grpc.aio.ServicerContext
    ) -> empty_pb2.Empty:
        panel_id = panel_id_of(request.name, "name")
        with panel_errors(panel_id):
            await self._storage.delete_panel(panel_id, tenant=current_tenant.get())
        return empty_pb2.Empty()

    async def AddPanelStudy(
        self, request: control_pb2.AddPanelStudyRequest, context: grpc.aio.ServicerContext
    ) -> Panel:
        panel_id = panel_id_of(request.panel, "panel")
        violations = Violations()
        if not request.HasField("study"):
            violations.add("study", "is required")
        check_session_name(violations, "study.session", request.study.session)
        check_text(violations, "study.operation", request.study.operation, limits.MAX_DISPLAY_NAME_LENGTH)
        check_text(violations, "study.display_name", request.study.display_name, limits.MAX_DISPLAY_NAME_LENGTH)
        check_text(violations, "display_name", request.display_name, limits.MAX_DISPLAY_NAME_LENGTH)
        violations.check(len(request.agents) > 0, "agents", "must hold at least one agent")
        violations.extend(agents_violations(request.agents, "agents", lambda index: f"agents[{index}]"))
        violations.raise_if_any()
        tenant = current_tenant.get()
        with panel_errors(panel_id):
            for _ in range(limits.PANEL_UPDATE_ATTEMPTS):
                try:
                    record = await self._storage.get_panel(panel_id, tenant=tenant)
                except PanelNotFound:
                    if not request.allow_missing:
                        raise
                    record = None
                members = await asyncio.to_thread(
                    lambda current: merge_study(
                        decode_members(current) if current else [], request.study, request.agents
                    ),
                    record,
                )
                if len(members) > limits.MAX_PANEL_MEMBERS:
                    raise FailedPrecondition(
                        PANEL_FULL,
                        f"the panel would have {len(members)} members; at most {limits.MAX_PANEL_MEMBERS}",
                        subject=request.panel,
                    )
                stored = await self._stored(members)
                try:
                    if record is None:
                        created = NewPanel(
                            panel_id, request.display_name or request.study.display_name, "", {}, stored, tenant
                        )
                        record = await self._storage.create_panel(created)
                    else:
                        record = await self._storage.replace_panel_members(
                            panel_id, stored, expected_version=record.version, tenant=tenant
                        )
                except (PanelAlreadyExists, PanelChanged):
                    continue  # another study was recorded meanwhile: merge into the panel as it is now
                return await asyncio.to_thread(panel_message, record, View.PANEL_VIEW_FULL)
        raise Aborted(PANEL_CHANGED, f"{request.panel} kept changing while this study was recorded; try again")


def _view(field: str, value: int, default: int) -> int:
    if value not in View.values():
        raise InvalidArgument(field, "must be PANEL_VIEW_BASIC, PANEL_VIEW_FULL or unspecified")
    return value or default
