"""`troupe report OPERATION`: the operation's result from the orchestrator, its request from the results
folder (where `troupe run` keeps it) or from control, and the page written beside the other result files."""

from __future__ import annotations

import contextlib
from pathlib import Path

import grpc
from google.longrunning import operations_pb2
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from rich.console import Console
from tinytroupe_mesh_api.control.v1 import control_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.cli.connection import FinishedCall, MeshConnection, describe_error
from services.cli.output import REQUEST_FILE
from services.cli.report.assets import ReportError, chart_library
from services.cli.report.content import Request, Result
from services.cli.report.page import render
from services.cli.studies import finished_result, operation_name
from services.common.checkpoint_ids import STUDY_REQUEST
from services.common.names import checkpoint_name
from services.orchestrator.starting import EXPERIMENT_REQUEST

REPORT_FILE = "report.html"
CONTROL_TIMEOUT_S = 10.0


async def write_report(mesh: MeshConnection, console: Console, name: str, output_root: Path) -> Path:
    name = operation_name(name)
    output_dir = output_root / name.removeprefix("operations/")
    result = await _result(mesh, console, name, output_dir)
    request = _saved_request(output_dir, result) or await _stored_request(mesh, name, result)
    page = render(result, request, chart_library())
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / REPORT_FILE
    path.write_text(page, encoding="utf-8")
    console.print(f"report of {name} in {path.resolve()}", markup=False, soft_wrap=True)
    if request is None:
        console.print(
            "its request was not found: the report shows what the result tells of it", style="yellow", markup=False
        )
    return path


async def _result(mesh: MeshConnection, console: Console, name: str, output_dir: Path) -> Result:
    """The finished operation's result; with the mesh out of reach, the result.json `troupe run` wrote."""
    try:
        operation = await mesh.operations.GetOperation(operations_pb2.GetOperationRequest(name=name))
    except grpc.aio.AioRpcError as error:
        saved = _saved_result(output_dir) if error.code() == grpc.StatusCode.UNAVAILABLE else None
        if saved is None:
            raise
        console.print(
            f"the mesh is not answering: the report is written from {output_dir / 'result.json'}",
            style="yellow",
            markup=False,
        )
        return saved
    if not operation.done:
        raise ReportError(
            f"{name} is still running; its report can be written once it is done "
            f"(`troupe resume {name.removeprefix('operations/')}` follows it)"
        )
    if operation.HasField("error"):
        raise ReportError(f"{name} ended without a result: {describe_error(FinishedCall(operation.error))}")
    result = finished_result(operation)
    if result is None:
        raise ReportError(f"{name} has no result a report can show")
    return result


def _saved_result(output_dir: Path) -> Result | None:
    path = output_dir / "result.json"
    with contextlib.suppress(OSError, json_format.ParseError, ValueError):
        text = path.read_text(encoding="utf-8")
        kind = orchestrator_pb2.ExperimentResult if '"comparisons"' in text else orchestrator_pb2.StudyResult
        return json_format.Parse(text, kind(), ignore_unknown_fields=True)
    return None


def _request_type(result: Result) -> type[Request]:
    if isinstance(result, orchestrator_pb2.ExperimentResult):
        return orchestrator_pb2.RunExperimentRequest
    return orchestrator_pb2.RunStudyRequest


def _saved_request(output_dir: Path, result: Result) -> Request | None:
    path = output_dir / REQUEST_FILE
    with contextlib.suppress(OSError, json_format.ParseError, ValueError):
        return json_format.Parse(path.read_text(encoding="utf-8"), _request_type(result)(), ignore_unknown_fields=True)
    return None


async def _stored_request(mesh: MeshConnection, name: str, result: Result) -> Request | None:
    """The request the orchestrator stored in control, on a mesh that lets this caller read control (a local
    mesh without tokens); None elsewhere."""
    if mesh.caller.token is not None:
        return None
    checkpoint = EXPERIMENT_REQUEST if isinstance(result, orchestrator_pb2.ExperimentResult) else STUDY_REQUEST
    request = control_pb2.GetCheckpointRequest(name=checkpoint_name(name.removeprefix("operations/"), checkpoint))
    try:
        found = await mesh.control.GetCheckpoint(request, timeout=CONTROL_TIMEOUT_S)
        return _request_type(result).FromString(found.payload)
    except (grpc.aio.AioRpcError, DecodeError):
        return None
