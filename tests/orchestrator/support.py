"""Helpers of the orchestrator tests: stubs on a mesh, study requests, waiting for operations."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
from google.longrunning import operations_pb2, operations_pb2_grpc
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2, control_pb2_grpc
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2, orchestrator_pb2_grpc

from services.common.control_client import ControlClient
from services.mesh.in_process import MeshAddresses, in_process_mesh
from services.orchestrator.settings import StudySettings
from services.orchestrator.study_file import load_study_file
from services.runtime.clients import open_channel
from services.runtime.config import LLMSettings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
Mode = orchestrator_pb2.Participants.Mode


@dataclass
class Stubs:
    orchestrator: orchestrator_pb2_grpc.OrchestratorServiceStub
    operations: operations_pb2_grpc.OperationsStub
    control: control_pb2_grpc.SimulationControlServiceStub
    channels: list[grpc.aio.Channel]
    control_client: ControlClient

    @classmethod
    def connect(cls, addresses: MeshAddresses, orchestrator_address: str | None = None) -> Stubs:
        orchestrator = open_channel(orchestrator_address or addresses.orchestrator)
        control = open_channel(addresses.control)
        return cls(
            orchestrator_pb2_grpc.OrchestratorServiceStub(orchestrator),
            operations_pb2_grpc.OperationsStub(orchestrator),
            control_pb2_grpc.SimulationControlServiceStub(control),
            [orchestrator, control],
            ControlClient(control),
        )

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close()

    async def wait(self, name: str, timeout_s: float = 60.0) -> operations_pb2.Operation:
        request = operations_pb2.WaitOperationRequest(name=name)
        request.timeout.FromMilliseconds(int(timeout_s * 1000))
        operation = await self.operations.WaitOperation(request, timeout=timeout_s + 5)
        assert operation.done, f"{name} not done after {timeout_s} s"
        return operation

    async def result(self, name: str, timeout_s: float = 60.0) -> orchestrator_pb2.StudyResult:
        operation = await self.wait(name, timeout_s)
        assert not operation.HasField("error"), operation.error
        result = orchestrator_pb2.StudyResult()
        assert operation.response.Unpack(result)
        return result

    async def session(self, operation_name: str) -> control_pb2.Session:
        return await self.control.GetSession(
            control_pb2.GetSessionRequest(name=operation_name.replace("operations/", "sessions/"))
        )

    async def checkpoint_ids(self, operation_name: str) -> list[str]:
        page = await self.control.ListCheckpoints(
            control_pb2.ListCheckpointsRequest(
                parent=operation_name.replace("operations/", "sessions/"), page_size=1000
            )
        )
        return [checkpoint.name.rsplit("/", 1)[-1] for checkpoint in page.checkpoints]


def example(name: str, **changes) -> orchestrator_pb2.RunStudyRequest:
    """An example study with a fresh request id and cache namespace."""
    study = load_study_file(EXAMPLES / name)
    study.request_id = uuid.uuid4().hex
    study.session_config.cache_file = f"test-{uuid.uuid4().hex[:12]}"
    for path, value in changes.items():
        target = study
        *parents, leaf = path.split("__")
        for parent in parents:
            target = getattr(target, parent)
        setattr(target, leaf, value)
    return study


def agent_spec(name: str, occupation: str = "teacher") -> str:
    return json.dumps(
        {
            "type": "TinyPerson",
            "persona": {
                "name": name,
                "age": 40,
                "occupation": {"title": occupation, "description": f"You work as a {occupation}."},
                "personality": {"traits": ["You are curious."]},
            },
        }
    )


def small_study(
    names: tuple[str, ...] = ("Ana", "Ben"),
    rounds: int = 2,
    stimulus: str = "Would you buy a solar kettle?",
    environment: int = study_pb2.ENVIRONMENT_TYPE_FOCUS_GROUP,
) -> orchestrator_pb2.RunStudyRequest:
    return orchestrator_pb2.RunStudyRequest(
        request_id=uuid.uuid4().hex,
        session_config=orchestrator_pb2.SessionConfig(
            session_name="test study", cache_file=f"test-{uuid.uuid4().hex[:12]}"
        ),
        participants=orchestrator_pb2.Participants(
            mode=Mode.MODE_FROM_AGENT, specifications=[agent_spec(name) for name in names]
        ),
        simulation_config=study_pb2.SimulationConfig(
            environment_type=environment,
            rounds=rounds,
            enable_memory=True,
            broadcast_mode=True,
            max_actions_per_turn=2,
        ),
        stimulus=study_pb2.Stimulus(type="question", content=stimulus),
        extraction_config=study_pb2.ExtractionConfig(
            extract_results=True,
            extraction_objective="Find each participant's opinion.",
            fields=["would_buy", "rating"],
            fields_hints={"would_buy": "yes or no", "rating": "integer 1-10"},
            statistical_analysis=True,
        ),
    )


@contextlib.asynccontextmanager
async def mesh_on(fake, tmp_path: Path, **llm_options) -> AsyncIterator[Stubs]:
    """A mesh of its own (in this process) on the fake model `fake`, with short retries, no quotas and no
    recovery loop; `llm_options` change the LLM client's settings."""
    llm = LLMSettings(
        base_url=fake.base_url,
        model=fake.config.model,
        response_format="json_schema",
        **{"backoff_base_s": 0.01, "backoff_max_s": 0.1, **llm_options},
    )
    study = StudySettings(
        lease_ttl_s=5.0,
        recovery_interval_s=0,
        watch_poll_interval_s=0.1,
        max_running_per_tenant=0,
        creation_rate_per_minute=0,
    )
    async with in_process_mesh(tmp_path, llm, study) as addresses:
        stubs = Stubs.connect(addresses)
        try:
            yield stubs
        finally:
            await stubs.close()
