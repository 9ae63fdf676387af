"""Fixtures of the control service's tests: a real gRPC server on SQLite or on PostgreSQL.

Every test that takes `control` runs twice, once per backend. The PostgreSQL runs share one fresh
schema per test module (dropped afterwards); an unreachable server fails them instead of skipping.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from tinytroupe_mesh_api.control.v1 import control_pb2_grpc

from services.control.storage.base import Storage
from services.control.storage.postgres import PostgresStorage
from services.control.storage.sqlite import SqliteStorage
from services.runtime.config import MeshSettings
from tests.control.helpers import control_server

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def schema_url(schema: str) -> str:
    return f"{POSTGRES_ADMIN_URL}?options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(scope="module")
def postgres_schema() -> Iterator[str]:
    """A fresh, empty schema of database `test`, dropped with everything in it afterwards."""
    schema = f"control_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Callable[..., MeshSettings]:
    """Settings of a control server on the test's backend; keyword arguments override fields."""
    database_url = schema_url(request.getfixturevalue("postgres_schema")) if backend == "postgres" else None

    def make(**overrides: object) -> MeshSettings:
        fields = {
            "data_dir": tmp_path / "data",
            "database_url": database_url,
            "metrics_port": 0,
            "log_level": "WARNING",
            **overrides,
        }
        return MeshSettings(**fields)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., MeshSettings]) -> MeshSettings:
    return make_settings()


@pytest.fixture
async def control(settings: MeshSettings) -> AsyncIterator[control_pb2_grpc.SimulationControlServiceStub]:
    """A stub of a control server running in this process on the test's backend."""
    async with control_server(settings) as stub:
        yield stub


@pytest.fixture
def fresh_schema() -> Iterator[str]:
    """A fresh, empty schema of database `test` for one test, dropped afterwards."""
    schema = f"control_storage_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield schema
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=BACKENDS)
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    """An opened storage of either backend, below the servicer."""
    if request.param == "sqlite":
        opened: Storage = SqliteStorage(tmp_path / "control.sqlite3")
    else:
        opened = PostgresStorage(schema_url(request.getfixturevalue("fresh_schema")))
    await opened.open()
    yield opened
    await opened.close()
