"""A control server killed mid-write keeps every acknowledged checkpoint and no partial one."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from tinytroupe_mesh_api.control.v1 import control_pb2 as pb
from tinytroupe_mesh_api.control.v1 import control_pb2_grpc

from tests.control.conftest import schema_url
from tests.control.helpers import begin

REPOSITORY = Path(__file__).resolve().parents[2]
WRITERS = 4
ACKNOWLEDGED_BEFORE_KILL = 12

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def payload_for(index: int) -> bytes:
    """1 to 2 MB, alternating compressible and incompressible payloads."""
    size = 1_000_000 + (index % 5) * 250_000
    if index % 2:
        return os.urandom(size)
    return (f"checkpoint {index} of a world state ".encode() * (size // 30 + 1))[:size]


@contextlib.asynccontextmanager
async def control_process(
    env: dict[str, str], log: Path
) -> AsyncIterator[tuple[asyncio.subprocess.Process, control_pb2_grpc.SimulationControlServiceStub]]:
    """`python -m services.control` as a child process, with a stub connected to it."""
    port = free_port()
    with log.open("ab") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "services.control",
            cwd=REPOSITORY,
            env={**env, "PORT": str(port)},
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        async with grpc.aio.insecure_channel(
            f"127.0.0.1:{port}", options=[("grpc.max_send_message_length", 64 * 1024 * 1024)]
        ) as channel:
            await asyncio.wait_for(channel.channel_ready(), timeout=30)
            yield process, control_pb2_grpc.SimulationControlServiceStub(channel)
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


@pytest.fixture
def server_env(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "PORT")}
    env.update(DATA_DIR=str(tmp_path / "data"), METRICS_PORT="0", LOG_LEVEL="WARNING")
    if backend == "postgres":
        env["DATABASE_URL"] = schema_url(request.getfixturevalue("postgres_schema"))
    return env


async def test_sigkill_mid_stream_keeps_acknowledged_checkpoints_intact(server_env, tmp_path: Path) -> None:
    log = tmp_path / "control.log"
    sent: dict[str, str] = {}
    acknowledged: dict[str, str] = {}
    async with control_process(server_env, log) as (process, control):
        session = await begin(control, display_name="crash test")
        next_index = iter(range(10_000))
        enough = asyncio.Event()

        async def writer() -> None:
            while True:
                index = next(next_index)
                checkpoint_id, payload = f"round_{index}", payload_for(index)
                sent[checkpoint_id] = hashlib.sha256(payload).hexdigest()
                try:
                    created = await control.CreateCheckpoint(
                        pb.CreateCheckpointRequest(
                            parent=session.name, checkpoint_id=checkpoint_id, checkpoint=pb.Checkpoint(payload=payload)
                        )
                    )
                except grpc.aio.AioRpcError:
                    return
                assert created.sha256 == sent[checkpoint_id]
                acknowledged[checkpoint_id] = created.sha256
                if len(acknowledged) >= ACKNOWLEDGED_BEFORE_KILL:
                    enough.set()

        writers = [asyncio.create_task(writer()) for _ in range(WRITERS)]
        await asyncio.wait_for(enough.wait(), timeout=60)
        process.send_signal(signal.SIGKILL)
        await asyncio.gather(*writers)
        assert await process.wait() == -signal.SIGKILL
    in_flight = set(sent) - set(acknowledged)
    assert in_flight, "the kill should interrupt writes in flight"

    async with control_process(server_env, log) as (_, control):
        restored = await control.GetSession(pb.GetSessionRequest(name=session.name))
        listed = await control.ListCheckpoints(pb.ListCheckpointsRequest(parent=session.name, page_size=1000))
        stored_ids = [checkpoint.name.rsplit("/", 1)[1] for checkpoint in listed.checkpoints]
        assert set(acknowledged) <= set(stored_ids) <= set(sent)
        assert [checkpoint.sequence for checkpoint in listed.checkpoints] == list(range(1, len(stored_ids) + 1))
        assert restored.checkpoint_count == len(stored_ids)
        for checkpoint in listed.checkpoints:
            full = await control.GetCheckpoint(pb.GetCheckpointRequest(name=checkpoint.name))
            checkpoint_id = checkpoint.name.rsplit("/", 1)[1]
            assert hashlib.sha256(full.payload).hexdigest() == full.sha256 == sent[checkpoint_id]

        after = await control.CreateCheckpoint(
            pb.CreateCheckpointRequest(
                parent=session.name, checkpoint_id="after_restart", checkpoint=pb.Checkpoint(payload=b"resumed")
            )
        )
        assert after.sequence == len(stored_ids) + 1
