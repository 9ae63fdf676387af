"""Standing panels in control: create, get, list, delete and AddPanelStudy, per tenant, on both backends.

The server requires the mesh's internal token, as in a deployment, so that the tenant set by `acting_for`
travels in `x-tenant`; every test acts for tenants of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import grpc
import pytest
from pydantic import SecretStr
from tinytroupe_mesh_api.common.v1 import agent_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2 as pb
from tinytroupe_mesh_api.control.v1 import control_pb2_grpc

from services.control.panels import encode_members
from services.control.storage.panels import NewPanel, PanelAlreadyExists, PanelChanged, PanelNotFound
from services.runtime.config import MeshSettings
from tests.control.helpers import acting_for, control_server, error_report, unique


@pytest.fixture
async def control(
    make_settings: Callable[..., MeshSettings],
) -> AsyncIterator[control_pb2_grpc.SimulationControlServiceStub]:
    async with control_server(make_settings(internal_token=SecretStr("mesh-internal-token"))) as stub:
        yield stub


def agent(name: str, *remembered: str) -> agent_pb2.Agent:
    return agent_pb2.Agent(
        agent_id=f"id-{name}",
        name=name,
        spec_json=f'{{"type": "TinyPerson", "persona": {{"name": "{name}"}}}}',
        episodic_memory=[
            agent_pb2.MemoryEvent(round=0, kind=agent_pb2.MemoryEvent.KIND_HEARD, source="moderator", content=text)
            for text in remembered
        ],
    )


def study(session_id: str, display_name: str = "") -> pb.PanelStudy:
    return pb.PanelStudy(
        session=f"sessions/{session_id}", operation=f"operations/{session_id}", display_name=display_name
    )


def panel_id() -> str:
    return unique("panel").lower()


async def failure(call) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


async def test_create_get_list_delete_round_trip(control) -> None:
    with acting_for(unique("tenant")):
        created = await control.CreatePanel(
            pb.CreatePanelRequest(
                panel_id=(panel := panel_id()),
                panel=pb.Panel(
                    display_name="Kettle buyers",
                    description="people who bought a kettle",
                    labels={"product": "kettle"},
                    members=[pb.PanelMember(agent=agent("Ana", "a first question"))],
                ),
            )
        )
        assert created.name == f"panels/{panel}"
        assert (created.display_name, created.member_count, created.study_count) == ("Kettle buyers", 1, 0)
        assert created.members[0].agent.episodic_memory[0].content == "a first question"
        assert created.create_time.seconds > 0

        got = await control.GetPanel(pb.GetPanelRequest(name=created.name))
        assert got == created
        basic = await control.GetPanel(pb.GetPanelRequest(name=created.name, view=pb.PANEL_VIEW_BASIC))
        assert basic.members[0].agent == agent_pb2.Agent(agent_id="id-Ana", name="Ana")

        listed = await control.ListPanels(pb.ListPanelsRequest())
        assert [panel.name for panel in listed.panels] == [created.name]
        assert listed.panels[0].members[0].agent.spec_json == ""  # basic view by default
        full = await control.ListPanels(pb.ListPanelsRequest(view=pb.PANEL_VIEW_FULL))
        assert full.panels[0].members[0].agent.spec_json == created.members[0].agent.spec_json

        await control.DeletePanel(pb.DeletePanelRequest(name=created.name))
        gone = await failure(control.GetPanel(pb.GetPanelRequest(name=created.name)))
        assert gone.code() == grpc.StatusCode.NOT_FOUND
        again = await failure(control.DeletePanel(pb.DeletePanelRequest(name=created.name)))
        assert again.code() == grpc.StatusCode.NOT_FOUND
        assert (await control.ListPanels(pb.ListPanelsRequest())).panels == []


async def test_a_duplicate_id_is_already_exists_within_a_tenant_only(control) -> None:
    panel = panel_id()
    with acting_for(unique("acme")):
        await control.CreatePanel(pb.CreatePanelRequest(panel_id=panel, panel=pb.Panel(display_name="first")))
        duplicate = await failure(
            control.CreatePanel(pb.CreatePanelRequest(panel_id=panel, panel=pb.Panel(display_name="second")))
        )
        assert duplicate.code() == grpc.StatusCode.ALREADY_EXISTS
        assert (await control.GetPanel(pb.GetPanelRequest(name=f"panels/{panel}"))).display_name == "first"
    with acting_for(unique("globex")):
        other = await control.CreatePanel(pb.CreatePanelRequest(panel_id=panel, panel=pb.Panel(display_name="own")))
        assert other.display_name == "own"


async def test_a_tenant_sees_nothing_of_another_tenants_panel(control) -> None:
    acme, globex = unique("acme"), unique("globex")
    with acting_for(acme):
        created = await control.CreatePanel(
            pb.CreatePanelRequest(panel_id=panel_id(), panel=pb.Panel(members=[pb.PanelMember(agent=agent("Ana"))]))
        )
        assert created.tenant == acme
    with acting_for(globex):
        for call in (
            control.GetPanel(pb.GetPanelRequest(name=created.name)),
            control.DeletePanel(pb.DeletePanelRequest(name=created.name)),
            control.AddPanelStudy(
                pb.AddPanelStudyRequest(panel=created.name, study=study("s-globex"), agents=[agent("Eve")])
            ),
        ):
            assert (await failure(call)).code() == grpc.StatusCode.NOT_FOUND
        assert (await control.ListPanels(pb.ListPanelsRequest())).panels == []
    with acting_for(acme):
        kept = await control.GetPanel(pb.GetPanelRequest(name=created.name))
        assert [member.agent.name for member in kept.members] == ["Ana"]


async def test_list_pages_newest_first(control) -> None:
    with acting_for(unique("tenant")):
        made = [
            (await control.CreatePanel(pb.CreatePanelRequest(panel_id=panel_id(), panel=pb.Panel()))).name
            for _ in range(5)
        ]
        names, token, pages = [], "", 0
        while True:
            page = await control.ListPanels(pb.ListPanelsRequest(page_size=2, page_token=token))
            names += [panel.name for panel in page.panels]
            pages += 1
            if not (token := page.next_page_token):
                break
        assert (names, pages) == (made[::-1], 3)
        bad = await failure(control.ListPanels(pb.ListPanelsRequest(page_token="not-a-token")))
        assert error_report(bad).fields == ["page_token"]


async def test_add_panel_study_creates_merges_and_keeps_each_members_history(control) -> None:
    with acting_for(unique("tenant")):
        name = f"panels/{panel_id()}"
        missing = await failure(
            control.AddPanelStudy(pb.AddPanelStudyRequest(panel=name, study=study("s-1"), agents=[agent("Ana")]))
        )
        assert missing.code() == grpc.StatusCode.NOT_FOUND

        first = await control.AddPanelStudy(
            pb.AddPanelStudyRequest(
                panel=name,
                study=study("s-1", "kettle study"),
                agents=[agent("Ana", "kettle?"), agent("Ben", "kettle?")],
                allow_missing=True,
            )
        )
        assert (first.display_name, first.member_count, first.study_count) == ("kettle study", 2, 1)

        second = await control.AddPanelStudy(
            pb.AddPanelStudyRequest(
                panel=name, study=study("s-2"), agents=[agent("Ana", "kettle?", "toaster?"), agent("Cy", "toaster?")]
            )
        )
        by_name = {member.agent.name: member for member in second.members}
        assert list(by_name) == ["Ana", "Ben", "Cy"]
        assert [entry.session for entry in by_name["Ana"].studies] == ["sessions/s-1", "sessions/s-2"]
        assert [entry.session for entry in by_name["Ben"].studies] == ["sessions/s-1"]
        assert [entry.session for entry in by_name["Cy"].studies] == ["sessions/s-2"]
        assert [event.content for event in by_name["Ana"].agent.episodic_memory] == ["kettle?", "toaster?"]
        assert (second.member_count, second.study_count) == (3, 2)

        retried = await control.AddPanelStudy(
            pb.AddPanelStudyRequest(panel=name, study=study("s-2"), agents=[agent("Ana", "kettle?", "toaster?")])
        )
        assert [entry.session for entry in retried.members[0].studies] == ["sessions/s-1", "sessions/s-2"]
        assert retried.study_count == 2


async def test_concurrent_studies_recorded_in_one_panel_both_land(control) -> None:
    with acting_for(unique("tenant")):
        name = (await control.CreatePanel(pb.CreatePanelRequest(panel_id=panel_id(), panel=pb.Panel()))).name
        await asyncio.gather(
            *(
                control.AddPanelStudy(
                    pb.AddPanelStudyRequest(panel=name, study=study(f"s-{index}"), agents=[agent(f"P{index}")])
                )
                for index in range(4)
            )
        )
        panel = await control.GetPanel(pb.GetPanelRequest(name=name))
        assert sorted(member.agent.name for member in panel.members) == ["P0", "P1", "P2", "P3"]
        assert panel.study_count == 4


@pytest.mark.parametrize(
    ("request_", "fields"),
    [
        (pb.CreatePanelRequest(panel_id="Bad_Id", panel=pb.Panel()), ["panel_id"]),
        (pb.CreatePanelRequest(panel=pb.Panel()), ["panel_id"]),
        (
            pb.CreatePanelRequest(panel_id="ok", panel=pb.Panel(members=[pb.PanelMember(agent=agent("Ana"))] * 2)),
            ["panel.members[1].agent.name"],
        ),
        (pb.AddPanelStudyRequest(panel="panels/x", agents=[agent("Ana")]), ["study", "study.session"]),
        (pb.AddPanelStudyRequest(panel="panels/x", study=study("s")), ["agents"]),
        (
            pb.AddPanelStudyRequest(panel="panels/x", study=study("s"), agents=[agent_pb2.Agent(name="A")]),
            ["agents[0].spec_json"],
        ),
        (pb.AddPanelStudyRequest(panel="sessions/x", study=study("s"), agents=[agent("A")]), ["panel"]),
        (pb.GetPanelRequest(name="panels/"), ["name"]),
        (pb.GetPanelRequest(name="panels/x", view=7), ["view"]),
        (pb.DeletePanelRequest(name=""), ["name"]),
    ],
)
async def test_bad_requests_name_their_fields(control, request_, fields) -> None:
    with acting_for(unique("tenant")):
        await _expect_fields(control, request_, fields)


async def _expect_fields(control, request_, fields) -> None:
    method = {
        pb.CreatePanelRequest: control.CreatePanel,
        pb.AddPanelStudyRequest: control.AddPanelStudy,
        pb.GetPanelRequest: control.GetPanel,
        pb.DeletePanelRequest: control.DeletePanel,
    }[type(request_)]
    report = error_report(await failure(method(request_)))
    assert (report.code, report.fields) == (grpc.StatusCode.INVALID_ARGUMENT, fields)


async def test_storage_refuses_members_written_over_a_newer_version(storage) -> None:
    """Below the servicer: a write naming the version it read loses to one that came first."""
    members = encode_members([pb.PanelMember(agent=agent("Ana"))])
    created = await storage.create_panel(NewPanel("p1", "", "", {}, members, tenant="acme"))
    assert created.version == 1
    first = await storage.replace_panel_members("p1", members, expected_version=1, tenant="acme")
    assert first.version == 2
    with pytest.raises(PanelChanged):
        await storage.replace_panel_members("p1", members, expected_version=1, tenant="acme")
    with pytest.raises(PanelChanged):
        await storage.replace_panel_members("p1", members, expected_version=2, tenant="globex")
    with pytest.raises(PanelNotFound):
        await storage.get_panel("p1", tenant="globex")
    with pytest.raises(PanelAlreadyExists):
        await storage.create_panel(NewPanel("p1", "", "", {}, members, tenant="acme"))
    stored = await storage.get_panel("p1", tenant="acme")
    assert (stored.version, stored.member_count, stored.payload.sha256) == (2, 1, members.payload.sha256)
