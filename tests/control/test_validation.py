"""Bad input: the right status code, the offending field named in BadRequest, stored data untouched."""

from __future__ import annotations

import grpc
import pytest
from tinytroupe_mesh_api.control.v1 import control_pb2 as pb

from services.control.limits import MAX_CACHE_VALUE_BYTES, MAX_CHECKPOINT_PAYLOAD_BYTES
from tests.control.helpers import begin, control_server, error_report

INVALID = grpc.StatusCode.INVALID_ARGUMENT


def invalid_requests(session: str) -> list[tuple[str, str, object, list[str]]]:
    """(case, method, request, expected BadRequest fields) for a live session's name."""
    checkpoint = pb.Checkpoint(payload=b"x")
    return [
        ("empty name", "GetSession", pb.GetSessionRequest(), ["name"]),
        ("name without collection", "GetSession", pb.GetSessionRequest(name="abc"), ["name"]),
        ("name with bad id", "GetSession", pb.GetSessionRequest(name="sessions/a b"), ["name"]),
        ("no session", "BeginSession", pb.BeginSessionRequest(), ["session"]),
        (
            "bad session id",
            "BeginSession",
            pb.BeginSessionRequest(session=pb.Session(), session_id="not_allowed!"),
            ["session_id"],
        ),
        (
            "several bad fields",
            "BeginSession",
            pb.BeginSessionRequest(
                session=pb.Session(display_name="x" * 257, cache_namespace="has space", labels={"Bad Key": "v"})
            ),
            ["session.display_name", "session.cache_namespace", "session.labels['Bad Key']"],
        ),
        (
            "request id with newline",
            "BeginSession",
            pb.BeginSessionRequest(session=pb.Session(), request_id="a\nb"),
            ["request_id"],
        ),
        ("negative page size", "ListSessions", pb.ListSessionsRequest(page_size=-1), ["page_size"]),
        ("page size too large", "ListSessions", pb.ListSessionsRequest(page_size=1001), ["page_size"]),
        ("malformed page token", "ListSessions", pb.ListSessionsRequest(page_token="not a token!"), ["page_token"]),
        ("forged page token", "ListSessions", pb.ListSessionsRequest(page_token="eyJjIjoiYSJ9"), ["page_token"]),
        ("unknown state", "ListSessions", pb.ListSessionsRequest(state=7), ["state"]),
        (
            "end as active",
            "EndSession",
            pb.EndSessionRequest(name=session, final_state=pb.Session.STATE_ACTIVE),
            ["final_state"],
        ),
        (
            "empty parent",
            "CreateCheckpoint",
            pb.CreateCheckpointRequest(checkpoint_id="round_1", checkpoint=checkpoint),
            ["parent"],
        ),
        (
            "empty checkpoint id",
            "CreateCheckpoint",
            pb.CreateCheckpointRequest(parent=session, checkpoint=checkpoint),
            ["checkpoint_id"],
        ),
        (
            "checkpoint id like the alias",
            "CreateCheckpoint",
            pb.CreateCheckpointRequest(parent=session, checkpoint_id="-latest", checkpoint=checkpoint),
            ["checkpoint_id"],
        ),
        (
            "checkpoint id too long",
            "CreateCheckpoint",
            pb.CreateCheckpointRequest(parent=session, checkpoint_id="r" * 64, checkpoint=checkpoint),
            ["checkpoint_id"],
        ),
        (
            "no checkpoint",
            "CreateCheckpoint",
            pb.CreateCheckpointRequest(parent=session, checkpoint_id="round_1"),
            ["checkpoint"],
        ),
        (
            "empty payload",
            "CreateCheckpoint",
            pb.CreateCheckpointRequest(
                parent=session, checkpoint_id="round_1", checkpoint=pb.Checkpoint(content_type="x")
            ),
            ["checkpoint.payload"],
        ),
        (
            "bad annotation key",
            "CreateCheckpoint",
            pb.CreateCheckpointRequest(
                parent=session, checkpoint_id="round_1", checkpoint=pb.Checkpoint(payload=b"x", annotations={"": "v"})
            ),
            ["checkpoint.annotations['']"],
        ),
        (
            "checkpoint name without id",
            "GetCheckpoint",
            pb.GetCheckpointRequest(name=f"{session}/checkpoints/"),
            ["name"],
        ),
        (
            "checkpoint list page token",
            "ListCheckpoints",
            pb.ListCheckpointsRequest(parent=session, page_token="@@@"),
            ["page_token"],
        ),
        (
            "empty cache key",
            "LookupCacheEntries",
            pb.LookupCacheEntriesRequest(session=session, keys=["a", ""]),
            ["keys[1]"],
        ),
        (
            "too many entries",
            "StoreCacheEntries",
            pb.StoreCacheEntriesRequest(
                session=session, entries=[pb.CacheEntry(key=f"k{n}", value=b"v") for n in range(1001)]
            ),
            ["entries"],
        ),
        (
            "cache value too large",
            "StoreCacheEntries",
            pb.StoreCacheEntriesRequest(
                session=session, entries=[pb.CacheEntry(key="k", value=b"v" * (MAX_CACHE_VALUE_BYTES + 1))]
            ),
            ["entries[0].value"],
        ),
        ("no holder", "AcquireLease", pb.AcquireLeaseRequest(session=session, ttl={"seconds": 5}), ["holder"]),
        ("no ttl", "AcquireLease", pb.AcquireLeaseRequest(session=session, holder="a"), ["ttl"]),
        (
            "ttl too short",
            "AcquireLease",
            pb.AcquireLeaseRequest(session=session, holder="a", ttl={"nanos": 500_000_000}),
            ["ttl"],
        ),
        (
            "ttl too long",
            "RenewLease",
            pb.RenewLeaseRequest(session=session, holder="a", ttl={"seconds": 3601}),
            ["ttl"],
        ),
        ("release without holder", "ReleaseLease", pb.ReleaseLeaseRequest(session=session), ["holder"]),
        ("lease page size", "ListLeases", pb.ListLeasesRequest(page_size=5000), ["page_size"]),
    ]


