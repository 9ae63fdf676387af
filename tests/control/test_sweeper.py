"""The sweeper deletes ended sessions once their retention has passed."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest
from tinytroupe.control.v1 import control_pb2

from tests.control.helpers import begin, count_rows, unique

Session = control_pb2.Session


@pytest.fixture
def settings(make_settings):
    return make_settings(session_retention_s=0.2, sweep_interval_s=0.1)


async def test_sweeper_deletes_expired_sessions_with_checkpoints_and_leases(control, settings) -> None:
    ended = await begin(control, cache_namespace=unique("kept-namespace"))
    active = await begin(control)
    await control.CreateCheckpoint(control_pb2.CreateCheckpointRequest(
        parent=ended.name, checkpoint_id="agents_created", checkpoint=control_pb2.Checkpoint(payload=b"x" * 10)))
    await control.AcquireLease(control_pb2.AcquireLeaseRequest(
        session=ended.name, holder="replica-a", ttl={"seconds": 60}))
    await control.StoreCacheEntries(control_pb2.StoreCacheEntriesRequest(
        session=ended.name, entries=[control_pb2.CacheEntry(key="k", value=b"v")]))
    session_id = ended.name.removeprefix("sessions/")
    assert await asyncio.to_thread(count_rows, settings, "checkpoints", session_id) == 1
    assert await asyncio.to_thread(count_rows, settings, "leases", session_id) == 1
    result = await control.EndSession(control_pb2.EndSessionRequest(name=ended.name))
    assert (result.expire_time.ToDatetime() - result.update_time.ToDatetime()).total_seconds() == pytest.approx(0.2)

    deadline = time.monotonic() + 10
    while True:
        try:
            await control.GetSession(control_pb2.GetSessionRequest(name=ended.name))
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.NOT_FOUND
            break
        assert time.monotonic() < deadline, "the sweeper did not delete the expired session"
        await asyncio.sleep(0.05)

    assert await asyncio.to_thread(count_rows, settings, "checkpoints", session_id) == 0
    assert await asyncio.to_thread(count_rows, settings, "leases", session_id) == 0
    leases = await control.ListLeases(control_pb2.ListLeasesRequest(page_size=1000))
    assert ended.name not in {lease.session for lease in leases.leases}
    assert (await control.GetSession(control_pb2.GetSessionRequest(name=active.name))).state == Session.STATE_ACTIVE

    # The namespace's cache outlives the session: a new session naming it finds the entry.
    heir = await begin(control, cache_namespace=ended.cache_namespace)
    found = await control.LookupCacheEntries(control_pb2.LookupCacheEntriesRequest(session=heir.name, keys=["k"]))
    assert [(entry.key, entry.value) for entry in found.entries] == [("k", b"v")]
