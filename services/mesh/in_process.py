"""The six real servers in this process on 127.0.0.1 and free ports, for integration tests."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from services.orchestrator.service import make_definition
from services.orchestrator.settings import StudySettings
from services.runtime.config import LLMSettings, MeshSettings
from services.runtime.testing import serving

INNER_SERVICES = ("population", "content", "extraction", "simulation")


@dataclass(frozen=True)
class MeshAddresses:
    orchestrator: str
    control: str
    population: str
    simulation: str
    content: str
    extraction: str

    def settings(self, base: MeshSettings | None = None) -> MeshSettings:
        """Settings whose service addresses point at this mesh."""
        return (base or MeshSettings()).model_copy(
            update={f"{name}_address": getattr(self, name) for name in MeshAddresses.__dataclass_fields__}
        )


@contextlib.asynccontextmanager
async def in_process_mesh(
    data_dir: Path, llm: LLMSettings, study: StudySettings | None = None, base: MeshSettings | None = None
) -> AsyncIterator[MeshAddresses]:
    """Serves control (SQLite under `data_dir`), the four inner services and the orchestrator."""
    settings = (base or MeshSettings()).model_copy(update={"data_dir": data_dir, "llm": llm, "metrics_port": 0})
    async with contextlib.AsyncExitStack() as stack:
        addresses = {"control": await stack.enter_async_context(serving(_definition("control"), settings))}
        settings = settings.model_copy(update={"control_address": addresses["control"]})
        for name in INNER_SERVICES:
            addresses[name] = await stack.enter_async_context(serving(_definition(name), settings))
        settings = settings.model_copy(update={f"{name}_address": address for name, address in addresses.items()})
        public = settings.model_copy(update={"public_service": True})  # it alone takes callers' tokens
        addresses["orchestrator"] = await stack.enter_async_context(serving(make_definition(study), public))
        yield MeshAddresses(**addresses)


def _definition(name: str):
    return importlib.import_module(f"services.{name}.service").DEFINITION
