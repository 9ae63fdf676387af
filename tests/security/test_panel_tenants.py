"""Through the real mesh with authentication on: a study saves its panel for its caller's tenant, and another
tenant can neither see, follow up on nor delete it."""

from __future__ import annotations

import grpc
from tinytroupe_mesh_api.control.v1 import control_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.orchestrator.settings import StudySettings
from tests.orchestrator.support import small_study
from tests.security.test_tenants_and_quotas import authenticated_mesh, expect_code

Mode = orchestrator_pb2.Participants.Mode
PANEL = "panels/acme-buyers"


async def test_a_tenants_panel_is_invisible_to_another_tenant(tmp_path):
    study = StudySettings(lease_ttl_s=5, recovery_interval_s=0, watch_poll_interval_s=0.1)
    async with authenticated_mesh(tmp_path, study) as callers:
        acme, globex = callers["acme"], callers["globex"]
        request = small_study()
        request.save_to_panel = PANEL
        done = await acme.wait((await acme.orchestrator.RunStudy(request)).name)
        result = orchestrator_pb2.StudyResult()
        assert not done.HasField("error") and done.response.Unpack(result)
        assert result.panel == PANEL

        saved = await acme.orchestrator.GetPanel(control_pb2.GetPanelRequest(name=PANEL))
        assert (saved.tenant, saved.member_count, saved.study_count) == ("acme", 2, 1)
        listed = await acme.orchestrator.ListPanels(control_pb2.ListPanelsRequest())
        assert [panel.name for panel in listed.panels] == [PANEL]

        await expect_code(
            globex.orchestrator.GetPanel(control_pb2.GetPanelRequest(name=PANEL)), grpc.StatusCode.NOT_FOUND
        )
        assert (await globex.orchestrator.ListPanels(control_pb2.ListPanelsRequest())).panels == []
        await expect_code(
            globex.orchestrator.DeletePanel(control_pb2.DeletePanelRequest(name=PANEL)), grpc.StatusCode.NOT_FOUND
        )
        follow_up = small_study()
        follow_up.participants.CopyFrom(orchestrator_pb2.Participants(mode=Mode.MODE_FROM_PANEL, panel=PANEL))
        await expect_code(globex.orchestrator.RunStudy(follow_up), grpc.StatusCode.NOT_FOUND)

        follow_up.save_to_panel = PANEL
        again = await acme.wait((await acme.orchestrator.RunStudy(follow_up)).name)
        assert not again.HasField("error"), again.error
        assert (await acme.orchestrator.GetPanel(control_pb2.GetPanelRequest(name=PANEL))).study_count == 2

        await acme.orchestrator.DeletePanel(control_pb2.DeletePanelRequest(name=PANEL))
        await expect_code(
            acme.orchestrator.GetPanel(control_pb2.GetPanelRequest(name=PANEL)), grpc.StatusCode.NOT_FOUND
        )
