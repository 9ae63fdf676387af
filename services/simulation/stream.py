"""One simulation stream: the engine's events as protos, each round's world checkpointed in control.

A run with a `request_id` remembers its `finished` event without the transcript and agents
(`remembered_part`): its retry rebuilds the event from the `simulation_complete` world (`replayed_finish`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Protocol

import structlog
from tinytroupe_mesh_api.common.v1 import agent_pb2, study_pb2
from tinytroupe_mesh_api.simulation.v1 import simulation_pb2

from services.common.checkpoint_ids import SIMULATION_COMPLETE, round_checkpoint_id
from services.common.usage import sum_usage, usage_between
from services.engine.llm_port import StructuredLLM
from services.engine.simulation import (
    ActionRecorded,
    AgentFailed,
    RoundCompleted,
    RoundStarted,
    Simulation,
    SimulationEvent,
    SimulationFinished,
    TooManyAgentsFailed,
    TurnSettings,
    WorldState,
)
from services.llm import TokenUsage
from services.runtime.errors import Aborted
from services.simulation.checkpoints import WorldCheckpoints
from services.simulation.convert import interaction_to_proto, turn_quality_report, world_to_proto

log = structlog.get_logger("simulation")


class MeteredLLM(StructuredLLM, Protocol):
    def usage(self, session: str) -> TokenUsage: ...


class SimulationStream:
    """Runs the remaining rounds of `world` in `session`; `usage_so_far` is what earlier streams spent."""

    def __init__(
        self,
        llm: MeteredLLM,
        checkpoints: WorldCheckpoints,
        turn_settings: TurnSettings,
        *,
        session: str,
        world: WorldState,
        base_agents: dict[str, agent_pb2.Agent],
        usage_so_far: study_pb2.TokenUsage,
        checkpoint_suffix: str = "",
    ) -> None:
        self.checkpoint_suffix = checkpoint_suffix
        """Appended to the world's checkpoint ids (one of several worlds of a session)."""
        self.llm = llm
        self.checkpoints = checkpoints
        self.turn_settings = turn_settings
        self.session = session
        self.world = world
        self.base_agents = base_agents
        self.usage_so_far = usage_so_far
        self.usage_at_start = llm.usage(session)
        self.round_started_at = time.perf_counter()

    def usage(self) -> study_pb2.TokenUsage:
        """Usage so far; counted from the LLM client's ledger of the session (shared by its concurrent runs)."""
        return sum_usage(self.usage_so_far, usage_between(self.usage_at_start, self.llm.usage(self.session)))

    def world_proto(self) -> simulation_pb2.WorldState:
        world = world_to_proto(self.world, self.base_agents, self.usage())
        world.checkpoint_suffix = self.checkpoint_suffix
        return world

    async def events(self, stream_actions: bool) -> AsyncIterator[simulation_pb2.SimulationEvent]:
        simulation = Simulation(self.world, self.llm, session=self.session, settings=self.turn_settings)
        try:
            async for event in simulation.run():
                message = await self._message(event, stream_actions)
                if message is not None:
                    yield message
        except TooManyAgentsFailed as failure:
            raise Aborted("TOO_MANY_AGENTS_FAILED", f"simulation aborted: {failure}") from None

    async def _message(self, event: SimulationEvent, stream_actions: bool) -> simulation_pb2.SimulationEvent | None:
        match event:
            case RoundStarted(round=round_number, step=step, step_round=step_round):
                self.round_started_at = time.perf_counter()
                return simulation_pb2.SimulationEvent(
                    round_started=simulation_pb2.RoundStarted(round=round_number, step=step, step_round=step_round)
                )
            case ActionRecorded(interaction=interaction):
                if not stream_actions:
                    return None
                return simulation_pb2.SimulationEvent(agent_action=interaction_to_proto(interaction))
            case AgentFailed(round=round_number, agent_name=name, reason=reason):
                return simulation_pb2.SimulationEvent(
                    agent_failed=simulation_pb2.AgentFailed(round=round_number, agent_name=name, reason=reason)
                )
            case RoundCompleted(round=round_number, agents_succeeded=succeeded, agents_failed=failed):
                name = await self.checkpoints.store(
                    self.session,
                    round_checkpoint_id(round_number) + self.checkpoint_suffix,
                    self.world_proto(),
                    round_number,
                )
                log.info(
                    "simulation_round",
                    round=round_number,
                    agents_succeeded=succeeded,
                    agents_failed=failed,
                    duration_ms=round((time.perf_counter() - self.round_started_at) * 1000, 1),
                )
                return simulation_pb2.SimulationEvent(
                    round_checkpointed=simulation_pb2.RoundCheckpointed(
                        round=round_number, checkpoint=name, agents_succeeded=succeeded, agents_failed=failed
                    )
                )
            case SimulationFinished():
                return await self._finished(event)
        raise TypeError(f"unknown simulation event {event!r}")

    async def _finished(self, event: SimulationFinished) -> simulation_pb2.SimulationEvent:
        world = self.world_proto()
        name = await self.checkpoints.store(
            self.session, SIMULATION_COMPLETE + self.checkpoint_suffix, world, event.rounds_completed
        )
        log.info(
            "simulation_finished",
            rounds=event.rounds_completed,
            participants=event.participants_total,
            failed=event.participants_failed,
            model_calls=world.usage.calls,
            cached_calls=world.usage.cached_calls,
        )
        participants = study_pb2.ParticipantCounts(
            total=event.participants_total, successful=event.participants_successful, failed=event.participants_failed
        )
        return finished_event(world, event.rounds_completed, participants, world.usage, name)


def finished_event(
    world: simulation_pb2.WorldState,
    rounds_completed: int,
    participants: study_pb2.ParticipantCounts,
    usage: study_pb2.TokenUsage,
    checkpoint: str,
) -> simulation_pb2.SimulationEvent:
    """The last event of a run: the final world's transcript and agents, with the run's counts."""
    return simulation_pb2.SimulationEvent(
        finished=simulation_pb2.SimulationFinished(
            results=study_pb2.SimulationResults(
                interactions=world.transcript,
                rounds_completed=rounds_completed,
                total_interactions=len(world.transcript),
                turn_quality=turn_quality_report(world),
            ),
            agents=world.agents,
            participants=participants,
            usage=usage,
            checkpoint=checkpoint,
        )
    )


def remembered_part(event: simulation_pb2.SimulationEvent) -> simulation_pb2.SimulationEvent | None:
    """What a run remembers of its events: the `finished` event without the transcript and agents, which
    the `simulation_complete` checkpoint holds."""
    if not event.HasField("finished"):
        return None
    kept = simulation_pb2.SimulationEvent()
    kept.CopyFrom(event)
    kept.finished.results.ClearField("interactions")
    kept.finished.ClearField("agents")
    return kept


async def replayed_finish(
    checkpoints: WorldCheckpoints, remembered: simulation_pb2.SimulationEvent
) -> simulation_pb2.SimulationEvent:
    """The `finished` event of a run that finished before, rebuilt from its final world in control."""
    finished = remembered.finished
    world, _, _ = await checkpoints.load(finished.checkpoint)
    return finished_event(
        world, finished.results.rounds_completed, finished.participants, finished.usage, finished.checkpoint
    )
