"""Standing panels in a study: `participants.mode = from_panel` runs a panel's members, who remember their
earlier studies, and `save_to_panel` records a study's participants (with their memories) in a panel.

Panels live in control (`panels/{panel}`, per tenant). A study reads its panel twice: at RunStudy, to refuse
a missing panel or member at once, and when it makes its participants (their memories as they are then).
"""

from __future__ import annotations

from tinytroupe_mesh_api.common.v1 import agent_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.common.checks import stimulus_targets
from services.common.control_client import ControlClient
from services.common.limits import MAX_PARTICIPANTS
from services.common.names import check_panel_name, last_segment, operation_name
from services.common.violations import Violations
from services.runtime.errors import FailedPrecondition

Mode = orchestrator_pb2.Participants.Mode
PANEL_EMPTY = "PANEL_EMPTY"
PANEL_MEMBER_MISSING = "PANEL_MEMBER_MISSING"


def chosen_members(panel: control_pb2.Panel, participants: orchestrator_pb2.Participants) -> list[agent_pb2.Agent]:
    """The agents of the members `participants.panel_members` names (all members when it names none), in the
    panel's order; FAILED_PRECONDITION when the panel is empty or lacks a named member."""
    if not panel.members:
        raise _failed(PANEL_EMPTY, f"{panel.name} has no members yet", "participants.panel")
    by_name = {member.agent.name: member.agent for member in panel.members}
    for index, name in enumerate(participants.panel_members):
        if name not in by_name:
            raise _failed(
                PANEL_MEMBER_MISSING,
                f"{panel.name} has no member named {name!r}",
                f"participants.panel_members[{index}]",
            )
    wanted = set(participants.panel_members) or set(by_name)
    return [member.agent for member in panel.members if member.agent.name in wanted]


def _failed(reason: str, description: str, field: str) -> FailedPrecondition:
    error = FailedPrecondition(reason, f"{description} (the request's `{field}`)")
    error.metadata = {"field": field}
    return error


async def check_study_panel(control: ControlClient, request: orchestrator_pb2.RunStudyRequest) -> None:
    """At RunStudy: the from_panel panel exists for the caller's tenant (NOT_FOUND naming `participants.panel`),
    has the named members, and the stimulus targets are among them."""
    if request.participants.mode != Mode.MODE_FROM_PANEL:
        return
    panel = await control.get_panel(
        request.participants.panel, field="participants.panel", view=control_pb2.PANEL_VIEW_BASIC
    )
    names = [agent.name for agent in chosen_members(panel, request.participants)]
    violations = Violations()
    violations.extend(stimulus_targets(request.stimulus, "stimulus", names)[1])
    violations.raise_if_any()


async def panel_participants(
    control: ControlClient, participants: orchestrator_pb2.Participants
) -> orchestrator_pb2.AgentsCreated:
    """The chosen members as they left their latest study, memories included."""
    panel = await control.get_panel(participants.panel, field="participants.panel")
    agents = chosen_members(panel, participants)
    return orchestrator_pb2.AgentsCreated(agents=agents, requested=len(agents))


async def save_participants(
    control: ControlClient,
    request: orchestrator_pb2.RunStudyRequest,
    session: control_pb2.Session,
    agents: list[agent_pb2.Agent],
    result: orchestrator_pb2.StudyResult,
) -> str:
    """Records the study and its participants as the study left them in `save_to_panel`; returns its name."""
    study = control_pb2.PanelStudy(
        session=session.name,
        operation=operation_name(last_segment(session.name)),
        display_name=session.display_name,
        start_time=session.create_time,
        end_time=result.metadata.end_time,
    )
    panel = await control.add_panel_study(request.save_to_panel, study, agents, display_name=session.display_name)
    return panel.name


def panel_participant_violations(participants: orchestrator_pb2.Participants) -> list[tuple[str, str]]:
    """The fields of mode from_panel: a panel name, no specifications of agents to make, unique member names."""
    violations = Violations()
    check_panel_name(violations, "participants.panel", participants.panel)
    made = "for from_panel: the panel's members take part as they are"
    violations.check(not participants.specifications, "participants.specifications", f"must be empty {made}")
    violations.check(not participants.fragments, "participants.fragments", f"must be empty {made}")
    violations.check(participants.count == 0, "participants.count", f"must be 0 {made}")
    violations.check(
        len(participants.panel_members) <= MAX_PARTICIPANTS,
        "participants.panel_members",
        f"must name at most {MAX_PARTICIPANTS} members",
    )
    seen: dict[str, int] = {}
    for index, name in enumerate(participants.panel_members):
        field = f"participants.panel_members[{index}]"
        if not name.strip():
            violations.add(field, "must not be empty")
        elif name in seen:
            violations.add(field, f"{name!r} is also participants.panel_members[{seen[name]}]")
        else:
            seen[name] = index
    return violations.found


def panel_field_violations(request: orchestrator_pb2.RunStudyRequest) -> list[tuple[str, str]]:
    """`participants.panel` and `panel_members` belong to mode from_panel; `save_to_panel` is a panel name."""
    violations = Violations()
    if request.participants.mode != Mode.MODE_FROM_PANEL:
        only = "is only for participants.mode from_panel"
        violations.check(not request.participants.panel, "participants.panel", only)
        violations.check(not request.participants.panel_members, "participants.panel_members", only)
    check_panel_name(violations, "save_to_panel", request.save_to_panel, required=False)
    return violations.found
