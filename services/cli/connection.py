"""Where the CLI finds the mesh, its stubs, and the readable form of the errors the mesh answers."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Self

import grpc
from google.longrunning import operations_pb2_grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from tinytroupe.control.v1 import control_pb2_grpc
from tinytroupe.extraction.v1 import extraction_pb2_grpc
from tinytroupe.orchestrator.v1 import orchestrator_pb2_grpc

from services.mesh.launcher import read_state
from services.runtime.clients import open_channel
from services.runtime.config import MeshSettings


def service_address(settings: MeshSettings, service: str) -> str:
    """The address from the environment, else from a running local mesh's state file, else the default."""
    variable = f"{service.upper()}_ADDRESS"
    if variable not in os.environ:
        state = read_state(settings.data_dir)
        if state and service in state.get("services", {}):
            return state["services"][service]["address"]
    return settings.address_of(service)


@dataclass
class MeshConnection:
    settings: MeshSettings
    orchestrator_address: str
    control_address: str
    extraction_address: str

    @classmethod
    def from_settings(cls, settings: MeshSettings, orchestrator_address: str | None = None) -> MeshConnection:
        return cls(
            settings,
            orchestrator_address or service_address(settings, "orchestrator"),
            service_address(settings, "control"),
            service_address(settings, "extraction"),
        )

    async def __aenter__(self) -> Self:
        self._channels = {
            address: open_channel(address, self.settings)
            for address in {self.orchestrator_address, self.control_address, self.extraction_address}
        }
        orchestrator = self._channels[self.orchestrator_address]
        self.orchestrator = orchestrator_pb2_grpc.OrchestratorServiceStub(orchestrator)
        self.operations = operations_pb2_grpc.OperationsStub(orchestrator)
        self.control = control_pb2_grpc.SimulationControlServiceStub(self._channels[self.control_address])
        self.extraction = extraction_pb2_grpc.ResultsExtractionServiceStub(
            self._channels[self.extraction_address]
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for channel in self._channels.values():
            await channel.close()


def describe_error(error: grpc.aio.AioRpcError) -> str:
    """The error's code and message, with every field violation it names."""
    lines = [f"{error.code().name}: {error.details()}"]
    try:
        status = rpc_status.from_call(error)
    except ValueError:
        status = None
    for detail in status.details if status is not None else ():
        bad_request = error_details_pb2.BadRequest()
        if detail.Unpack(bad_request):
            lines = [f"{error.code().name}: the request has invalid fields"]
            lines += [
                f"  {violation.field}: {violation.description}" for violation in bad_request.field_violations
            ]
    return "\n".join(lines)
