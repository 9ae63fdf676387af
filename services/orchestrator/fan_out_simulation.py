"""A survey or interview of many agents run as several worlds at once, one per part of its agents.

Each part is a RunSimulation of its own (request id and checkpoint ids with the part's suffix,
`round_{n}_part_{k}`, `simulation_complete_part_{k}`), so the channel's round_robin sends the parts to
different replicas. A part resumes from its own latest round checkpoint (a restart of the study, or a
stream cut by a replica going away) or is read from its final checkpoint when it had finished. The
parts' final worlds merge into one world, stored as the study's `simulation_complete`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Protocol

import grpc
import structlog
from tinytroupe_mesh_api.common.v1 import agent_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2
from tinytroupe_mesh_api.simulation.v1 import simulation_pb2

from services.common.names import checkpoint_name, last_segment
from services.common.plan_checks import rounds_total
from services.orchestrator.checkpoints import SIMULATION_COMPLETE, StudyCheckpoints, round_checkpoint_id
from services.orchestrator.downstream import Downstream
from services.orchestrator.fan_out import merge_worlds, part_ranges, part_suffix
from services.orchestrator.participants import run_all
from services.orchestrator.progress import ProgressTracker
from services.runtime.context import propagated_metadata
from services.runtime.errors import FailedPrecondition

log = structlog.get_logger("simulation")

MAX_STREAM_ATTEMPTS = 4
"""Tries of a simulation stream (a world, or one part) cut by an unavailable server before the study fails."""
STREAM_RETRY_DELAY_S = 0.5
"""Wait before the n-th retry: n times this."""


class Stage(Protocol):
    """What a split simulation takes from the study's simulation stage."""

    downstream: Downstream
    checkpoints: StudyCheckpoints
    progress: ProgressTracker
    long_call_timeout_s: float
    request_suffix: str
    fan_out_chunk: int
    stop_after_round: Callable[[], Awaitable[bool]] | None


def latest_part_round(ids: list[str], suffix: str) -> int:
    """The highest n of the part's `round_{n}{suffix}` checkpoints, 0 when there is none."""
    pattern = re.compile(rf"^round_(\d+){re.escape(suffix)}$")
    return max((int(match.group(1)) for name in ids if (match := pattern.match(name))), default=0)


class SplitSimulation:
    def __init__(self, stage: Stage):
        self.stage = stage
        self.acting: dict[int, set[str]] = {}
        self.rounds: dict[int, int] = {}

    async def run(
        self, request: orchestrator_pb2.RunStudyRequest, agents: list[agent_pb2.Agent], checkpoint_ids: list[str]
    ) -> simulation_pb2.WorldState:
        """The merged final world (or, when the study's budget stopped the parts, the merged latest worlds)."""
        ranges = part_ranges(len(agents), self.stage.fan_out_chunk)
        outcomes = await run_all(
            [
                self._part(request, agents[first : first + count], index, checkpoint_ids)
                for index, (first, count) in enumerate(ranges)
            ]
        )
        merged = merge_worlds([world for world, _ in outcomes])
        if all(finished for _, finished in outcomes):
            await self.stage.checkpoints.store(
                SIMULATION_COMPLETE,
                merged,
                annotations={"round": str(merged.rounds_completed), "parts": str(len(ranges))},
            )
        log.info("simulation_merged", parts=len(ranges), agents=len(merged.agents), interactions=len(merged.transcript))
        return merged

    async def _part(
        self,
        request: orchestrator_pb2.RunStudyRequest,
        agents: list[agent_pb2.Agent],
        index: int,
        ids: list[str],
    ) -> tuple[simulation_pb2.WorldState, bool]:
        """The part's final world and True, or its latest world and False when the budget stopped it."""
        suffix = part_suffix(index)
        if SIMULATION_COMPLETE + suffix in ids:
            return await self._load(SIMULATION_COMPLETE + suffix), True
        if self.stage.stop_after_round is not None and await self.stage.stop_after_round():
            # The budget is spent (a resumed study): the part's latest world, or its agents before any round.
            from_round = latest_part_round(ids, suffix)
            if from_round:
                return await self._load(round_checkpoint_id(from_round) + suffix), False
            return simulation_pb2.WorldState(agents=agents, config=request.simulation_config), False
        attempt = 1
        while True:
            if SIMULATION_COMPLETE + suffix in ids:
                return await self._load(SIMULATION_COMPLETE + suffix), True
            try:
                return await self._stream(request, agents, index, latest_part_round(ids, suffix))
            except grpc.aio.AioRpcError as error:
                if error.code() != grpc.StatusCode.UNAVAILABLE or attempt == MAX_STREAM_ATTEMPTS:
                    raise
                log.warning("simulation_part_cut", session=self.stage.checkpoints.session, part=index + 1)
            await asyncio.sleep(STREAM_RETRY_DELAY_S * attempt)
            attempt += 1
            ids = await self.stage.checkpoints.ids()

    async def _stream(
        self, request: orchestrator_pb2.RunStudyRequest, agents: list[agent_pb2.Agent], index: int, from_round: int
    ) -> tuple[simulation_pb2.WorldState, bool]:
        stage, suffix = self.stage, part_suffix(index)
        session = stage.checkpoints.session
        if from_round:
            stream = stage.downstream.simulation.ResumeSimulation(
                simulation_pb2.ResumeSimulationRequest(
                    checkpoint=checkpoint_name(session, round_checkpoint_id(from_round) + suffix),
                    stream_actions=True,
                ),
                timeout=stage.long_call_timeout_s,
                metadata=propagated_metadata(),
            )
        else:
            part_request = simulation_pb2.RunSimulationRequest(
                session=session,
                agents=agents,
                config=request.simulation_config,
                steps=request.steps,
                stream_actions=True,
                request_id=f"{last_segment(session)}-simulation{suffix}{stage.request_suffix}",
                checkpoint_suffix=suffix,
            )
            if not request.steps:
                part_request.stimulus.CopyFrom(request.stimulus)
            stream = stage.downstream.simulation.RunSimulation(
                part_request, timeout=stage.long_call_timeout_s, metadata=propagated_metadata()
            )
        total_rounds = rounds_total(request.steps, request.simulation_config)
        async for event in stream:
            kind = event.WhichOneof("event")
            if kind == "round_started":
                self.rounds[index] = event.round_started.round
                self.acting[index] = set()
                self._report()
            elif kind == "agent_action":
                self.acting.setdefault(index, set()).add(event.agent_action.agent_name)
                self._report()
            elif kind == "round_checkpointed":
                done = event.round_checkpointed.round
                if done < total_rounds and stage.stop_after_round and await stage.stop_after_round():
                    stream.cancel()
                    return await self._load(round_checkpoint_id(done) + suffix), False
            elif kind == "finished":
                return await self._load(SIMULATION_COMPLETE + suffix), True
        raise FailedPrecondition("SIMULATION_INCOMPLETE", f"part {index + 1} of the simulation ended without a result")

    def _report(self) -> None:
        current = min(self.rounds.values(), default=0)
        self.stage.progress.update(
            round=current,
            agents_done=sum(len(names) for part, names in self.acting.items() if self.rounds.get(part) == current),
            message=f"round {current} ({len(self.rounds)} parts)",
        )

    async def _load(self, checkpoint_id: str) -> simulation_pb2.WorldState:
        return await self.stage.checkpoints.load(checkpoint_id, simulation_pb2.WorldState)
