"""The session-scoped cache of model answers: its interface, keys, an in-memory store and a batcher.

A cached value is the validated JSON text of an answer with the usage it cost, so a replay returns
the very same output byte for byte. The production store is control's cache API
(`services.common.control_client.ControlClient`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable


@runtime_checkable
class ResponseCache(Protocol):
    """Where cached answers live, scoped by session (`sessions/{id}`)."""

    async def lookup(self, session: str, keys: list[str]) -> dict[str, bytes]:
        """The entries found among `keys`; missing keys are absent."""
        ...

    async def store(self, session: str, entries: dict[str, bytes]) -> None:
        """Stores entries; a key already present keeps its first value."""
        ...


def request_fingerprint(
    *,
    model: str,
    messages: list[dict[str, str]],
    schema: dict[str, Any],
    temperature: float | None,
    max_tokens: int | None,
    seed: int | None,
    response_format: str,
) -> str:
    """sha256 of the canonical JSON of everything that shapes the answer."""
    canonical = json.dumps(
        {
            "model": model,
            "messages": messages,
            "schema": schema,
            "temperature": temperature,
            "max_tokens": max_tokens,
            "seed": seed,
            "response_format": response_format,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def cache_key(fingerprint: str, iteration: int) -> str:
    """The key of the `iteration`-th request with this fingerprint in a session (0 for the first)."""
    return hashlib.sha256(f"{fingerprint}:{iteration}".encode()).hexdigest()


@dataclass(frozen=True)
class CachedAnswer:
    """A cached model answer: the JSON text that validated, and what it cost."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def encode(self) -> bytes:
        return json.dumps(
            {
                "text": self.text,
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()

    @classmethod
    def decode(cls, value: bytes) -> CachedAnswer:
        data = json.loads(value)
        return cls(
            text=data["text"],
            prompt_tokens=int(data.get("prompt_tokens", 0)),
            completion_tokens=int(data.get("completion_tokens", 0)),
        )


Payload = TypeVar("Payload")


@dataclass
class InMemoryResponseCache:
    """A `ResponseCache` in this process's memory, for tests and single-process runs."""

    entries: dict[str, dict[str, bytes]] = field(default_factory=dict)
    lookup_calls: int = 0
    store_calls: int = 0

    async def lookup(self, session: str, keys: list[str]) -> dict[str, bytes]:
        self.lookup_calls += 1
        stored = self.entries.get(session, {})
        return {key: stored[key] for key in keys if key in stored}

    async def store(self, session: str, entries: dict[str, bytes]) -> None:
        self.store_calls += 1
        stored = self.entries.setdefault(session, {})
        for key, value in entries.items():
            stored.setdefault(key, value)


class _Batch(Generic[Payload]):
    """Requests for one session gathered until the batch is flushed."""

    def __init__(self, payload: Payload) -> None:
        self.payload = payload
        self.done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()


class CoalescingCache:
    """Wraps a `ResponseCache` so that a session's lookups issued within the same event-loop tick go
    out as one call (a round of 50 agents makes 50 lookups at once), and its stores within
    `store_window_s` too (answers come back spread over a few milliseconds). Callers still wait
    for their own batch, so an answer is stored before its call returns."""

    def __init__(self, inner: ResponseCache, lookup_window_s: float = 0.0, store_window_s: float = 0.01) -> None:
        self.inner = inner
        self.lookup_window_s = lookup_window_s
        self.store_window_s = store_window_s
        self._lookups: dict[str, _Batch[set[str]]] = {}
        self._stores: dict[str, _Batch[dict[str, bytes]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def lookup(self, session: str, keys: list[str]) -> dict[str, bytes]:
        batch = self._lookups.get(session)
        if batch is None:
            batch = self._lookups[session] = _Batch(set())
            self._schedule(self._flush_lookup, session, self.lookup_window_s)
        batch.payload.update(keys)
        found: dict[str, bytes] = await asyncio.shield(batch.done)
        return {key: found[key] for key in keys if key in found}

    async def store(self, session: str, entries: dict[str, bytes]) -> None:
        batch = self._stores.get(session)
        if batch is None:
            batch = self._stores[session] = _Batch({})
            self._schedule(self._flush_store, session, self.store_window_s)
        for key, value in entries.items():
            batch.payload.setdefault(key, value)
        await asyncio.shield(batch.done)

    def _schedule(self, flush: Callable[[str], Awaitable[None]], session: str, window_s: float) -> None:
        loop = asyncio.get_running_loop()

        def start() -> None:
            task = loop.create_task(flush(session))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        if window_s > 0:
            loop.call_later(window_s, start)
        else:
            loop.call_soon(start)

    async def _flush_lookup(self, session: str) -> None:
        batch = self._lookups.pop(session)
        await _settle(batch, self.inner.lookup(session, sorted(batch.payload)))

    async def _flush_store(self, session: str) -> None:
        batch = self._stores.pop(session)
        await _settle(batch, self.inner.store(session, batch.payload))


async def _settle(batch: _Batch[Any], call: Awaitable[Any]) -> None:
    try:
        result = await call
    except Exception as error:  # noqa: BLE001  (whatever the store raised, every waiter sees it)
        if not batch.done.done():
            batch.done.set_exception(error)
        batch.done.exception()  # marks it retrieved: waiters may all have been cancelled
        return
    if not batch.done.done():
        batch.done.set_result(result)
