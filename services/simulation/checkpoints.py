"""World states in control: the session check, storing each round's world, loading one to resume."""

from __future__ import annotations

import grpc
from google.protobuf.message import DecodeError
from tinytroupe.common.v1 import agent_pb2
from tinytroupe.control.v1 import control_pb2, control_pb2_grpc
from tinytroupe.simulation.v1 import simulation_pb2

from services.engine.simulation import WorldState
from services.runtime.errors import DownstreamError, FailedPrecondition
from services.simulation.convert import world_from_proto

WORLD_STATE_CONTENT_TYPE = "application/x-protobuf; type=tinytroupe.simulation.v1.WorldState"
COMPLETE_CHECKPOINT_ID = "simulation_complete"


def round_checkpoint_id(round_number: int) -> str:
    return f"round_{round_number}"


def _comparable(world: simulation_pb2.WorldState) -> bytes:
    """The world without its usage: two runs that reached the same state by model or cache compare equal."""
    copy = simulation_pb2.WorldState()
    copy.CopyFrom(world)
    copy.ClearField("usage")
    return copy.SerializeToString(deterministic=True)


class WorldCheckpoints:
    """Control's sessions and checkpoints as the simulation needs them; control's errors pass through."""

    def __init__(self, control: control_pb2_grpc.SimulationControlServiceStub, timeout_s: float = 30.0) -> None:
        self.control = control
        self.timeout_s = timeout_s

    async def require_active_session(self, session: str) -> None:
        found = await self._call(self.control.GetSession, control_pb2.GetSessionRequest(name=session))
        if found.state != control_pb2.Session.STATE_ACTIVE:
            raise FailedPrecondition("SESSION_NOT_ACTIVE", f"session {session} is "
                                     f"{control_pb2.Session.State.Name(found.state)}; a simulation needs an active "
                                     "session", subject=session)

    async def store(self, session: str, checkpoint_id: str, world: simulation_pb2.WorldState,
                    round_number: int) -> str:
        """Stores the world as `checkpoint_id`; the same world already stored there (reached again by a
        replay through the cache) is accepted as it is. Returns the checkpoint's name."""
        request = control_pb2.CreateCheckpointRequest(
            parent=session, checkpoint_id=checkpoint_id,
            checkpoint=control_pb2.Checkpoint(payload=world.SerializeToString(deterministic=True),
                                              content_type=WORLD_STATE_CONTENT_TYPE,
                                              annotations={"round": str(round_number)}))
        try:
            stored = await self.control.CreateCheckpoint(request, timeout=self.timeout_s)
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.ALREADY_EXISTS:
                raise DownstreamError(error) from None
            existing = await self._call(self.control.GetCheckpoint, control_pb2.GetCheckpointRequest(
                name=f"{session}/checkpoints/{checkpoint_id}"))
            if existing.content_type != WORLD_STATE_CONTENT_TYPE or \
                    _comparable(simulation_pb2.WorldState.FromString(existing.payload)) != _comparable(world):
                raise DownstreamError(error) from None
            return existing.name
        return stored.name

    async def load(self, name: str) -> tuple[simulation_pb2.WorldState, WorldState, dict[str, agent_pb2.Agent]]:
        """The world stored as checkpoint `name`: as stored, as the engine's state, and its agents by name."""
        checkpoint = await self._call(self.control.GetCheckpoint, control_pb2.GetCheckpointRequest(name=name))
        if checkpoint.content_type != WORLD_STATE_CONTENT_TYPE:
            raise FailedPrecondition(
                "CHECKPOINT_NOT_A_WORLD_STATE",
                f"checkpoint {checkpoint.name} holds {checkpoint.content_type or 'an untyped payload'}, "
                f"not a simulation's world state ({WORLD_STATE_CONTENT_TYPE})", subject=checkpoint.name)
        try:
            stored = simulation_pb2.WorldState.FromString(checkpoint.payload)
            world, base_agents = world_from_proto(stored)
        except (DecodeError, ValueError, KeyError) as error:
            raise FailedPrecondition("CHECKPOINT_UNREADABLE", f"checkpoint {checkpoint.name} does not hold a valid "
                                     f"world state: {error}", subject=checkpoint.name) from None
        return stored, world, base_agents

    async def _call(self, method, request):
        try:
            return await method(request, timeout=self.timeout_s)
        except grpc.aio.AioRpcError as error:
            raise DownstreamError(error) from None
