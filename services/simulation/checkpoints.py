"""World states in control: the session check, storing each round's world, loading one to resume."""

from __future__ import annotations

from google.protobuf.message import DecodeError
from tinytroupe_mesh_api.common.v1 import agent_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2
from tinytroupe_mesh_api.simulation.v1 import simulation_pb2

from services.common.control_client import ControlClient, content_type_of
from services.engine.simulation import WorldState
from services.runtime.errors import FailedPrecondition
from services.simulation.convert import PERSONA_DESCRIPTION_CHARS, world_from_proto

WORLD_STATE_CONTENT_TYPE = content_type_of(simulation_pb2.WorldState())


def _comparable(world: simulation_pb2.WorldState) -> bytes:
    """The world without its usage: two runs that reached the same state by model or cache compare equal."""
    copy = simulation_pb2.WorldState()
    copy.CopyFrom(world)
    copy.ClearField("usage")
    return copy.SerializeToString(deterministic=True)


class WorldCheckpoints:
    """Control's sessions and checkpoints as the simulation needs them; control's errors pass through."""

    def __init__(self, control: ControlClient) -> None:
        self.control = control

    async def require_active_session(self, session: str) -> None:
        await self.control.require_active_session(session, "a simulation")

    async def store(self, session: str, checkpoint_id: str, world: simulation_pb2.WorldState, round_number: int) -> str:
        """Stores the world as `checkpoint_id` (annotated with its round, and a study plan's step); the same
        world already stored there (reached again by a replay through the cache) is accepted as it is.
        Returns the checkpoint's name."""

        def same_world(existing: control_pb2.Checkpoint) -> bool:
            return existing.content_type == WORLD_STATE_CONTENT_TYPE and _comparable(
                simulation_pb2.WorldState.FromString(existing.payload)
            ) == _comparable(world)

        return await self.control.store_message(
            session, checkpoint_id, world, annotations=_annotations(world, round_number), same=same_world
        )

    async def load(
        self,
        name: str,
        persona_chars: int = PERSONA_DESCRIPTION_CHARS,
    ) -> tuple[simulation_pb2.WorldState, WorldState, dict[str, agent_pb2.Agent]]:
        """The world stored as checkpoint `name`: as stored, as the engine's state (personas rendered within
        `persona_chars`), and its agents by name."""
        checkpoint = await self.control.get_checkpoint(name)
        if checkpoint.content_type != WORLD_STATE_CONTENT_TYPE:
            raise FailedPrecondition(
                "CHECKPOINT_NOT_A_WORLD_STATE",
                f"checkpoint {checkpoint.name} holds {checkpoint.content_type or 'an untyped payload'}, "
                f"not a simulation's world state ({WORLD_STATE_CONTENT_TYPE})",
                subject=checkpoint.name,
            )
        try:
            stored = simulation_pb2.WorldState.FromString(checkpoint.payload)
            world, base_agents = world_from_proto(stored, persona_chars)
        except (DecodeError, ValueError, KeyError) as error:
            raise FailedPrecondition(
                "CHECKPOINT_UNREADABLE",
                f"checkpoint {checkpoint.name} does not hold a valid world state: {error}",
                subject=checkpoint.name,
            ) from None
        return stored, world, base_agents


def _annotations(world: simulation_pb2.WorldState, round_number: int) -> dict[str, str]:
    annotations = {"round": str(round_number)}
    if world.step:
        annotations |= {"step": str(world.step), "step_round": str(world.step_rounds_completed)}
    return annotations
