"""The LLM call cache: scoped by namespace, shared within one, first write wins, gone with its last session."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from pydantic import SecretStr
from tinytroupe_mesh_api.control.v1 import control_pb2

from tests.control.helpers import acting_for, begin, control_server, count_cache_entries, error_report, unique


def entries(**values: bytes) -> list[control_pb2.CacheEntry]:
    return [control_pb2.CacheEntry(key=key, value=value) for key, value in values.items()]


async def store(stub, session: str, **values: bytes) -> int:
    response = await stub.StoreCacheEntries(
        control_pb2.StoreCacheEntriesRequest(session=session, entries=entries(**values))
    )
    return response.stored_count


async def lookup(stub, session: str, *keys: str) -> dict[str, bytes]:
    response = await stub.LookupCacheEntries(control_pb2.LookupCacheEntriesRequest(session=session, keys=keys))
    return {entry.key: entry.value for entry in response.entries}


async def test_namespaces_are_isolated_and_shared_on_purpose(control) -> None:
    namespace_a, namespace_b = unique("focus_group_cache.json"), unique("survey_cache.json")
    first = await begin(control, cache_namespace=namespace_a)
    sharing = await begin(control, cache_namespace=namespace_a)
    other = await begin(control, cache_namespace=namespace_b)
    own = await begin(control)

    assert await store(control, first.name, k1=b"answer 1", k2=b"answer 2") == 2
    assert await store(control, other.name, k1=b"other answer") == 1

    assert await lookup(control, sharing.name, "k1", "k2", "k3") == {"k1": b"answer 1", "k2": b"answer 2"}
    assert await lookup(control, other.name, "k1", "k2") == {"k1": b"other answer"}
    assert await lookup(control, own.name, "k1", "k2") == {}


async def test_existing_keys_are_kept(control) -> None:
    session = await begin(control)
    assert await store(control, session.name, k1=b"first") == 1
    assert await store(control, session.name, k1=b"second", k2=b"new") == 1
    assert await lookup(control, session.name, "k1", "k2") == {"k1": b"first", "k2": b"new"}


async def test_batches_of_a_thousand(control) -> None:
    session = await begin(control)
    values = {f"key-{index:04d}": f"value {index}".encode() * 10 for index in range(1000)}
    assert await store(control, session.name, **values) == 1000
    assert await lookup(control, session.name, *values) == values

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await lookup(control, session.name, *values, "one-too-many")
    report = error_report(caught.value)
    assert (report.code, report.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["keys"])


async def test_ended_session_can_read_but_not_write(control) -> None:
    session = await begin(control)
    await store(control, session.name, k=b"v")
    await control.EndSession(control_pb2.EndSessionRequest(name=session.name))
    assert await lookup(control, session.name, "k") == {"k": b"v"}
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await store(control, session.name, k2=b"v2")
    report = error_report(caught.value)
    assert (report.code, report.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "SESSION_NOT_ACTIVE")
    assert await lookup(control, session.name, "k2") == {}


async def test_deleting_a_session_keeps_its_namespace_entries_while_another_session_names_it(control, settings) -> None:
    namespace = unique("shared")
    doomed = await begin(control, cache_namespace=namespace)
    heir = await begin(control, cache_namespace=namespace)
    await store(control, doomed.name, k=b"v")
    await control.DeleteSession(control_pb2.DeleteSessionRequest(name=doomed.name))
    assert await lookup(control, heir.name, "k") == {"k": b"v"}

    # The last session naming the namespace takes its entries along.
    await control.DeleteSession(control_pb2.DeleteSessionRequest(name=heir.name))
    assert await asyncio.to_thread(count_cache_entries, settings, namespace) == 0
    newcomer = await begin(control, cache_namespace=namespace)
    assert await lookup(control, newcomer.name, "k") == {}


async def test_deleting_a_tenants_session_keeps_another_tenants_namespace_of_that_name(make_settings) -> None:
    settings = make_settings(internal_token=SecretStr("mesh-internal-token"))
    namespace = unique("tenant-ns")
    async with control_server(settings) as control:
        with acting_for("acme"):
            acme = await begin(control, cache_namespace=namespace)
            await store(control, acme.name, k=b"acme answer")
        with acting_for("globex"):
            globex = await begin(control, cache_namespace=namespace)
            await store(control, globex.name, k=b"globex answer")
            await control.DeleteSession(control_pb2.DeleteSessionRequest(name=globex.name))
        with acting_for("acme"):
            assert await lookup(control, acme.name, "k") == {"k": b"acme answer"}
