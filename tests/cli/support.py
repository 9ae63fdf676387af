"""A stand-in for a MeshConnection whose calls answer what a test says, and an 80-column console."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc
from google.longrunning import operations_pb2
from google.rpc import status_pb2
from rich.console import Console
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.cli.connection import Caller
from services.runtime.errors import MeshError

NAME = "operations/3f6c1d2e-8a4b-4c6d-9e0f-1a2b3c4d5e6f"


def console(width: int = 80) -> Console:
    return Console(file=io.StringIO(), width=width, record=True, color_system=None, force_terminal=False)


def lines(output: Console) -> list[str]:
    return output.export_text(clear=False).splitlines()


def rpc_error(code: grpc.StatusCode, details: str = "", error: MeshError | None = None) -> grpc.aio.AioRpcError:
    """A failed call as the client sees it, with the rich status of `error` when given."""
    trailing = grpc.aio.Metadata()
    if error is not None:
        trailing.add("grpc-status-details-bin", error.to_status().SerializeToString())
        details = error.message
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), trailing, details)


def operation(
    *,
    done: bool,
    progress: orchestrator_pb2.StudyProgress | None = None,
    result: orchestrator_pb2.StudyResult | None = None,
    error: status_pb2.Status | None = None,
) -> operations_pb2.Operation:
    made = operations_pb2.Operation(name=NAME, done=done)
    made.metadata.Pack(progress or orchestrator_pb2.StudyProgress(operation=NAME))
    if result is not None:
        made.response.Pack(result)
    if error is not None:
        made.error.CopyFrom(error)
    return made


class Calls:
    """Methods by name: each an async function of the request (or a plain one returning a stream)."""

    def __init__(self, **methods: Callable):
        for name, method in methods.items():
            setattr(self, name, _accepting_options(method))


def _accepting_options(method: Callable) -> Callable:
    def call(request, **options):
        return method(request)

    return call


@dataclass
class StubMesh:
    orchestrator: Calls = field(default_factory=Calls)
    operations: Calls = field(default_factory=Calls)
    control: Calls = field(default_factory=Calls)
    caller: Caller = field(default_factory=Caller)
    orchestrator_address: str = "127.0.0.1:50050"
    stopped: bool = False

    def local_mesh_stopped(self) -> bool:
        return self.stopped
