"""Twenty sessions writing checkpoints and cache entries at once: no cross-talk, no lost write."""

from __future__ import annotations

import asyncio
import hashlib
import os

from tinytroupe_mesh_api.control.v1 import control_pb2 as pb

from tests.control.helpers import begin, unique

SESSIONS = 20
CHECKPOINTS_PER_SESSION = 6
CACHE_BATCHES_PER_SESSION = 4
ENTRIES_PER_BATCH = 50


async def run_session(control, index: int, tag: str) -> tuple[pb.Session, dict[str, bytes], dict[str, bytes]]:
    session = await begin(control, labels={"batch": tag}, cache_namespace=f"{tag}-{index}")
    payloads = {
        f"round_{round_}": os.urandom(1024) + f"{index}:{round_}".encode() * 2000
        for round_ in range(CHECKPOINTS_PER_SESSION)
    }
    cache = {
        f"key-{n}": f"session {index} answer {n}".encode() for n in range(CACHE_BATCHES_PER_SESSION * ENTRIES_PER_BATCH)
    }
    keys = list(cache)

    async def write_checkpoints() -> None:
        for checkpoint_id, payload in payloads.items():
            await control.CreateCheckpoint(
                pb.CreateCheckpointRequest(
                    parent=session.name, checkpoint_id=checkpoint_id, checkpoint=pb.Checkpoint(payload=payload)
                )
            )

    async def write_cache(batch: int) -> None:
        chunk = keys[batch * ENTRIES_PER_BATCH : (batch + 1) * ENTRIES_PER_BATCH]
        response = await control.StoreCacheEntries(
            pb.StoreCacheEntriesRequest(
                session=session.name, entries=[pb.CacheEntry(key=key, value=cache[key]) for key in chunk]
            )
        )
        assert response.stored_count == len(chunk)

    await asyncio.gather(write_checkpoints(), *(write_cache(batch) for batch in range(CACHE_BATCHES_PER_SESSION)))
    return session, payloads, cache


async def test_concurrent_sessions_do_not_interfere(control) -> None:
    tag = unique("concurrent")
    results = await asyncio.gather(*(run_session(control, index, tag) for index in range(SESSIONS)))

    for session, payloads, cache in results:
        listed = await control.ListCheckpoints(pb.ListCheckpointsRequest(parent=session.name))
        assert [c.name.rsplit("/", 1)[1] for c in listed.checkpoints] == list(payloads)
        assert [c.sequence for c in listed.checkpoints] == list(range(1, CHECKPOINTS_PER_SESSION + 1))
        for checkpoint in listed.checkpoints:
            restored = await control.GetCheckpoint(pb.GetCheckpointRequest(name=checkpoint.name))
            expected = payloads[checkpoint.name.rsplit("/", 1)[1]]
            assert restored.payload == expected
            assert restored.sha256 == hashlib.sha256(expected).hexdigest()
        found = await control.LookupCacheEntries(pb.LookupCacheEntriesRequest(session=session.name, keys=list(cache)))
        assert {entry.key: entry.value for entry in found.entries} == cache

    listed = await control.ListSessions(pb.ListSessionsRequest(labels={"batch": tag}, page_size=100))
    assert len(listed.sessions) == SESSIONS
    assert all(session.checkpoint_count == CHECKPOINTS_PER_SESSION for session in listed.sessions)
