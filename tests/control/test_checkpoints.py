"""Checkpoints: byte-for-byte restore, creation order, idempotency and refusals."""

from __future__ import annotations

import asyncio
import hashlib
import os
import random

import grpc
import pytest
from tinytroupe_mesh_api.control.v1 import control_pb2

from tests.control.helpers import begin, error_report


def compressible_payload(size: int, seed: int) -> bytes:
    """Text-like bytes (repeated words in random order) that zstd shrinks a lot."""
    words = [f"agent-{n} said something about the product ".encode() for n in range(50)]
    rng = random.Random(seed)
    chunks, total = [], 0
    while total < size:
        chunk = rng.choice(words)
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)[:size]


PAYLOADS = {
    "one_byte": b"\x00",
    "small_random": os.urandom(1000),
    "below_threshold": compressible_payload(4095, 1),
    "large_compressible": compressible_payload(2 * 1024 * 1024, 2),
    "large_incompressible": os.urandom(3 * 1024 * 1024),
}


async def create(stub, parent: str, checkpoint_id: str, payload: bytes, **fields) -> control_pb2.Checkpoint:
    return await stub.CreateCheckpoint(
        control_pb2.CreateCheckpointRequest(
            parent=parent, checkpoint_id=checkpoint_id, checkpoint=control_pb2.Checkpoint(payload=payload, **fields)
        )
    )


async def test_payloads_are_restored_byte_for_byte(control) -> None:
    session = await begin(control)
    for checkpoint_id, payload in PAYLOADS.items():
        created = await create(
            control,
            session.name,
            checkpoint_id,
            payload,
            content_type="application/octet-stream",
            annotations={"kind": checkpoint_id},
        )
        assert created.payload == b""
        assert created.size_bytes == len(payload)
        assert created.sha256 == hashlib.sha256(payload).hexdigest()

    for checkpoint_id, payload in PAYLOADS.items():
        restored = await control.GetCheckpoint(
            control_pb2.GetCheckpointRequest(name=f"{session.name}/checkpoints/{checkpoint_id}")
        )
        assert restored.payload == payload
        assert restored.sha256 == hashlib.sha256(payload).hexdigest()
        assert restored.size_bytes == len(payload)
        assert restored.content_type == "application/octet-stream"
        assert dict(restored.annotations) == {"kind": checkpoint_id}


async def test_listed_in_creation_order_with_latest_alias(control) -> None:
    session = await begin(control)
    ids = ["agents_created", "round_1", "round_2", "round_3", "simulation_complete"]
    for index, checkpoint_id in enumerate(ids):
        await create(control, session.name, checkpoint_id, f"state {index}".encode())

    listed, token = [], ""
    while True:
        page = await control.ListCheckpoints(
            control_pb2.ListCheckpointsRequest(parent=session.name, page_size=2, page_token=token)
        )
        listed.extend(page.checkpoints)
        if not (token := page.next_page_token):
            break
    assert [c.name.rsplit("/", 1)[1] for c in listed] == ids
    assert [c.sequence for c in listed] == [1, 2, 3, 4, 5]
    assert all(c.payload == b"" for c in listed)
    assert [c.create_time.ToDatetime() for c in listed] == sorted(c.create_time.ToDatetime() for c in listed)

    latest = await control.GetCheckpoint(control_pb2.GetCheckpointRequest(name=f"{session.name}/checkpoints/-latest"))
    assert latest.name == f"{session.name}/checkpoints/simulation_complete"
    assert latest.payload == b"state 4"
    fetched = await control.GetSession(control_pb2.GetSessionRequest(name=session.name))
    assert fetched.checkpoint_count == 5


async def test_same_payload_again_is_a_no_op_and_another_payload_is_refused(control) -> None:
    session = await begin(control)
    payload = PAYLOADS["large_compressible"]
    first = await create(control, session.name, "round_1", payload)
    again = await create(control, session.name, "round_1", payload)
    assert again == first
    concurrent = await asyncio.gather(*(create(control, session.name, "round_2", payload) for _ in range(4)))
    assert len({c.SerializeToString() for c in concurrent}) == 1

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await create(control, session.name, "round_1", payload + b"!")
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS

    restored = await control.GetCheckpoint(control_pb2.GetCheckpointRequest(name=first.name))
    assert restored.payload == payload
    listed = await control.ListCheckpoints(control_pb2.ListCheckpointsRequest(parent=session.name))
    assert [c.sequence for c in listed.checkpoints] == [1, 2]


async def test_ended_session_refuses_new_checkpoints_but_serves_old_ones(control) -> None:
    session = await begin(control)
    await create(control, session.name, "round_1", b"kept")
    await control.EndSession(control_pb2.EndSessionRequest(name=session.name))

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await create(control, session.name, "round_2", b"too late")
    report = error_report(caught.value)
    assert (report.code, report.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "SESSION_NOT_ACTIVE")

    assert (await create(control, session.name, "round_1", b"kept")).sequence == 1
    restored = await control.GetCheckpoint(control_pb2.GetCheckpointRequest(name=f"{session.name}/checkpoints/-latest"))
    assert restored.payload == b"kept"


async def test_unknown_session_or_checkpoint_is_not_found(control) -> None:
    session = await begin(control)
    for name in (
        f"{session.name}/checkpoints/missing",
        f"{session.name}/checkpoints/-latest",
        "sessions/no-such-session/checkpoints/round_1",
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await control.GetCheckpoint(control_pb2.GetCheckpointRequest(name=name))
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await create(control, "sessions/no-such-session", "round_1", b"x")
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
