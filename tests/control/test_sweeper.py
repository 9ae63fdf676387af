"""Retention through a running control server: the sweeper expires idle sessions, deletes expired ones
with their data and the cache entries no session names any more, and deletes cache entries by age."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import grpc
import pytest
from prometheus_client import REGISTRY
from tinytroupe_mesh_api.control.v1 import control_pb2

from services.control.sweeper import EXPIRED_REASON_PREFIX
from tests.control.helpers import begin, control_server, count_cache_entries, count_rows, remember, unique

Session = control_pb2.Session
WAIT_S = 20.0


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Waits until `check()` holds, polling the server; fails after WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while not await check():
        assert time.monotonic() < deadline, f"{what} did not happen within {WAIT_S} s"
        await asyncio.sleep(0.05)


async def store_entry(control, session: str, key: str, value: bytes) -> None:
    await control.StoreCacheEntries(
        control_pb2.StoreCacheEntriesRequest(session=session, entries=[control_pb2.CacheEntry(key=key, value=value)])
    )


async def lookup(control, session: str, key: str) -> dict[str, bytes]:
    found = await control.LookupCacheEntries(control_pb2.LookupCacheEntriesRequest(session=session, keys=[key]))
    return {entry.key: entry.value for entry in found.entries}


async def test_sweeper_deletes_expired_sessions_with_their_data_and_orphaned_cache_entries(make_settings) -> None:
    settings = make_settings(session_retention_s=0.2, sweep_interval_s=0.1)
    sessions_before = metric("control_swept_sessions_total")
    entries_before = metric("control_swept_cache_entries_total", reason="session_deleted")
    async with control_server(settings) as control:
        alone, shared = unique("alone-namespace"), unique("shared-namespace")
        ended = await begin(control, cache_namespace=alone)
        ended_sharing = await begin(control, cache_namespace=shared)
        active = await begin(control, cache_namespace=shared)
        await control.CreateCheckpoint(
            control_pb2.CreateCheckpointRequest(
                parent=ended.name, checkpoint_id="agents_created", checkpoint=control_pb2.Checkpoint(payload=b"x" * 10)
            )
        )
        await control.AcquireLease(
            control_pb2.AcquireLeaseRequest(session=ended.name, holder="replica-a", ttl={"seconds": 60})
        )
        await remember(control, ended.name, "answer-1", b"first answer")
        await store_entry(control, ended.name, "k", b"v")
        await store_entry(control, ended_sharing.name, "k", b"shared v")
        session_id = ended.name.removeprefix("sessions/")
        for table in ("checkpoints", "leases", "remembered_responses"):
            assert await asyncio.to_thread(count_rows, settings, table, session_id) == 1
        result = await control.EndSession(control_pb2.EndSessionRequest(name=ended.name))
        assert (result.expire_time.ToDatetime() - result.update_time.ToDatetime()).total_seconds() == pytest.approx(0.2)
        await control.EndSession(control_pb2.EndSessionRequest(name=ended_sharing.name))

        async def both_deleted() -> bool:
            listed = await control.ListSessions(control_pb2.ListSessionsRequest(page_size=1000))
            return not {ended.name, ended_sharing.name} & {session.name for session in listed.sessions}

        await eventually(both_deleted, "the sweep of the expired sessions")
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await control.GetSession(control_pb2.GetSessionRequest(name=ended.name))
        assert error.value.code() == grpc.StatusCode.NOT_FOUND
        for table in ("checkpoints", "leases", "remembered_responses"):
            assert await asyncio.to_thread(count_rows, settings, table, session_id) == 0
        leases = await control.ListLeases(control_pb2.ListLeasesRequest(page_size=1000))
        assert ended.name not in {lease.session for lease in leases.leases}

        # The namespace no session names any more is gone; the one an active session names is kept.
        assert await asyncio.to_thread(count_cache_entries, settings, alone) == 0
        assert await lookup(control, active.name, "k") == {"k": b"shared v"}
        heir = await begin(control, cache_namespace=alone)
        assert await lookup(control, heir.name, "k") == {}
        assert (await control.GetSession(control_pb2.GetSessionRequest(name=active.name))).state == Session.STATE_ACTIVE
    assert metric("control_swept_sessions_total") >= sessions_before + 2
    assert metric("control_swept_cache_entries_total", reason="session_deleted") >= entries_before + 1
    assert metric("control_sweep_last_success_timestamp_seconds") > 0


async def test_idle_active_sessions_expire_unless_a_live_lease_holds_them(make_settings) -> None:
    # 3 s: the study's lease must be taken before its session is idle that long, even on a busy machine.
    settings = make_settings(session_idle_timeout_s=3.0, sweep_interval_s=0.05)
    expired_before = metric("control_expired_idle_sessions_total")
    async with control_server(settings) as control:
        study = await begin(control, labels={"kind": "study"})
        await control.AcquireLease(
            control_pb2.AcquireLeaseRequest(session=study.name, holder="orchestrator-1", ttl={"seconds": 600})
        )
        forgotten = await begin(control)

        async def forgotten_expired() -> bool:
            session = await control.GetSession(control_pb2.GetSessionRequest(name=forgotten.name))
            return session.state != Session.STATE_ACTIVE

        await eventually(forgotten_expired, "the expiry of the idle session")
        session = await control.GetSession(control_pb2.GetSessionRequest(name=forgotten.name))
        assert session.state == Session.STATE_FAILED
        assert session.end_reason == f"{EXPIRED_REASON_PREFIX} no activity for 3 s"
        assert session.expire_time.ToDatetime() > session.update_time.ToDatetime()  # kept for the retention
        # The study is older and as quiet, but its live lease keeps it: one sweep saw both.
        held = await control.GetSession(control_pb2.GetSessionRequest(name=study.name))
        assert held.state == Session.STATE_ACTIVE
    assert metric("control_expired_idle_sessions_total") >= expired_before + 1


async def test_cache_entries_are_deleted_once_older_than_the_limit(make_settings) -> None:
    settings = make_settings(cache_entry_max_age_s=1.0, sweep_interval_s=0.05)
    deleted_before = metric("control_swept_cache_entries_total", reason="age")
    async with control_server(settings) as control:
        session = await begin(control)
        await store_entry(control, session.name, "old", b"answer")
        # No look-up in between: on a busy machine the entry may already be a second old. The metric below
        # shows that the sweeper deleted it for its age.

        async def gone() -> bool:
            return await lookup(control, session.name, "old") == {}

        await eventually(gone, "the deletion of the old cache entry")
        assert (
            await control.GetSession(control_pb2.GetSessionRequest(name=session.name))
        ).state == Session.STATE_ACTIVE
    assert metric("control_swept_cache_entries_total", reason="age") >= deleted_before + 1