CASES = [case for case, *_ in invalid_requests("sessions/x")]


@pytest.mark.parametrize("case", CASES)
async def test_invalid_argument_names_the_field(control, case: str) -> None:
    session = await begin(control)
    [(_, method, request, fields)] = [row for row in invalid_requests(session.name) if row[0] == case]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await getattr(control, method)(request)
    report = error_report(caught.value)
    assert report.code == INVALID
    assert report.reason == "INVALID_ARGUMENT"
    assert report.fields == fields


async def test_failed_calls_leave_stored_data_untouched(control) -> None:
    session = await begin(control, labels={"kind": "study"})
    await control.CreateCheckpoint(
        pb.CreateCheckpointRequest(
            parent=session.name, checkpoint_id="round_1", checkpoint=pb.Checkpoint(payload=b"original")
        )
    )
    await control.StoreCacheEntries(
        pb.StoreCacheEntriesRequest(session=session.name, entries=[pb.CacheEntry(key="k", value=b"v")])
    )
    before_session = await control.GetSession(pb.GetSessionRequest(name=session.name))
    before_checkpoints = await control.ListCheckpoints(pb.ListCheckpointsRequest(parent=session.name))

    for request in invalid_requests(session.name):
        with pytest.raises(grpc.aio.AioRpcError):
            await getattr(control, request[1])(request[2])
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await control.CreateCheckpoint(
            pb.CreateCheckpointRequest(
                parent=session.name, checkpoint_id="round_1", checkpoint=pb.Checkpoint(payload=b"changed")
            )
        )
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await control.StoreCacheEntries(
            pb.StoreCacheEntriesRequest(
                session=session.name, entries=[pb.CacheEntry(key="k2", value=b"v"), pb.CacheEntry(key="", value=b"")]
            )
        )

    assert await control.GetSession(pb.GetSessionRequest(name=session.name)) == before_session
    assert await control.ListCheckpoints(pb.ListCheckpointsRequest(parent=session.name)) == before_checkpoints
    restored = await control.GetCheckpoint(pb.GetCheckpointRequest(name=f"{session.name}/checkpoints/round_1"))
    assert restored.payload == b"original"
    found = await control.LookupCacheEntries(pb.LookupCacheEntriesRequest(session=session.name, keys=["k", "k2"]))
    assert [(entry.key, entry.value) for entry in found.entries] == [("k", b"v")]


async def test_unknown_session_is_not_found_everywhere(control) -> None:
    missing = "sessions/does-not-exist"
    calls = [
        ("GetSession", pb.GetSessionRequest(name=missing)),
        ("EndSession", pb.EndSessionRequest(name=missing)),
        ("DeleteSession", pb.DeleteSessionRequest(name=missing)),
        ("ListCheckpoints", pb.ListCheckpointsRequest(parent=missing)),
        ("LookupCacheEntries", pb.LookupCacheEntriesRequest(session=missing, keys=["k"])),
        ("StoreCacheEntries", pb.StoreCacheEntriesRequest(session=missing, entries=[pb.CacheEntry(key="k")])),
        ("AcquireLease", pb.AcquireLeaseRequest(session=missing, holder="a", ttl={"seconds": 5})),
        ("ReleaseLease", pb.ReleaseLeaseRequest(session=missing, holder="a")),
    ]
    for method, request in calls:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await getattr(control, method)(request)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND, method


async def test_payload_over_the_limit_is_refused_with_its_field(make_settings) -> None:
    settings = make_settings(max_message_bytes=MAX_CHECKPOINT_PAYLOAD_BYTES + 4 * 1024 * 1024)
    async with control_server(settings) as control:
        session = await begin(control)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await control.CreateCheckpoint(
                pb.CreateCheckpointRequest(
                    parent=session.name,
                    checkpoint_id="huge",
                    checkpoint=pb.Checkpoint(payload=bytes(MAX_CHECKPOINT_PAYLOAD_BYTES + 1)),
                )
            )
        report = error_report(caught.value)
        assert (report.code, report.fields) == (INVALID, ["checkpoint.payload"])
        listed = await control.ListCheckpoints(pb.ListCheckpointsRequest(parent=session.name))
        assert list(listed.checkpoints) == []
