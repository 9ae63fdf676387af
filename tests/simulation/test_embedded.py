"""End to end on the embedded model (Gemma 3 270M behind llama-cpp-python's server): the real code path."""

from __future__ import annotations

import grpc
import pytest
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2, control_pb2_grpc
from tinytroupe_mesh_api.simulation.v1 import simulation_pb2_grpc

from services.control.service import DEFINITION as CONTROL
from services.runtime.config import LLMSettings, MeshSettings
from services.runtime.testing import serving
from services.simulation.service import DEFINITION as SIMULATION
from tests.simulation.mesh import run_request

pytest.importorskip("llama_cpp")

AGENT_ACTIONS = {study_pb2.ACTION_TYPE_THINK, study_pb2.ACTION_TYPE_TALK, study_pb2.ACTION_TYPE_DONE}


@pytest.mark.embedded
@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_focus_group_on_the_embedded_model(tmp_path):
    from services.llm.embedded import EmbeddedModelServer

    names = ["Lisa Carter", "Oscar Diaz", "Marcos Lima"]
    async with EmbeddedModelServer(log_path=tmp_path / "model.log") as model:
        llm = model.llm_settings(LLMSettings(max_tokens=160, timeout_s=120.0, max_retries=1))
        async with serving(CONTROL, MeshSettings(data_dir=tmp_path)) as control_address:
            settings = MeshSettings(data_dir=tmp_path, control_address=control_address, llm=llm)
            async with (
                serving(SIMULATION, settings) as address,
                grpc.aio.insecure_channel(control_address) as control_channel,
                grpc.aio.insecure_channel(address) as channel,
            ):
                control = control_pb2_grpc.SimulationControlServiceStub(control_channel)
                session = await control.BeginSession(
                    control_pb2.BeginSessionRequest(session=control_pb2.Session(display_name="embedded focus group")),
                    timeout=10,
                )
                request = run_request(session.name, names, rounds=2, max_actions_per_turn=2)
                events = [
                    event
                    async for event in simulation_pb2_grpc.SimulationServiceStub(channel).RunSimulation(
                        request, timeout=240
                    )
                ]

    finished = events[-1].finished
    assert finished.results.rounds_completed == 2
    assert finished.participants.total == 3 and finished.participants.successful >= 2
    acted = [i for i in finished.results.interactions if i.round > 0]
    assert acted and {i.action for i in acted} <= AGENT_ACTIONS
    assert {i.agent_name for i in acted} <= set(names)
    assert all(i.content for i in acted if i.action != study_pb2.ACTION_TYPE_DONE)
    assert finished.usage.calls >= 6 - finished.participants.failed * 2
    assert finished.checkpoint.endswith("/checkpoints/simulation_complete")
