"""Fan-out of a large study: its work split into parts spread over the replicas of a service, merged in order.

The orchestrator's channels spread calls over a service's replicas (`round_robin`), so parts sent as
concurrent calls run on several replicas. A part holds at most `STUDY_FAN_OUT_CHUNK` agents; a study
with no more agents than that runs as one call, as before.

- Population from demographics: the sampling plan is made once (a `plan_only` call), then each part
  makes its range of the plan's members; names that two parts both chose are told apart as one
  generation tells them apart ("Ana Souza II").
- Simulation: only worlds whose agents never hear each other (surveys, interviews, no targeted
  stimulus or intervention) split; each part is a world of its own with checkpoints of its own
  (`round_{n}_part_{k}`), and the parts' final worlds merge into one `simulation_complete`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

from tinytroupe_mesh_api.common.v1 import agent_pb2, study_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2
from tinytroupe_mesh_api.population.v1 import population_pb2
from tinytroupe_mesh_api.simulation.v1 import simulation_pb2

from services.common.usage import sum_usage
from services.engine.names import NameRegistry

INDEPENDENT_ENVIRONMENTS = frozenset({study_pb2.ENVIRONMENT_TYPE_SURVEY, study_pb2.ENVIRONMENT_TYPE_INTERVIEW})
"""Worlds whose agents answer the stimulus each on their own: they never hear one another."""


def part_ranges(total: int, chunk: int) -> list[tuple[int, int]]:
    """(first, count) of the parts of `total` items at most `chunk` each, as even as whole items allow; one
    part when `chunk` is 0 or `total` fits in it."""
    if chunk <= 0 or total <= chunk:
        return [(0, total)]
    parts = math.ceil(total / chunk)
    size, extra = divmod(total, parts)
    ranges, first = [], 0
    for index in range(parts):
        count = size + (index < extra)
        ranges.append((first, count))
        first += count
    return ranges


def part_suffix(index: int) -> str:
    """The suffix of part `index`'s checkpoint ids and request ids, from `_part_1`."""
    return f"_part_{index + 1}"


# Population


def population_part(
    request: population_pb2.GeneratePopulationRequest,
    plan: population_pb2.PopulationPlan,
    index: int,
    first: int,
    count: int,
) -> population_pb2.GeneratePopulationRequest:
    """The request of one part of a population: the whole request with the plan made once and its members."""
    part = population_pb2.GeneratePopulationRequest()
    part.CopyFrom(request)
    part.plan.CopyFrom(plan)
    part.first_member = first
    part.member_count = count
    part.request_id = f"{request.request_id}{part_suffix(index)}"
    return part


def merge_created(parts: Sequence[orchestrator_pb2.AgentsCreated], requested: int) -> orchestrator_pb2.AgentsCreated:
    """The parts' agents (names told apart where two parts chose the same), failures and validations in
    part order, and their usage summed."""
    merged = orchestrator_pb2.AgentsCreated(requested=requested)
    registry = NameRegistry()
    for part in parts:
        renamed: dict[str, str] = {}
        for agent in part.agents:
            renamed[agent.name] = registry.take_disambiguated(agent.name)
            merged.agents.append(_named(agent, renamed[agent.name]))
        for validation in part.validations:
            merged.validations.append(validation)
            merged.validations[-1].agent_name = renamed.get(validation.agent_name, validation.agent_name)
        for failure in part.failures:
            merged.failures.append(failure)
            merged.failures[-1].agent_name = renamed.get(failure.agent_name, failure.agent_name)
        merged.usage.CopyFrom(sum_usage(merged.usage, part.usage))
    return merged


def _named(agent: agent_pb2.Agent, name: str) -> agent_pb2.Agent:
    if name == agent.name:
        return agent
    renamed = agent_pb2.Agent()
    renamed.CopyFrom(agent)
    renamed.name = name
    spec = json.loads(agent.spec_json)
    spec.setdefault("persona", {})["name"] = name
    renamed.spec_json = json.dumps(spec, ensure_ascii=False)
    return renamed


# Simulation


def splits_simulation(request: orchestrator_pb2.RunStudyRequest, agent_count: int, chunk: int) -> bool:
    """Whether the study's world may run as several worlds of at most `chunk` agents: more agents than
    that, agents that never hear each other, nothing shown to chosen agents only, no turn quality checks."""
    config = request.simulation_config
    if chunk <= 0 or agent_count <= chunk or config.environment_type not in INDEPENDENT_ENVIRONMENTS:
        return False
    if config.quality_checks.enabled or request.stimulus.target_agents:
        return False
    return not any(step.stimulus.target_agents or step.intervention.target_agents for step in request.steps)


def merge_worlds(parts: Sequence[simulation_pb2.WorldState]) -> simulation_pb2.WorldState:
    """One world from the final worlds of a split simulation: agents in part order; the transcript round
    by round (each round's interactions part after part, as one world orders its agents), what is
    shown to every part (the stimulus) once, sequence numbers renumbered; failures joined, usage summed."""
    if not parts:
        raise ValueError("no part to merge")
    merged = simulation_pb2.WorldState()
    merged.CopyFrom(parts[0])
    merged.ClearField("agents")
    merged.ClearField("transcript")
    merged.ClearField("failed_agents")
    merged.ClearField("usage")
    merged.ClearField("turn_quality")
    merged.ClearField("pending_messages")
    merged.checkpoint_suffix = ""
    for part in parts:
        merged.agents.extend(part.agents)
        merged.failed_agents.update(part.failed_agents)
        merged.usage.CopyFrom(sum_usage(merged.usage, part.usage))
        merged.pending_messages.extend(part.pending_messages)
        merged.turn_quality.extend(part.turn_quality)
    merged.rounds_completed = max(part.rounds_completed for part in parts)
    merged.transcript.extend(merge_transcripts([list(part.transcript) for part in parts]))
    return merged


def merge_transcripts(parts: Sequence[Sequence[study_pb2.Interaction]]) -> list[study_pb2.Interaction]:
    """The parts' interactions ordered by (step, round) as first met, part after part within each; an
    interaction that several parts hold alike (the stimulus every part was shown) kept once; sequence
    renumbered from 0."""
    rounds: dict[tuple[int, int], list[list[study_pb2.Interaction]]] = {}
    for index, part in enumerate(parts):
        for interaction in part:
            rounds.setdefault((interaction.step, interaction.round), [[] for _ in parts])[index].append(interaction)
    merged: list[study_pb2.Interaction] = []
    for by_part in rounds.values():
        seen: set[tuple] = set()
        for interactions in by_part:
            for interaction in interactions:
                key = (interaction.agent_name, interaction.action, interaction.content, interaction.target)
                if not _acted_by_participant(interaction) and key in seen:
                    continue
                seen.add(key)
                copy = study_pb2.Interaction()
                copy.CopyFrom(interaction)
                copy.sequence = len(merged)
                merged.append(copy)
    return merged


def _acted_by_participant(interaction: study_pb2.Interaction) -> bool:
    return interaction.action != study_pb2.ACTION_TYPE_STIMULUS
