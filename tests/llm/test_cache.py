"""The session-scoped response cache: replay, iteration counting, scoping, batching, control's API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
from tinytroupe_mesh_api.control.v1 import control_pb2, control_pb2_grpc

from services.common.control_client import ControlClient
from services.llm.cache import CachedAnswer, CoalescingCache, InMemoryResponseCache
from tests.fake_llm import FakeLLMServer
from tests.llm.conftest import ClientFactory
from tests.llm.models import AgentTurn, turn_messages

SESSION = "sessions/study-1"


async def _study(client, session: str = SESSION) -> list[AgentTurn]:  # type: ignore[no-untyped-def]
    """A small study: two rounds of three agents acting concurrently, plus a repeated identical call."""
    turns: list[AgentTurn] = []
    for round_number in range(2):
        turns += await asyncio.gather(
            *(
                client.structured(turn_messages(agent, f"Round {round_number}: your view?"), AgentTurn, session=session)
                for agent in ("Ana", "Ben", "Chen")
            )
        )
    turns.append(await client.structured(turn_messages("Ana", "Round 0: your view?"), AgentTurn, session=session))
    return turns


async def test_a_replay_makes_no_model_calls_and_returns_identical_results(
    fake_llm: FakeLLMServer, make_client: ClientFactory
) -> None:
    cache = InMemoryResponseCache()
    first = await _study(make_client(cache=cache))
    calls_after_first_run = fake_llm.stats.total_requests
    assert calls_after_first_run == 7

    replaying_client = make_client(cache=cache)  # a fresh process resuming the study
    second = await _study(replaying_client)

    assert fake_llm.stats.total_requests == calls_after_first_run
    assert [turn.model_dump_json() for turn in second] == [turn.model_dump_json() for turn in first]
    usage = replaying_client.usage(SESSION)
    assert usage.calls == 7 and usage.cached_calls == 7 and usage.total_tokens == 0 and usage.cached_tokens > 0


async def test_identical_calls_in_a_session_get_their_own_entries(
    fake_llm: FakeLLMServer, make_client: ClientFactory
) -> None:
    cache = InMemoryResponseCache()
    client = make_client(cache=cache)

    first = await client.structured(turn_messages("Ana"), AgentTurn, session=SESSION)
    second = await client.structured(turn_messages("Ana"), AgentTurn, session=SESSION)

    assert fake_llm.stats.total_requests == 2
    assert first != second  # the fake varies repeated identical requests, as sampling does
    assert len(cache.entries[SESSION]) == 2


async def test_sessions_with_different_caches_share_nothing(
    fake_llm: FakeLLMServer, make_client: ClientFactory
) -> None:
    cache_a, cache_b = InMemoryResponseCache(), InMemoryResponseCache()
    await _study(make_client(cache=cache_a), "sessions/a")
    await _study(make_client(cache=cache_b), "sessions/b")

    assert fake_llm.stats.total_requests == 14
    assert set(cache_a.entries) == {"sessions/a"} and set(cache_b.entries) == {"sessions/b"}
    answers_a, answers_b = cache_a.entries["sessions/a"], cache_b.entries["sessions/b"]
    assert all(answers_a[key] != answers_b[key] for key in answers_a)  # b's answers came fresh from the model


async def test_sessions_sharing_a_cache_are_still_scoped_by_session(
    fake_llm: FakeLLMServer, make_client: ClientFactory
) -> None:
    cache = InMemoryResponseCache()
    await _study(make_client(cache=cache), "sessions/a")
    await _study(make_client(cache=cache), "sessions/b")

    assert fake_llm.stats.total_requests == 14


async def test_no_session_means_no_cache(fake_llm: FakeLLMServer, make_client: ClientFactory) -> None:
    cache = InMemoryResponseCache()
    client = make_client(cache=cache)

    await client.structured(turn_messages("Ana"), AgentTurn)

    assert cache.lookup_calls == 0 and cache.store_calls == 0


async def test_a_round_of_fifty_agents_makes_one_lookup_and_few_stores(
    fake_llm: FakeLLMServer, make_client: ClientFactory
) -> None:
    fake_llm.configure(latency_s=0.05)
    cache = InMemoryResponseCache()
    client = make_client(cache=cache)

    await asyncio.gather(
        *(client.structured(turn_messages(f"Agent {index}"), AgentTurn, session=SESSION) for index in range(50))
    )

    assert cache.lookup_calls == 1
    assert cache.store_calls <= 10  # answers arriving within 10 ms of each other share a store
    assert len(cache.entries[SESSION]) == 50


class _BrokenCache:
    async def lookup(self, session: str, keys: list[str]) -> dict[str, bytes]:
        raise ConnectionError("control is down")

    async def store(self, session: str, entries: dict[str, bytes]) -> None:
        raise ConnectionError("control is down")


async def test_a_cache_outage_costs_model_calls_not_failures(
    fake_llm: FakeLLMServer, make_client: ClientFactory
) -> None:
    client = make_client(cache=_BrokenCache())

    turns = await asyncio.gather(
        *(client.structured(turn_messages(f"Agent {index}"), AgentTurn, session=SESSION) for index in range(3))
    )

    assert len(turns) == 3 and fake_llm.stats.total_requests == 3


async def test_an_unreadable_entry_is_a_miss(fake_llm: FakeLLMServer, make_client: ClientFactory) -> None:
    cache = InMemoryResponseCache()
    await make_client(cache=cache).structured(turn_messages("Ana"), AgentTurn, session=SESSION)
    (key,) = cache.entries[SESSION]
    cache.entries[SESSION][key] = CachedAnswer('{"not": "a turn"}').encode()

    await make_client(cache=cache).structured(turn_messages("Ana"), AgentTurn, session=SESSION)

    assert fake_llm.stats.total_requests == 2


async def test_coalescing_keeps_waiters_apart_when_one_is_cancelled() -> None:
    inner = InMemoryResponseCache()
    await inner.store("s", {"a": b"1", "b": b"2"})
    cache = CoalescingCache(inner)

    cancelled = asyncio.create_task(cache.lookup("s", ["a"]))
    kept = asyncio.create_task(cache.lookup("s", ["b", "missing"]))
    await asyncio.sleep(0)
    cancelled.cancel()

    assert await kept == {"b": b"2"}
    assert inner.lookup_calls == 1  # both lookups went out as one
    assert cancelled.cancelled()


class _InMemoryControl(control_pb2_grpc.SimulationControlServiceServicer):
    """Control's cache RPCs over a dict, as the real service keeps them (first value wins)."""

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, bytes]] = {}
        self.lookup_sizes: list[int] = []
        self.store_sizes: list[int] = []

    async def LookupCacheEntries(self, request, context):  # type: ignore[no-untyped-def]
        self.lookup_sizes.append(len(request.keys))
        stored = self.entries.get(request.session, {})
        return control_pb2.LookupCacheEntriesResponse(
            entries=[control_pb2.CacheEntry(key=key, value=stored[key]) for key in request.keys if key in stored]
        )

    async def StoreCacheEntries(self, request, context):  # type: ignore[no-untyped-def]
        self.store_sizes.append(len(request.entries))
        stored = self.entries.setdefault(request.session, {})
        new = [entry for entry in request.entries if entry.key not in stored]
        stored.update((entry.key, entry.value) for entry in new)
        return control_pb2.StoreCacheEntriesResponse(stored_count=len(new))


