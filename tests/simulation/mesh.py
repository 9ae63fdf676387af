"""Real servers for the simulation's integration tests: control (SQLite), simulation, the fake LLM."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
from tinytroupe_mesh_api.common.v1 import agent_pb2, study_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2, control_pb2_grpc
from tinytroupe_mesh_api.simulation.v1 import simulation_pb2, simulation_pb2_grpc

from services.control.service import DEFINITION as CONTROL
from services.runtime.config import LLMSettings, MeshSettings
from services.runtime.testing import serving
from services.simulation.service import DEFINITION as SIMULATION
from tests.fake_llm.server import FakeLLMServer
from tests.fake_llm.settings import client_settings
from tests.simulation.support import AGENT_FIXTURES


def spec_named(name: str, template: str = "Lisa") -> str:
    spec = json.loads((AGENT_FIXTURES / f"{template}.agent.json").read_text())
    spec["persona"]["name"] = name
    return json.dumps(spec)


def agents_named(*names: str) -> list[agent_pb2.Agent]:
    return [agent_pb2.Agent(agent_id=f"agents/{index}", spec_json=spec_named(name)) for index, name in enumerate(names)]


def run_request(
    session: str,
    names: list[str],
    *,
    rounds: int = 2,
    environment: int = study_pb2.ENVIRONMENT_TYPE_FOCUS_GROUP,
    stream_actions: bool = True,
    **config,
) -> simulation_pb2.RunSimulationRequest:
    return simulation_pb2.RunSimulationRequest(
        session=session,
        agents=agents_named(*names),
        stream_actions=stream_actions,
        config=study_pb2.SimulationConfig(
            environment_type=environment,
            rounds=rounds,
            enable_memory=True,
            enable_thinking=True,
            broadcast_mode=True,
            **config,
        ),
        stimulus=study_pb2.Stimulus(
            type="product_concept",
            content="A kettle that boils water with sunlight.",
            context="A consumer focus group about kitchen products.",
        ),
    )


@dataclass
class Mesh:
    fake: FakeLLMServer
    settings: MeshSettings
    control: control_pb2_grpc.SimulationControlServiceStub
    simulation: simulation_pb2_grpc.SimulationServiceStub

    async def begin_session(self, cache_namespace: str = "") -> str:
        session = await self.control.BeginSession(
            control_pb2.BeginSessionRequest(
                session=control_pb2.Session(display_name="simulation test", cache_namespace=cache_namespace)
            ),
            timeout=10,
        )
        return session.name

    @contextlib.asynccontextmanager
    async def another_simulation_server(self) -> AsyncIterator[simulation_pb2_grpc.SimulationServiceStub]:
        """A fresh simulation server (own LLM client) on the same control and model, as another replica."""
        async with serving(SIMULATION, self.settings) as address, grpc.aio.insecure_channel(address) as channel:
            yield simulation_pb2_grpc.SimulationServiceStub(channel)


def llm_settings(fake: FakeLLMServer) -> LLMSettings:
    return client_settings(fake, max_concurrency=256)


@contextlib.asynccontextmanager
async def running_mesh(data_dir: Path, latency_s: float = 0.05) -> AsyncIterator[Mesh]:
    async with (
        FakeLLMServer(latency=latency_s) as fake,
        serving(CONTROL, MeshSettings(data_dir=data_dir)) as control_address,
    ):
        settings = MeshSettings(
            data_dir=data_dir, control_address=control_address, llm=llm_settings(fake), call_timeout_s=30.0
        )
        async with (
            serving(SIMULATION, settings) as simulation_address,
            grpc.aio.insecure_channel(control_address) as control_channel,
            grpc.aio.insecure_channel(simulation_address) as simulation_channel,
        ):
            yield Mesh(
                fake,
                settings,
                control_pb2_grpc.SimulationControlServiceStub(control_channel),
                simulation_pb2_grpc.SimulationServiceStub(simulation_channel),
            )


def unique_namespace() -> str:
    return f"ns-{uuid.uuid4().hex[:12]}"
