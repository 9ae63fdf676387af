"""Shared helpers of the control service's tests."""

from __future__ import annotations

import contextlib
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import grpc
import psycopg
from google.protobuf import any_pb2, wrappers_pb2
from google.rpc import error_details_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2, control_pb2_grpc

from services.control.service import DEFINITION
from services.runtime.clients import open_channel
from services.runtime.config import MeshSettings
from services.runtime.context import current_tenant
from services.runtime.errors import error_details, field_violations
from services.runtime.testing import serving


@dataclass
class ErrorReport:
    code: grpc.StatusCode
    reason: str
    fields: list[str]
    metadata: dict[str, str]


def error_report(error: grpc.aio.AioRpcError) -> ErrorReport:
    """Code, ErrorInfo reason and BadRequest fields of a failed call, read from its rich status."""
    infos = error_details(error, error_details_pb2.ErrorInfo)
    return ErrorReport(
        error.code(),
        infos[0].reason if infos else "",
        list(field_violations(error)),
        dict(infos[0].metadata) if infos else {},
    )


@contextlib.asynccontextmanager
async def control_server(settings: MeshSettings) -> AsyncIterator[control_pb2_grpc.SimulationControlServiceStub]:
    """A stub of a control server running in this process with these settings."""
    async with serving(DEFINITION, settings) as address, open_channel(address, settings) as channel:
        yield control_pb2_grpc.SimulationControlServiceStub(channel)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def begin(stub: control_pb2_grpc.SimulationControlServiceStub, **session_fields) -> control_pb2.Session:
    request_fields = {key: session_fields.pop(key) for key in ("request_id", "session_id") if key in session_fields}
    return await stub.BeginSession(
        control_pb2.BeginSessionRequest(session=control_pb2.Session(**session_fields), **request_fields)
    )


def answer(text: bytes) -> any_pb2.Any:
    """A response to remember, packed as the mesh's services pack theirs."""
    packed = any_pb2.Any()
    packed.Pack(wrappers_pb2.BytesValue(value=text))
    return packed


async def remember(
    stub: control_pb2_grpc.SimulationControlServiceStub,
    session: str,
    response_id: str,
    *answers: bytes,
    request_sha256: str = "a" * 64,
) -> control_pb2.RememberedResponse:
    return await stub.RememberResponse(
        control_pb2.RememberResponseRequest(
            parent=session,
            remembered_response_id=response_id,
            remembered_response=control_pb2.RememberedResponse(
                request_sha256=request_sha256, responses=[answer(text) for text in answers]
            ),
        )
    )


@contextlib.contextmanager
def acting_for(tenant: str) -> Iterator[None]:
    """Calls made in the block carry `tenant` (as a service of the mesh passes its caller's on)."""
    token = current_tenant.set(tenant)
    try:
        yield
    finally:
        current_tenant.reset(token)


def _count(settings: MeshSettings, table: str, column: str, value: str) -> int:
    """Rows of `table` whose `column` is `value`, read straight from the database behind the server."""
    query = f"SELECT count(*) FROM {table} WHERE {column} = "
    if settings.database_url is None:
        with contextlib.closing(sqlite3.connect(settings.sqlite_path())) as conn:
            return conn.execute(query + "?", (value,)).fetchone()[0]
    with psycopg.connect(settings.database_url.get_secret_value()) as conn:
        return conn.execute(query + "%s", (value,)).fetchone()[0]


def count_rows(settings: MeshSettings, table: str, session_id: str) -> int:
    """Rows of `table` that belong to a session, read straight from the database behind the server."""
    return _count(settings, table, "session_id", session_id)


def count_cache_entries(settings: MeshSettings, namespace: str) -> int:
    """Cache entries of an unauthenticated caller's namespace, read straight from the database."""
    return _count(settings, "cache_entries", "namespace", namespace)
