"""Stubs on the suite's in-process mesh, in the session's event loop where the mesh lives."""

from __future__ import annotations

import pytest_asyncio

from tests.orchestrator.support import Stubs


@pytest_asyncio.fixture(loop_scope="session")
async def stubs(mesh):
    stubs = Stubs.connect(mesh.addresses)
    yield stubs
    await stubs.close()
