"""Sessions through the real gRPC server: begin, get, list, end, delete and the sweeper."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from tinytroupe_mesh_api.control.v1 import control_pb2

from tests.control.helpers import begin, error_report, unique

Session = control_pb2.Session


async def test_begin_get_end_delete_round_trip(control) -> None:
    began = await begin(
        control,
        display_name="Focus group",
        description="EV concept test",
        cache_namespace="focus_group_cache.json",
        labels={"kind": "study"},
    )
    assert began.name.startswith("sessions/")
    assert began.state == Session.STATE_ACTIVE
    assert began.cache_namespace == "focus_group_cache.json"
    assert dict(began.labels) == {"kind": "study"}
    assert began.create_time.ToDatetime() == began.update_time.ToDatetime()
    assert not began.HasField("expire_time")

    fetched = await control.GetSession(control_pb2.GetSessionRequest(name=began.name))
    assert fetched == began

    ended = await control.EndSession(control_pb2.EndSessionRequest(name=began.name, reason="done"))
    assert ended.state == Session.STATE_ENDED
    assert ended.end_reason == "done"
    assert ended.update_time.ToDatetime() >= began.update_time.ToDatetime()
    retention = ended.expire_time.ToDatetime() - ended.update_time.ToDatetime()
    assert abs(retention.total_seconds() - 7 * 24 * 3600) < 1

    await control.DeleteSession(control_pb2.DeleteSessionRequest(name=began.name))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await control.GetSession(control_pb2.GetSessionRequest(name=began.name))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await control.DeleteSession(control_pb2.DeleteSessionRequest(name=began.name))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_cache_namespace_defaults_to_session_id(control) -> None:
    session_id = unique("chosen")
    session = await begin(control, session_id=session_id)
    assert session.name == f"sessions/{session_id}"
    assert session.cache_namespace == session_id


async def test_begin_with_same_request_id_returns_the_first_session(control) -> None:
    request_id = unique("request")
    first = await begin(control, request_id=request_id, display_name="first")
    again = await begin(control, request_id=request_id, display_name="second attempt")
    assert again == first

    racing_id = unique("racing")
    racing = await asyncio.gather(*(begin(control, request_id=racing_id) for _ in range(6)))
    assert len({session.name for session in racing}) == 1
    assert racing[0].name != first.name


async def test_caller_chosen_session_id_must_be_unique(control) -> None:
    session_id = unique("mine")
    await begin(control, session_id=session_id)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await begin(control, session_id=session_id)
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS


async def test_end_is_idempotent_and_keeps_the_first_outcome(control) -> None:
    session = await begin(control)
    failed = await control.EndSession(
        control_pb2.EndSessionRequest(name=session.name, final_state=Session.STATE_FAILED, reason="simulation crashed")
    )
    assert failed.state == Session.STATE_FAILED
    again = await control.EndSession(control_pb2.EndSessionRequest(name=session.name, reason="other"))
    assert again == failed


async def test_list_newest_first_with_pages_and_filters(control) -> None:
    tag = unique("batch")
    made = []
    for index in range(7):
        made.append(
            await begin(
                control, display_name=f"s{index}", labels={"batch": tag, "parity": "even" if index % 2 == 0 else "odd"}
            )
        )
    for session in made[:2]:
        await control.EndSession(control_pb2.EndSessionRequest(name=session.name))

    names, token, pages = [], "", 0
    while True:
        page = await control.ListSessions(
            control_pb2.ListSessionsRequest(page_size=3, page_token=token, labels={"batch": tag})
        )
        names.extend(session.name for session in page.sessions)
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert names == [session.name for session in reversed(made)]
    assert pages == 3

    even = await control.ListSessions(control_pb2.ListSessionsRequest(labels={"batch": tag, "parity": "even"}))
    assert [s.name for s in even.sessions] == [made[i].name for i in (6, 4, 2, 0)]

    active = await control.ListSessions(
        control_pb2.ListSessionsRequest(state=Session.STATE_ACTIVE, labels={"batch": tag})
    )
    assert [s.name for s in active.sessions] == [s.name for s in reversed(made[2:])]
    ended = await control.ListSessions(
        control_pb2.ListSessionsRequest(state=Session.STATE_ENDED, labels={"batch": tag})
    )
    assert [s.name for s in ended.sessions] == [made[1].name, made[0].name]

    first_page = await control.ListSessions(control_pb2.ListSessionsRequest(page_size=2, labels={"batch": tag}))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await control.ListSessions(
            control_pb2.ListSessionsRequest(
                page_size=2, page_token=first_page.next_page_token, labels={"batch": "another"}
            )
        )
    report = error_report(caught.value)
    assert (report.code, report.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["page_token"])


async def test_a_failed_session_reopens_with_its_checkpoints_and_an_ended_one_does_not(control) -> None:
    failed = await begin(control)
    await control.CreateCheckpoint(
        control_pb2.CreateCheckpointRequest(
            parent=failed.name, checkpoint_id="agents_created", checkpoint=control_pb2.Checkpoint(payload=b"x")
        )
    )
    await control.EndSession(
        control_pb2.EndSessionRequest(name=failed.name, final_state=Session.STATE_FAILED, reason="the model was down")
    )

    reopened = await control.ReopenSession(control_pb2.ReopenSessionRequest(name=failed.name))
    assert reopened.state == Session.STATE_ACTIVE
    assert reopened.end_reason == "" and not reopened.HasField("expire_time")
    assert reopened.checkpoint_count == 1
    assert await control.ReopenSession(control_pb2.ReopenSessionRequest(name=failed.name)) == reopened

    completed = await begin(control)
    await control.EndSession(control_pb2.EndSessionRequest(name=completed.name, reason="done"))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await control.ReopenSession(control_pb2.ReopenSessionRequest(name=completed.name))
    report = error_report(caught.value)
    assert (report.code, report.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "SESSION_ENDED")

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await control.ReopenSession(control_pb2.ReopenSessionRequest(name=f"sessions/{unique('none')}"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
