"""The storage layer below the servicer: migrations, transactions, payload encoding and integrity."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from pathlib import Path

import grpc
import psycopg
import pytest
from tinytroupe_mesh_api.control.v1 import control_pb2 as pb

from services.control.payloads import IDENTITY, ZSTD, PayloadCorrupted, decode_payload, encode_payload
from services.control.storage import create_storage
from services.control.storage.base import NewSession, Storage, StoredPayload
from services.control.storage.migrations import load_migrations
from services.control.storage.postgres import PostgresStorage
from services.control.storage.sqlite import SqliteStorage
from tests.control.conftest import schema_url
from tests.control.helpers import begin, control_server, error_report


def test_migrations_are_numbered_alike_for_both_backends() -> None:
    sqlite_versions = [(m.version, m.name) for m in load_migrations("sqlite")]
    postgres_versions = [(m.version, m.name) for m in load_migrations("postgres")]
    assert sqlite_versions == postgres_versions
    assert sqlite_versions[0] == (1, "initial")


async def test_sqlite_replicas_starting_together_migrate_once(tmp_path: Path) -> None:
    path = tmp_path / "control.sqlite3"
    storages = [SqliteStorage(path) for _ in range(3)]
    await asyncio.gather(*(storage.open() for storage in storages))
    session = await storages[0].begin_session(NewSession("s1", "", "", "s1", {}))
    assert (await storages[2].get_session("s1")) == session
    for storage in storages:
        await storage.close()

    reopened = SqliteStorage(path)
    await reopened.open()
    assert (await reopened.get_session("s1")) == session
    await reopened.close()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_migrations")]
        journal_mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert versions == [m.version for m in load_migrations("sqlite")]
    assert journal_mode == "wal"


@pytest.mark.postgres
async def test_postgres_replicas_starting_together_migrate_once(fresh_schema: str) -> None:
    storages = [PostgresStorage(schema_url(fresh_schema), max_connections=2) for _ in range(4)]
    await asyncio.gather(*(storage.open() for storage in storages))
    try:
        session = await storages[0].begin_session(NewSession("s1", "", "", "s1", {"a": "b"}))
        assert (await storages[3].get_session("s1")) == session
    finally:
        for storage in storages:
            await storage.close()
    async with await psycopg.AsyncConnection.connect(schema_url(fresh_schema)) as conn:
        rows = await (await conn.execute("SELECT version FROM schema_migrations ORDER BY version")).fetchall()
    assert [row[0] for row in rows] == [m.version for m in load_migrations("postgres")]


async def test_a_failing_write_leaves_nothing_behind(storage: Storage) -> None:
    await storage.begin_session(NewSession("s1", "", "", "ns", {}))
    with pytest.raises(Exception):  # noqa: B017 - the database's own constraint error, per backend
        await storage.store_cache_entries("s1", [("first", b"kept?"), ("second", None)])  # type: ignore[list-item]
    assert await storage.lookup_cache_entries("s1", ["first", "second"]) == {}
    assert await storage.store_cache_entries("s1", [("first", b"v")]) == 1


def test_create_storage_picks_the_backend_from_the_settings(tmp_path: Path) -> None:
    from services.runtime.config import MeshSettings

    assert isinstance(create_storage(MeshSettings(data_dir=tmp_path)), SqliteStorage)
    assert isinstance(create_storage(MeshSettings(database_url="postgres://u@h/db")), PostgresStorage)
    with pytest.raises(ValueError):
        create_storage(MeshSettings(database_url="mysql://u@h/db"))


def test_payload_encoding_compresses_only_when_it_pays() -> None:
    text = b"the same sentence again and again. " * 60_000
    noise = os.urandom(500_000)
    small = b"tiny but repetitive " * 10
    for payload, encoding in ((text, ZSTD), (noise, IDENTITY), (small, IDENTITY)):
        stored = encode_payload(payload)
        assert stored.encoding == encoding
        assert decode_payload(stored) == payload
    assert len(encode_payload(text).data) < len(text) / 20


def test_decoding_detects_corruption() -> None:
    stored = encode_payload(b"world state " * 1000)
    flipped = bytearray(stored.data)
    flipped[len(flipped) // 2] ^= 0xFF
    with pytest.raises(PayloadCorrupted):
        decode_payload(StoredPayload(stored.encoding, bytes(flipped), stored.size_bytes, stored.sha256))
    with pytest.raises(PayloadCorrupted):
        decode_payload(StoredPayload(IDENTITY, b"x", 1, stored.sha256))


async def test_tampered_checkpoint_answers_data_loss(make_settings, backend: str) -> None:
    settings = make_settings()
    async with control_server(settings) as control:
        session = await begin(control)
        created = await control.CreateCheckpoint(
            pb.CreateCheckpointRequest(
                parent=session.name, checkpoint_id="round_1", checkpoint=pb.Checkpoint(payload=b"honest state")
            )
        )
        session_id = session.name.removeprefix("sessions/")
        await asyncio.to_thread(_tamper, settings, session_id)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await control.GetCheckpoint(pb.GetCheckpointRequest(name=created.name))
        assert error_report(caught.value).code == grpc.StatusCode.DATA_LOSS


def _tamper(settings, session_id: str) -> None:
    statement = "UPDATE checkpoints SET data = {p} WHERE session_id = {p}"
    if settings.database_url is None:
        with contextlib.closing(sqlite3.connect(settings.sqlite_path())) as conn, conn:
            conn.execute(statement.format(p="?"), (b"forged state", session_id))
    else:
        with psycopg.connect(settings.database_url.get_secret_value()) as conn:
            conn.execute(statement.format(p="%s"), (b"forged state", session_id))
