"""The orchestrator's panel methods: callers reach the orchestrator only, so it answers for control's panels
(ListPanels, GetPanel, DeletePanel) on the caller's tenant, passing control's answer or error on as it is."""

from __future__ import annotations

import grpc
from google.protobuf import empty_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2

from services.common.control_client import ControlClient


class PanelRpcs:
    control: ControlClient

    async def ListPanels(
        self, request: control_pb2.ListPanelsRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.ListPanelsResponse:
        return await self.control.stub.ListPanels(request, timeout=self.control.timeout_s)

    async def GetPanel(
        self, request: control_pb2.GetPanelRequest, context: grpc.aio.ServicerContext
    ) -> control_pb2.Panel:
        return await self.control.stub.GetPanel(request, timeout=self.control.timeout_s)

    async def DeletePanel(
        self, request: control_pb2.DeletePanelRequest, context: grpc.aio.ServicerContext
    ) -> empty_pb2.Empty:
        return await self.control.stub.DeletePanel(request, timeout=self.control.timeout_s)
