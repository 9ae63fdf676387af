"""Fixtures of the polyglot tests: the Node.js client with its pinned dependencies.

The mesh they call is the suite's `mesh` fixture (tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE_CLIENT = ROOT / "clients" / "node"


@pytest.fixture(scope="session")
def node_client() -> Path:
    """clients/node with its dependencies installed: `npm ci` when they are missing or stale."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are needed for the polyglot tests (Node.js 20 or later)")
    installed = NODE_CLIENT / "node_modules" / ".package-lock.json"
    lock = NODE_CLIENT / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_CLIENT, check=True, timeout=300
        )
    return NODE_CLIENT


async def run_json(*argv: str, timeout: float = 180.0) -> tuple[int, dict, str]:
    """Runs a client program without blocking the mesh's event loop; returns its exit status, the JSON
    it printed on stdout and its stderr."""
    process = await asyncio.create_subprocess_exec(
        *argv, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    try:
        output = json.loads(stdout)
    except json.JSONDecodeError:
        pytest.fail(f"{argv} printed no JSON (exit {process.returncode}):\n{stdout.decode()}\n{stderr.decode()}")
    return process.returncode, output, stderr.decode()
