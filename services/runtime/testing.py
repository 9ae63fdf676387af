"""Starting real servers in tests: on 127.0.0.1 and a free port, through the same bootstrap."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from services.runtime.config import MeshSettings
from services.runtime.server import ServiceDefinition, started_server


@contextlib.asynccontextmanager
async def serving(definition: ServiceDefinition, settings: MeshSettings | None = None) -> AsyncIterator[str]:
    """Serves `definition` in this process on 127.0.0.1:0 and yields its address."""
    settings = (settings or MeshSettings()).model_copy(update={"host": "127.0.0.1", "shutdown_grace_s": 0.5})
    async with started_server(definition, settings, port=0) as running:
        yield f"127.0.0.1:{running.port}"
