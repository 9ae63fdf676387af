"""A real control server for the tests of a service whose calls name a session, and sessions in it.

async with running_control(tmp_path / "control") as control:
    settings = control.serving(settings)          # the service under test reaches this control
    session = await control.begin_session()        # `sessions/{id}`, active
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterable, AsyncIterator, Awaitable
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2, control_pb2_grpc

from services.control.service import DEFINITION as CONTROL
from services.runtime.clients import open_channel
from services.runtime.config import MeshSettings
from services.runtime.errors import error_details, error_reason
from services.runtime.testing import serving


@dataclass(frozen=True)
class Control:
    address: str
    stub: control_pb2_grpc.SimulationControlServiceStub

    def serving(self, settings: MeshSettings) -> MeshSettings:
        """The settings of a service under test, pointing at this control server."""
        return settings.model_copy(update={"control_address": self.address})

    async def begin_session(self, display_name: str = "test session") -> str:
        session = await self.stub.BeginSession(
            control_pb2.BeginSessionRequest(session=control_pb2.Session(display_name=display_name)), timeout=10
        )
        return session.name

    async def end_session(self, name: str) -> None:
        await self.stub.EndSession(control_pb2.EndSessionRequest(name=name), timeout=10)


@contextlib.asynccontextmanager
async def running_control(data_dir: Path, base: MeshSettings | None = None) -> AsyncIterator[Control]:
    """Control on SQLite under `data_dir` (kept across restarts on the same folder), with a stub of it."""
    settings = (base or MeshSettings()).model_copy(
        update={"data_dir": data_dir, "metrics_port": 0, "log_level": "WARNING"}
    )
    async with serving(CONTROL, settings) as address, open_channel(address, settings) as channel:
        yield Control(address, control_pb2_grpc.SimulationControlServiceStub(channel))


async def refusal(call: Awaitable[object] | AsyncIterable[object]) -> grpc.aio.AioRpcError:
    """The error a call (unary, or a stream read to its end) answers with."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        if isinstance(call, AsyncIterable):
            async for _ in call:
                pass
        else:
            await call
    return caught.value


def assert_session_not_found(error: grpc.aio.AioRpcError) -> None:
    assert error.code() == grpc.StatusCode.NOT_FOUND, error.details()
    infos = error_details(error, error_details_pb2.ErrorInfo)
    assert infos and infos[0].metadata["field"] == "session", error.details()
    assert "`session`" in error.details()


def assert_session_not_active(error: grpc.aio.AioRpcError) -> None:
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION, error.details()
    assert error_reason(error) == "SESSION_NOT_ACTIVE"
    assert error_details(error, error_details_pb2.ErrorInfo)[0].metadata["field"] == "session"