@pytest.fixture
async def control() -> AsyncIterator[tuple[_InMemoryControl, grpc.aio.Channel]]:
    servicer = _InMemoryControl()
    server = grpc.aio.server()
    control_pb2_grpc.add_SimulationControlServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield servicer, channel
    await server.stop(None)


async def test_control_cache_splits_large_batches(control: tuple[_InMemoryControl, grpc.aio.Channel]) -> None:
    servicer, channel = control
    cache = ControlClient(channel)
    entries = {f"key-{index}": f"value-{index}".encode() for index in range(2500)}

    await cache.store(SESSION, entries)
    found = await cache.lookup(SESSION, [*entries, "absent"])

    assert found == entries
    assert servicer.store_sizes == [1000, 1000, 500]
    assert servicer.lookup_sizes == [1000, 1000, 501]


async def test_replay_through_control(
    fake_llm: FakeLLMServer, make_client: ClientFactory, control: tuple[_InMemoryControl, grpc.aio.Channel]
) -> None:
    servicer, channel = control
    first = await _study(make_client(cache=ControlClient(channel)))
    second = await _study(make_client(cache=ControlClient(channel)))

    assert fake_llm.stats.total_requests == 7
    assert second == first
    assert len(servicer.entries[SESSION]) == 7
    assert len(servicer.lookup_sizes) == 2 * 3  # one batched lookup per concurrent round or single call


async def test_a_cancelled_call_gives_its_iteration_back(fake_llm: FakeLLMServer, make_client: ClientFactory) -> None:
    """A call cancelled mid-flight (a crashed round) frees its number: the retry is stored under the
    key an uninterrupted run would use, so a later replay of the session finds it."""
    cache = InMemoryResponseCache()
    interrupted = make_client(cache)
    fake_llm.configure(latency_s=0.5)
    pending = asyncio.create_task(
        interrupted.structured(turn_messages("Ana", "Round 0: your view?"), AgentTurn, session=SESSION)
    )
    await asyncio.sleep(0.1)
    pending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pending
    fake_llm.configure(latency_s=0.0)
    first = await interrupted.structured(turn_messages("Ana", "Round 0: your view?"), AgentTurn, session=SESSION)
    calls = fake_llm.stats.total_requests

    replay = await make_client(cache).structured(
        turn_messages("Ana", "Round 0: your view?"), AgentTurn, session=SESSION
    )
    assert replay == first
    assert fake_llm.stats.total_requests == calls


async def test_a_request_resumed_in_the_same_process_meets_its_earlier_answers(
    fake_llm: FakeLLMServer, make_client: ClientFactory
) -> None:
    """A resumed stream is a new scope of its session: its calls are numbered from the start again, so
    the answers the interrupted stream got are found in the cache, not asked of the model twice."""
    client = make_client(InMemoryResponseCache())
    with client.session_scope(SESSION):
        interrupted = await _study(client)
    calls = fake_llm.stats.total_requests
    with client.session_scope(SESSION):
        resumed = await _study(client)
    assert resumed == interrupted and fake_llm.stats.total_requests == calls


async def test_identical_calls_within_one_scope_still_get_their_own_entries(
    fake_llm: FakeLLMServer, make_client: ClientFactory
) -> None:
    client = make_client(InMemoryResponseCache())
    with client.session_scope(SESSION), client.session_scope(SESSION):  # e.g. two requests of one study
        first = await client.structured(turn_messages("Ana"), AgentTurn, session=SESSION)
        second = await client.structured(turn_messages("Ana"), AgentTurn, session=SESSION)
    assert first != second and fake_llm.stats.total_requests == 2


async def test_the_last_scope_of_a_session_forgets_it(fake_llm: FakeLLMServer, make_client: ClientFactory) -> None:
    """A long-running server keeps no counters or accounting of finished sessions."""
    client = make_client(InMemoryResponseCache())
    with client.session_scope(SESSION):
        await client.structured(turn_messages("Ana"), AgentTurn, session=SESSION)
        assert client.usage(SESSION).calls == 1
    assert client.usage(SESSION).calls == 0
    assert SESSION not in client._iterations
