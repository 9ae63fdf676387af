"""Remembered responses through the real server: the first answer wins, kept with the session, scoped to
its tenant, never among the session's checkpoints."""

from __future__ import annotations

import grpc
import pytest
from pydantic import SecretStr
from tinytroupe_mesh_api.control.v1 import control_pb2 as pb

from tests.control.helpers import acting_for, answer, begin, control_server, error_report, remember


async def get(control, name: str) -> pb.RememberedResponse:
    return await control.GetRememberedResponse(pb.GetRememberedResponseRequest(name=name))


async def test_the_first_answer_is_remembered_and_returned_to_later_writers(control) -> None:
    session = await begin(control)
    first = await remember(control, session.name, "generate-1", b"plan", b"agent", request_sha256="a" * 64)
    assert first.name == f"{session.name}/rememberedResponses/generate-1"
    assert list(first.responses) == [answer(b"plan"), answer(b"agent")]
    assert first.request_sha256 == "a" * 64 and first.create_time.seconds > 0

    later = await remember(control, session.name, "generate-1", b"other", request_sha256="b" * 64)
    assert later == first
    assert await get(control, first.name) == first

    listed = await control.ListCheckpoints(pb.ListCheckpointsRequest(parent=session.name))
    assert list(listed.checkpoints) == []
    touched = await control.GetSession(pb.GetSessionRequest(name=session.name))
    assert touched.update_time.ToDatetime() >= first.create_time.ToDatetime()


async def test_large_answers_are_stored_whole(control) -> None:
    session = await begin(control)
    big = bytes(range(256)) * 40_000  # 10 MiB, compressible
    stored = await remember(control, session.name, "big", big)
    assert (await get(control, stored.name)).responses[0] == answer(big)


async def test_an_ended_session_keeps_its_answers_but_takes_no_new_one(control) -> None:
    session = await begin(control)
    first = await remember(control, session.name, "r1", b"answer")
    await control.EndSession(pb.EndSessionRequest(name=session.name))
    assert await get(control, first.name) == first
    assert await remember(control, session.name, "r1", b"retry") == first
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await remember(control, session.name, "r2", b"new")
    report = error_report(caught.value)
    assert (report.code, report.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "SESSION_NOT_ACTIVE")


async def test_unknown_answers_and_sessions_are_not_found(control) -> None:
    session = await begin(control)
    for name in (f"{session.name}/rememberedResponses/never", "sessions/no-such-session/rememberedResponses/r1"):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await get(control, name)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await remember(control, "sessions/no-such-session", "r1", b"answer")
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("request_", "fields"),
    [
        (pb.RememberResponseRequest(parent="sessions/x", remembered_response_id="r1"), ["remembered_response"]),
        (
            pb.RememberResponseRequest(
                parent="sessions/x", remembered_response=pb.RememberedResponse(request_sha256="a" * 64)
            ),
            ["remembered_response_id"],
        ),
        (
            pb.RememberResponseRequest(
                parent="sessions/x",
                remembered_response_id="-bad",
                remembered_response=(pb.RememberedResponse(request_sha256="A" * 64)),
            ),
            ["remembered_response_id", "remembered_response.request_sha256"],
        ),
        (pb.RememberResponseRequest(parent="x", remembered_response_id="r1"), ["parent"]),
    ],
)
async def test_malformed_requests_name_their_fields(control, request_, fields) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await control.RememberResponse(request_)
    report = error_report(caught.value)
    assert (report.code, report.fields) == (grpc.StatusCode.INVALID_ARGUMENT, fields)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await get(control, "sessions/x/checkpoints/r1")
    assert error_report(caught.value).fields == ["name"]


async def test_another_tenant_finds_no_answer(make_settings) -> None:
    async with control_server(make_settings(internal_token=SecretStr("mesh-internal-token"))) as control:
        with acting_for("acme"):
            session = await begin(control)
            stored = await remember(control, session.name, "r1", b"acme answer")
        with acting_for("globex"):
            for call in (get(control, stored.name), remember(control, session.name, "r2", b"globex")):
                with pytest.raises(grpc.aio.AioRpcError) as caught:
                    await call
                assert caught.value.code() == grpc.StatusCode.NOT_FOUND
