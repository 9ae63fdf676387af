"""The production `ResponseCache`: control's LookupCacheEntries / StoreCacheEntries."""

from __future__ import annotations

import grpc
from tinytroupe.control.v1 import control_pb2, control_pb2_grpc

MAX_ENTRIES_PER_CALL = 1000
"""Control accepts at most this many keys or entries per call; larger batches are split."""


class ControlResponseCache:
    """Looks up and stores cached answers in the session's cache namespace held by control."""

    def __init__(self, channel: grpc.aio.Channel, timeout_s: float = 10.0) -> None:
        self._stub = control_pb2_grpc.SimulationControlServiceStub(channel)
        self._timeout_s = timeout_s

    async def lookup(self, session: str, keys: list[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for start in range(0, len(keys), MAX_ENTRIES_PER_CALL):
            request = control_pb2.LookupCacheEntriesRequest(
                session=session, keys=keys[start : start + MAX_ENTRIES_PER_CALL]
            )
            response = await self._stub.LookupCacheEntries(request, timeout=self._timeout_s)
            found.update((entry.key, entry.value) for entry in response.entries)
        return found

    async def store(self, session: str, entries: dict[str, bytes]) -> None:
        items = [control_pb2.CacheEntry(key=key, value=value) for key, value in entries.items()]
        for start in range(0, len(items), MAX_ENTRIES_PER_CALL):
            request = control_pb2.StoreCacheEntriesRequest(
                session=session, entries=items[start : start + MAX_ENTRIES_PER_CALL]
            )
            await self._stub.StoreCacheEntries(request, timeout=self._timeout_s)
