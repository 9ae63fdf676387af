"""Retention in the storage layer, on both backends: idle sessions expire, deleted and expired sessions
take their remembered responses and the cache entries no other session names along, old entries go."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.control.payloads import encode_payload
from services.control.storage.base import (
    NewRememberedResponse,
    NewSession,
    RememberedResponseNotFound,
    SessionNotActive,
    SessionNotFound,
    SessionState,
    Storage,
)
from services.control.sweeper import RetentionPolicy, Sweeper

HOUR = timedelta(hours=1)
NOW = timedelta(0)
"""An idle time or age every row has already reached."""


def new_session(session_id: str, namespace: str = "", tenant: str = "") -> NewSession:
    return NewSession(session_id, "", "", namespace or session_id, {}, tenant=tenant)


def remembered(response_id: str, answer: bytes, request_sha256: str = "a" * 64) -> NewRememberedResponse:
    return NewRememberedResponse(response_id, request_sha256, encode_payload(answer))


async def test_only_quiet_active_sessions_without_a_live_lease_expire(storage: Storage) -> None:
    for session_id in ("quiet", "leased", "released", "ended"):
        await storage.begin_session(new_session(session_id))
    await storage.acquire_lease("leased", "orchestrator-1", HOUR)
    await storage.acquire_lease("released", "orchestrator-1", HOUR)
    await storage.release_lease("released", "orchestrator-1")
    await storage.end_session("ended", SessionState.ENDED, "done", HOUR)

    assert await storage.expire_idle_sessions(idle_for=HOUR, reason="expired: test", retention=HOUR, limit=10) == []
    expired = await storage.expire_idle_sessions(idle_for=NOW, reason="expired: test", retention=HOUR, limit=10)
    assert sorted(expired) == ["quiet", "released"]
    quiet = await storage.get_session("quiet")
    assert (quiet.state, quiet.end_reason) == (SessionState.FAILED, "expired: test")
    assert quiet.expire_time == quiet.update_time + HOUR
    assert (await storage.get_session("leased")).state is SessionState.ACTIVE
    assert (await storage.get_session("ended")).end_reason == "done"


async def test_idle_sessions_expire_in_batches(storage: Storage) -> None:
    for index in range(5):
        await storage.begin_session(new_session(f"idle-{index}"))
    first = await storage.expire_idle_sessions(idle_for=NOW, reason="expired", retention=HOUR, limit=3)
    second = await storage.expire_idle_sessions(idle_for=NOW, reason="expired", retention=HOUR, limit=3)
    assert len(first) == 3 and len(second) == 2 and not set(first) & set(second)


async def test_a_deleted_session_takes_its_remembered_responses_and_unshared_cache_along(storage: Storage) -> None:
    await storage.begin_session(new_session("alone", "solo"))
    await storage.begin_session(new_session("first", "shared"))
    await storage.begin_session(new_session("second", "shared"))
    await storage.begin_session(new_session("other-tenant", "solo", tenant="acme"))
    await storage.store_cache_entries("alone", [("k", b"solo answer")])
    await storage.store_cache_entries("first", [("k", b"shared answer")])
    await storage.store_cache_entries("other-tenant", [("k", b"acme answer")], tenant="acme")
    await storage.remember_response("alone", remembered("r1", b"answer"))

    await storage.delete_session("alone")
    with pytest.raises(SessionNotFound):
        await storage.get_remembered_response("alone", "r1")
    await storage.begin_session(new_session("newcomer", "solo"))
    assert await storage.lookup_cache_entries("newcomer", ["k"]) == {}
    assert await storage.lookup_cache_entries("other-tenant", ["k"], tenant="acme") == {"k": b"acme answer"}

    await storage.delete_session("first")
    assert await storage.lookup_cache_entries("second", ["k"]) == {"k": b"shared answer"}


async def test_the_sweep_deletes_expired_sessions_with_their_namespaces_and_old_entries(storage: Storage) -> None:
    await storage.begin_session(new_session("ended", "ended-ns"))
    await storage.begin_session(new_session("active", "active-ns"))
    await storage.store_cache_entries("ended", [("k", b"v")])
    await storage.store_cache_entries("active", [(f"k{index}", b"v") for index in range(5)])
    await storage.end_session("ended", SessionState.ENDED, "", NOW)

    swept = await Sweeper(storage, 60, RetentionPolicy(session_retention=NOW)).sweep_once()
    assert (swept.sessions_deleted, swept.cache_entries_of_deleted_sessions, swept.old_cache_entries) == (1, 1, 0)
    assert swept.sessions_expired == 0  # an idle timeout of 0 expires nothing
    assert len(await storage.lookup_cache_entries("active", [f"k{index}" for index in range(5)])) == 5

    aged = Sweeper(storage, 60, RetentionPolicy(session_retention=HOUR, cache_entry_max_age=HOUR))
    assert (await aged.sweep_once()).old_cache_entries == 0
    by_age = Sweeper(
        storage,
        60,
        RetentionPolicy(session_retention=HOUR, cache_entry_max_age=timedelta(microseconds=1)),
        cache_batch_size=2,
    )
    assert (await by_age.sweep_once()).old_cache_entries == 5
    assert await storage.lookup_cache_entries("active", [f"k{index}" for index in range(5)]) == {}
    assert (await storage.get_session("active")).state is SessionState.ACTIVE


async def test_remembered_responses_the_first_wins_and_an_ended_session_takes_no_new_one(storage: Storage) -> None:
    created = await storage.begin_session(new_session("s1"))
    first = await storage.remember_response("s1", remembered("r1", b"first", "a" * 64))
    again = await storage.remember_response("s1", remembered("r1", b"second", "b" * 64))
    assert again == first and again.request_sha256 == "a" * 64
    assert await storage.get_remembered_response("s1", "r1") == first
    assert (await storage.get_session("s1")).update_time >= first.create_time >= created.update_time
    assert (await storage.list_checkpoints("s1", limit=10, after=None)).items == []
    with pytest.raises(RememberedResponseNotFound):
        await storage.get_remembered_response("s1", "r2")
    with pytest.raises(SessionNotFound):  # another tenant's session is missing
        await storage.get_remembered_response("s1", "r1", tenant="acme")

    await storage.end_session("s1", SessionState.ENDED, "", HOUR)
    assert await storage.remember_response("s1", remembered("r1", b"late", "c" * 64)) == first
    with pytest.raises(SessionNotActive):
        await storage.remember_response("s1", remembered("r2", b"late"))
