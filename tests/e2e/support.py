"""Processes of the end-to-end tests: the fake LLM server and a local mesh as child processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

from services.mesh.launcher import LocalMesh, free_port
from services.mesh.processes import ChildProcess, http_ready
from services.runtime.config import DEFAULT_PORTS


@contextlib.asynccontextmanager
async def fake_llm_process(log_dir: Path, latency_s: float) -> AsyncIterator[str]:
    """`python -m tests.fake_llm` on a free port; yields its base URL."""
    port = free_port()
    fake = ChildProcess(
        name="fake-llm",
        command=[sys.executable, "-m", "tests.fake_llm", "--port", str(port), "--latency", str(latency_s)],
        environment=_environment(),
        log_path=log_dir / "fake-llm.log",
    )
    await fake.start()
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 30
        while not await http_ready(f"{base_url}/models"):
            assert not fake.exited() and time.monotonic() < deadline, fake.log_tail()
            await asyncio.sleep(0.1)
        yield base_url
    finally:
        await fake.stop(grace_s=3)


@contextlib.asynccontextmanager
async def subprocess_mesh(data_dir: Path, llm_base_url: str, **environment: str) -> AsyncIterator[LocalMesh]:
    """The six servers as child processes on free ports, against `llm_base_url`."""
    mesh = LocalMesh(
        data_dir=data_dir,
        ports=dict.fromkeys(DEFAULT_PORTS, 0),
        llm_base_url=llm_base_url,
        extra_environment={
            "LLM_MODEL": "fake-model",
            "LLM_RESPONSE_FORMAT": "json_schema",
            "LLM_BACKOFF_BASE_S": "0.01",
            "LLM_BACKOFF_MAX_S": "0.1",
            "LOG_LEVEL": "INFO",
            **environment,
        },
    )
    await mesh.start()
    try:
        yield mesh
    finally:
        await mesh.stop(grace_s=5)


async def fake_stats(base_url: str) -> dict:
    async with aiohttp.ClientSession() as http, http.get(base_url.replace("/v1", "/_fake/stats")) as response:
        return await response.json()


async def reset_fake(base_url: str) -> None:
    """Forgets the fake's request history and restarts its answers: the same requests get the same answers."""
    root = base_url.replace("/v1", "")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{root}/_fake/config", json={"seed": 0}) as response:
            assert response.status == 200
        async with http.post(f"{root}/_fake/reset") as response:
            assert response.status == 200


def _environment() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key != "PORT"}
