"""The simulation of a study: run it, resume it from a round checkpoint, or read its finished state."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import grpc
import structlog
from tinytroupe_mesh_api.common.v1 import agent_pb2, study_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2
from tinytroupe_mesh_api.simulation.v1 import simulation_pb2

from services.common.names import checkpoint_name, last_segment
from services.common.plan_checks import rounds_total
from services.orchestrator.checkpoints import (
    SIMULATION_COMPLETE,
    StudyCheckpoints,
    latest_round,
    round_checkpoint_id,
)
from services.orchestrator.downstream import Downstream
from services.orchestrator.fan_out import splits_simulation
from services.orchestrator.fan_out_simulation import MAX_STREAM_ATTEMPTS, STREAM_RETRY_DELAY_S, SplitSimulation
from services.orchestrator.progress import Phase, ProgressTracker
from services.runtime.context import propagated_metadata
from services.runtime.errors import FailedPrecondition

log = structlog.get_logger("simulation")


@dataclass
class SimulationOutcome:
    results: study_pb2.SimulationResults
    agents: list[agent_pb2.Agent]
    usage: study_pb2.TokenUsage
    failed_agents: dict[str, str] = field(default_factory=dict)
    """Agents that failed in the simulation, with why."""


class SimulationStage:
    def __init__(
        self,
        downstream: Downstream,
        checkpoints: StudyCheckpoints,
        progress: ProgressTracker,
        *,
        long_call_timeout_s: float,
        request_suffix: str = "",
        stop_after_round: Callable[[], Awaitable[bool]] | None = None,
        fan_out_chunk: int = 0,
    ):
        self.fan_out_chunk = fan_out_chunk
        """Most agents of one world: a larger survey or interview runs as several (fan_out.py); 0: one."""
        self.stop_after_round = stop_after_round
        """Asked after each round's checkpoint: True ends the simulation there (its budget is spent)."""
        self.downstream = downstream
        self.checkpoints = checkpoints
        self.progress = progress
        self.long_call_timeout_s = long_call_timeout_s
        self.request_suffix = request_suffix
        """Appended to the request ids of this run's calls: a retried study asks again, not for the answer
        its failed run got."""

    async def run(
        self,
        request: orchestrator_pb2.RunStudyRequest,
        agents: list[agent_pb2.Agent],
        checkpoint_ids: list[str],
        from_round: int,
    ) -> SimulationOutcome:
        """Runs the rounds not yet done: all of them, or those after `round_{from_round}`. A stream cut
        by an unavailable simulation server (a restart, a connection reaching its maximum age) is
        resumed from the latest round checkpoint."""
        self.progress.update(
            phase=Phase.PHASE_SIMULATING,
            rounds_total=rounds_total(request.steps, request.simulation_config),
            steps_total=len(request.steps),
            agents_total=len(agents),
            round=from_round,
            agents_done=0,
            message=f"resuming after round {from_round}" if from_round else "simulating",
        )
        if SIMULATION_COMPLETE not in checkpoint_ids and splits_simulation(request, len(agents), self.fan_out_chunk):
            return outcome_of_world(await SplitSimulation(self).run(request, agents, checkpoint_ids))
        if (
            SIMULATION_COMPLETE not in checkpoint_ids
            and self.stop_after_round is not None
            and await self.stop_after_round()
        ):
            if from_round:
                return await self.outcome_at(round_checkpoint_id(from_round))
            return SimulationOutcome(study_pb2.SimulationResults(), agents, study_pb2.TokenUsage())
        attempt = 1
        while SIMULATION_COMPLETE not in checkpoint_ids:
            try:
                return await self._stream(request, agents, from_round)
            except grpc.aio.AioRpcError as error:
                if error.code() != grpc.StatusCode.UNAVAILABLE or attempt == MAX_STREAM_ATTEMPTS:
                    raise
                log.warning("simulation_stream_cut", session=self.checkpoints.session, attempt=attempt)
            await asyncio.sleep(STREAM_RETRY_DELAY_S * attempt)
            attempt += 1
            checkpoint_ids = await self.checkpoints.ids()
            from_round = latest_round(checkpoint_ids)
        return await self.finished_outcome()

    async def _stream(
        self, request: orchestrator_pb2.RunStudyRequest, agents: list[agent_pb2.Agent], from_round: int
    ) -> SimulationOutcome:
        failed: dict[str, str] = {}
        if from_round:
            checkpoint_id = round_checkpoint_id(from_round)
            resumed_state = await self.checkpoints.load(checkpoint_id, simulation_pb2.WorldState)
            failed = _failures_of(resumed_state)
            stream = self.downstream.simulation.ResumeSimulation(
                simulation_pb2.ResumeSimulationRequest(
                    checkpoint=checkpoint_name(self.checkpoints.session, checkpoint_id), stream_actions=True
                ),
                timeout=self.long_call_timeout_s,
                metadata=propagated_metadata(),
            )
        else:
            simulation_request = simulation_pb2.RunSimulationRequest(
                session=self.checkpoints.session,
                agents=agents,
                config=request.simulation_config,
                steps=request.steps,
                stream_actions=True,
                request_id=f"{last_segment(self.checkpoints.session)}-simulation{self.request_suffix}",
            )
            if not request.steps:
                simulation_request.stimulus.CopyFrom(request.stimulus)
            stream = self.downstream.simulation.RunSimulation(
                simulation_request,
                timeout=self.long_call_timeout_s,
                metadata=propagated_metadata(),
            )
        acting: set[str] = set()
        async for event in stream:
            kind = event.WhichOneof("event")
            if kind == "round_started":
                acting.clear()
                started = event.round_started
                self.progress.update(
                    round=started.round,
                    step=started.step,
                    step_round=started.step_round,
                    agents_done=0,
                    message=f"step {started.step} round {started.step_round}"
                    if started.step
                    else f"round {started.round}",
                )
            elif kind == "agent_action":
                acting.add(event.agent_action.agent_name)
                self.progress.update(agents_done=len(acting))
            elif kind == "agent_failed":
                failed[event.agent_failed.agent_name] = event.agent_failed.reason
                self.progress.update(agents_failed=len(failed))
            elif kind == "round_checkpointed":
                done = event.round_checkpointed
                self.progress.update(
                    round=done.round, agents_done=done.agents_succeeded, message=f"round {done.round} done"
                )
                if done.round < rounds_total(request.steps, request.simulation_config) and self.stop_after_round:
                    if await self.stop_after_round():
                        stream.cancel()
                        return await self.outcome_at(round_checkpoint_id(done.round))
            elif kind == "finished":
                finished = event.finished
                return SimulationOutcome(finished.results, list(finished.agents), finished.usage, failed)
        raise FailedPrecondition("SIMULATION_INCOMPLETE", "the simulation stream ended without a result")

    async def finished_outcome(self) -> SimulationOutcome:
        """The outcome stored in `simulation_complete`: the world state after the last round."""
        return await self.outcome_at(SIMULATION_COMPLETE)

    async def outcome_at(self, checkpoint_id: str) -> SimulationOutcome:
        """The outcome of the world state stored in `checkpoint_id`."""
        return outcome_of_world(await self.checkpoints.load(checkpoint_id, simulation_pb2.WorldState))


def outcome_of_world(state: simulation_pb2.WorldState) -> SimulationOutcome:
    """The outcome a world state holds: its transcript, agents, usage and failures."""
    return SimulationOutcome(
        results=study_pb2.SimulationResults(
            interactions=state.transcript,
            rounds_completed=state.rounds_completed,
            total_interactions=len(state.transcript),
        ),
        agents=list(state.agents),
        usage=state.usage,
        failed_agents=_failures_of(state),
    )


def _failures_of(state: simulation_pb2.WorldState) -> dict[str, str]:
    return {name: f"failed in round {round_}" for name, round_ in state.failed_agents.items()}
