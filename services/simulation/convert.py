"""Conversions between the protos of the simulation contract and the engine's world state."""

from __future__ import annotations

from tinytroupe_mesh_api.common.v1 import agent_pb2, study_pb2
from tinytroupe_mesh_api.simulation.v1 import simulation_pb2

from services.common.checks import stimulus_targets
from services.common.limits import DEFAULT_MAX_ACTIONS_PER_TURN, DEFAULT_MAX_FAILED_FRACTION
from services.common.plan_checks import step_name, step_rounds
from services.engine.persona import Persona
from services.engine.simulation import (
    EVERYONE,
    ActionType,
    AgentState,
    CognitiveState,
    EnvironmentType,
    Interaction,
    Intervention,
    MemoryEvent,
    MemoryKind,
    PendingMessage,
    PlanStep,
    Stimulus,
    TurnOrder,
    WorldConfig,
    WorldState,
)
from services.engine.simulation.blinding import StimulusOption
from services.engine.simulation.quality import quality_report
from services.engine.simulation.state import QualityCheckConfig, QualityCheckKind, TurnQualityRecord

PERSONA_DESCRIPTION_CHARS = 1200
"""The persona's budget when none is given (a 2k-token context's); the service gives its context's."""

ENVIRONMENTS = {
    study_pb2.ENVIRONMENT_TYPE_FOCUS_GROUP: EnvironmentType.FOCUS_GROUP,
    study_pb2.ENVIRONMENT_TYPE_SURVEY: EnvironmentType.SURVEY,
    study_pb2.ENVIRONMENT_TYPE_INTERVIEW: EnvironmentType.INTERVIEW,
}
TURN_ORDERS = {
    study_pb2.TURN_ORDER_UNSPECIFIED: TurnOrder.CONCURRENT,
    study_pb2.TURN_ORDER_CONCURRENT: TurnOrder.CONCURRENT,
    study_pb2.TURN_ORDER_SEQUENTIAL: TurnOrder.SEQUENTIAL,
}
ACTIONS = {
    ActionType.THINK: study_pb2.ACTION_TYPE_THINK,
    ActionType.TALK: study_pb2.ACTION_TYPE_TALK,
    ActionType.DONE: study_pb2.ACTION_TYPE_DONE,
    ActionType.STIMULUS: study_pb2.ACTION_TYPE_STIMULUS,
}
MEMORY_KINDS = {
    MemoryKind.STIMULUS: agent_pb2.MemoryEvent.KIND_STIMULUS,
    MemoryKind.HEARD: agent_pb2.MemoryEvent.KIND_HEARD,
    MemoryKind.THOUGHT: agent_pb2.MemoryEvent.KIND_THOUGHT,
    MemoryKind.SAID: agent_pb2.MemoryEvent.KIND_SAID,
}


def _inverse(mapping: dict) -> dict:
    return {value: key for key, value in mapping.items()}


_ENVIRONMENT_PROTOS = _inverse(ENVIRONMENTS)
_TURN_ORDER_PROTOS = {
    TurnOrder.CONCURRENT: study_pb2.TURN_ORDER_CONCURRENT,
    TurnOrder.SEQUENTIAL: study_pb2.TURN_ORDER_SEQUENTIAL,
}
_ACTION_TYPES = _inverse(ACTIONS)
_MEMORY_KINDS = _inverse(MEMORY_KINDS)


QUALITY_CHECKS = {
    study_pb2.QUALITY_CHECK_PERSONA_ADHERENCE: QualityCheckKind.PERSONA_ADHERENCE,
    study_pb2.QUALITY_CHECK_SELF_CONSISTENCY: QualityCheckKind.SELF_CONSISTENCY,
    study_pb2.QUALITY_CHECK_FLUENCY: QualityCheckKind.FLUENCY,
    study_pb2.QUALITY_CHECK_SUITABILITY: QualityCheckKind.SUITABILITY,
}
_QUALITY_CHECK_PROTOS = {kind: number for number, kind in QUALITY_CHECKS.items()}


def quality_from_proto(checks: study_pb2.QualityChecks) -> QualityCheckConfig | None:
    """The engine's quality checks (None when disabled); zero values take their defaults. Assumes valid."""
    if not checks.enabled:
        return None
    defaults = QualityCheckConfig()
    kinds = list(dict.fromkeys(QUALITY_CHECKS[check] for check in checks.checks)) or defaults.checks
    return QualityCheckConfig(
        checks=kinds,
        threshold=checks.threshold or defaults.threshold,
        max_attempts=checks.max_attempts or defaults.max_attempts,
    )


def quality_to_proto(config: QualityCheckConfig | None) -> study_pb2.QualityChecks:
    if config is None:
        return study_pb2.QualityChecks()
    return study_pb2.QualityChecks(
        enabled=True,
        checks=[_QUALITY_CHECK_PROTOS[check] for check in config.checks],
        threshold=config.threshold,
        max_attempts=config.max_attempts,
    )


def config_from_proto(config: study_pb2.SimulationConfig) -> WorldConfig:
    """The engine's configuration; zero values take their documented defaults. Assumes a valid config."""
    return WorldConfig(
        environment=ENVIRONMENTS[config.environment_type],
        rounds=config.rounds,
        enable_memory=config.enable_memory,
        enable_thinking=config.enable_thinking,
        broadcast_mode=config.broadcast_mode,
        max_actions_per_turn=config.max_actions_per_turn or DEFAULT_MAX_ACTIONS_PER_TURN,
        turn_order=TURN_ORDERS[config.turn_order],
        max_failed_fraction=config.max_failed_fraction or DEFAULT_MAX_FAILED_FRACTION,
        quality=quality_from_proto(config.quality_checks),
    )


def config_to_proto(config: WorldConfig) -> study_pb2.SimulationConfig:
    proto = study_pb2.SimulationConfig(
        environment_type=_ENVIRONMENT_PROTOS[config.environment],
        rounds=config.rounds,
        enable_memory=config.enable_memory,
        enable_thinking=config.enable_thinking,
        broadcast_mode=config.broadcast_mode,
        max_actions_per_turn=config.max_actions_per_turn,
        turn_order=_TURN_ORDER_PROTOS[config.turn_order],
        max_failed_fraction=config.max_failed_fraction,
    )
    if config.quality is not None:
        proto.quality_checks.CopyFrom(quality_to_proto(config.quality))
    return proto


def _check_scores(scores: dict[QualityCheckKind, float]) -> list[study_pb2.QualityCheckScore]:
    return [
        study_pb2.QualityCheckScore(check=_QUALITY_CHECK_PROTOS[check], score=score) for check, score in scores.items()
    ]


def turn_quality_to_proto(record: TurnQualityRecord) -> simulation_pb2.TurnQuality:
    return simulation_pb2.TurnQuality(
        round=record.round,
        agent_name=record.agent_name,
        attempts=record.attempts,
        scores=_check_scores(record.scores),
        first_scores=_check_scores(record.first_scores),
        passed=record.passed,
        critique=record.critique,
        error=record.error,
        extra_calls=record.extra_calls,
        extra_prompt_tokens=record.extra_prompt_tokens,
        extra_completion_tokens=record.extra_completion_tokens,
    )


def turn_quality_from_proto(record: simulation_pb2.TurnQuality) -> TurnQualityRecord:
    def scores(listed) -> dict[QualityCheckKind, float]:
        return {QUALITY_CHECKS[score.check]: score.score for score in listed if score.check in QUALITY_CHECKS}

    return TurnQualityRecord(
        round=record.round,
        agent_name=record.agent_name,
        attempts=record.attempts,
        scores=scores(record.scores),
        first_scores=scores(record.first_scores),
        passed=record.passed,
        critique=record.critique,
        error=record.error,
        extra_calls=record.extra_calls,
        extra_prompt_tokens=record.extra_prompt_tokens,
        extra_completion_tokens=record.extra_completion_tokens,
    )


def turn_quality_report(world: simulation_pb2.WorldState) -> study_pb2.TurnQualityReport | None:
    """The report of the world's turn quality checks; None when its config has none."""
    config = quality_from_proto(world.config.quality_checks)
    if config is None:
        return None
    report = quality_report(
        [turn_quality_from_proto(record) for record in world.turn_quality],
        config,
        [agent.name for agent in world.agents],
    )
    return study_pb2.TurnQualityReport(
        checks=[_QUALITY_CHECK_PROTOS[check] for check in report.checks],
        threshold=report.threshold,
        turns_checked=report.turns_checked,
        turns_regenerated=report.turns_regenerated,
        turns_below_threshold=report.turns_below_threshold,
        turns_unchecked=report.turns_unchecked,
        statistics=[
            study_pb2.QualityCheckStatistics(
                check=_QUALITY_CHECK_PROTOS[item.check],
                first_attempt_mean=item.first_attempt_mean,
                below_threshold=item.below_threshold,
                scores=study_pb2.NumericStatistics(
                    count=item.scores.count,
                    mean=item.scores.mean,
                    median=item.scores.median,
                    std_dev=item.scores.std_dev,
                    min=item.scores.minimum,
                    max=item.scores.maximum,
                    ci95_low=item.scores.ci95_low,
                    ci95_high=item.scores.ci95_high,
                ),
            )
            for item in report.statistics
        ],
        agents=[
            study_pb2.AgentTurnQuality(
                agent_name=agent.agent_name,
                turns_checked=agent.turns_checked,
                turns_regenerated=agent.turns_regenerated,
                mean_scores=_check_scores(agent.mean_scores),
            )
            for agent in report.agents
        ],
        extra_calls=report.extra_calls,
        extra_prompt_tokens=report.extra_prompt_tokens,
        extra_completion_tokens=report.extra_completion_tokens,
    )


def stimulus_from_proto(stimulus: study_pb2.Stimulus, canonical_targets: list[str]) -> Stimulus:
    return Stimulus(
        type=stimulus.type,
        content=stimulus.content,
        context=stimulus.context,
        target_agents=canonical_targets,
        options=[StimulusOption(name=option.name, description=option.description) for option in stimulus.options],
        blind_options=stimulus.blind_options,
        blinding_seed=stimulus.blinding_seed,
    )


def stimulus_to_proto(stimulus: Stimulus) -> study_pb2.Stimulus:
    return study_pb2.Stimulus(
        type=stimulus.type,
        content=stimulus.content,
        context=stimulus.context,
        target_agents=stimulus.target_agents,
        options=[
            study_pb2.StimulusOption(name=option.name, description=option.description) for option in stimulus.options
        ],
        blind_options=stimulus.blind_options,
        blinding_seed=stimulus.blinding_seed,
    )


def agent_from_proto(
    agent: agent_pb2.Agent, persona: Persona | None = None, persona_chars: int = PERSONA_DESCRIPTION_CHARS
) -> AgentState:
    """The engine's agent: its persona rendered for prompts (whole when it fits `persona_chars`), its
    cognitive state and memory as given."""
    persona = persona or Persona.from_json(agent.spec_json)
    state = agent.cognitive_state
    return AgentState(
        name=persona.name,
        persona_description=persona.describe(persona_chars),
        cognitive_state=CognitiveState(
            goals=list(state.goals), context=state.context, attention=state.attention, emotions=state.emotions
        ),
        memory=[
            MemoryEvent(
                round=event.round,
                kind=_MEMORY_KINDS.get(event.kind, MemoryKind.HEARD),
                source=event.source,
                content=event.content,
            )
            for event in agent.episodic_memory
        ],
        memory_summary=agent.memory_summary,
    )


def agent_to_proto(state: AgentState, base: agent_pb2.Agent) -> agent_pb2.Agent:
    """`base` (id, spec, provenance as received) with the engine's name, cognitive state and memory."""
    agent = agent_pb2.Agent()
    agent.CopyFrom(base)
    agent.name = state.name
    cognitive = state.cognitive_state
    agent.cognitive_state.CopyFrom(
        agent_pb2.CognitiveState(
            goals=cognitive.goals, context=cognitive.context, attention=cognitive.attention, emotions=cognitive.emotions
        )
    )
    del agent.episodic_memory[:]
    agent.episodic_memory.extend(
        agent_pb2.MemoryEvent(
            round=event.round, kind=MEMORY_KINDS[event.kind], source=event.source, content=event.content
        )
        for event in state.memory
    )
    agent.memory_summary = state.memory_summary
    return agent


def interaction_to_proto(interaction: Interaction) -> study_pb2.Interaction:
    return study_pb2.Interaction(
        round=interaction.round,
        agent_name=interaction.agent_name,
        action=ACTIONS[interaction.action],
        content=interaction.content,
        target=interaction.target,
        sequence=interaction.sequence,
        step=interaction.step,
    )


def interaction_from_proto(interaction: study_pb2.Interaction) -> Interaction:
    return Interaction(
        round=interaction.round,
        agent_name=interaction.agent_name,
        action=_ACTION_TYPES[interaction.action],
        content=interaction.content,
        target=interaction.target,
        sequence=interaction.sequence,
        step=interaction.step,
    )


def world_to_proto(
    state: WorldState, base_agents: dict[str, agent_pb2.Agent], usage: study_pb2.TokenUsage
) -> simulation_pb2.WorldState:
    return simulation_pb2.WorldState(
        agents=[agent_to_proto(agent, base_agents[agent.name]) for agent in state.agents],
        config=config_to_proto(state.config),
        stimulus=stimulus_to_proto(state.stimulus),
        rounds_completed=state.rounds_completed,
        transcript=[interaction_to_proto(interaction) for interaction in state.transcript],
        pending_messages=[
            simulation_pb2.PendingMessage(
                recipient=message.recipient, sender=message.sender, content=message.content, target=message.target
            )
            for message in state.pending_messages
        ],
        failed_agents=state.failed_agents,
        usage=usage,
        turn_quality=[turn_quality_to_proto(record) for record in state.turn_quality],
        steps=[step_to_proto(step) for step in state.steps],
        step=state.step,
        step_rounds_completed=state.step_rounds_completed,
    )


def world_from_proto(
    world: simulation_pb2.WorldState,
    persona_chars: int = PERSONA_DESCRIPTION_CHARS,
) -> tuple[WorldState, dict[str, agent_pb2.Agent]]:
    """The engine's world and the agents as stored (by name), from a checkpointed WorldState.

    Raises ValueError (or the persona's SpecError) when the payload does not hold a valid world."""
    agents = [agent_from_proto(agent, persona_chars=persona_chars) for agent in world.agents]
    if world.config.environment_type not in ENVIRONMENTS:
        raise ValueError("the stored world has no environment type")
    state = WorldState(
        config=config_from_proto(world.config),
        stimulus=stimulus_from_proto(world.stimulus, list(world.stimulus.target_agents)),
        agents=agents,
        rounds_completed=world.rounds_completed,
        transcript=[interaction_from_proto(interaction) for interaction in world.transcript],
        pending_messages=[
            PendingMessage(
                recipient=message.recipient, sender=message.sender, content=message.content, target=message.target
            )
            for message in world.pending_messages
        ],
        failed_agents=dict(world.failed_agents),
        turn_quality=[turn_quality_from_proto(record) for record in world.turn_quality],
        steps=[step_from_proto(step, step.rounds, list(step.stimulus.target_agents)) for step in world.steps],
        step=world.step,
        step_rounds_completed=world.step_rounds_completed,
    )
    if state.step > len(state.steps):
        raise ValueError("the stored world's step is not one of its plan")
    names = {agent.name for agent in agents}
    if len(names) != len(agents) or any(
        message.recipient not in names | {EVERYONE} for message in state.pending_messages
    ):
        raise ValueError("the stored world's agents are not unique or do not match its pending messages")
    return state, {state_agent.name: proto for state_agent, proto in zip(agents, world.agents, strict=True)}


def step_from_proto(step: study_pb2.StudyStep, rounds: int, stimulus_targets: list[str]) -> PlanStep:
    """The engine's step, its rounds resolved and its targets by the agents' own names. Assumes valid."""
    intervention = None
    if step.HasField("intervention"):
        intervention = Intervention(
            content=step.intervention.content,
            context=step.intervention.context,
            target_agents=list(step.intervention.target_agents),
        )
    return PlanStep(
        name=step.name,
        stimulus=stimulus_from_proto(step.stimulus, stimulus_targets),
        rounds=rounds,
        intervention=intervention,
        max_follow_ups=step.max_follow_ups,
        moderator_opens=step.moderator_opens,
    )


def step_to_proto(step: PlanStep) -> study_pb2.StudyStep:
    """The step as a world state stores it (without the extraction, which is not the world's)."""
    proto = study_pb2.StudyStep(
        name=step.name,
        stimulus=stimulus_to_proto(step.stimulus),
        rounds=step.rounds,
        max_follow_ups=step.max_follow_ups,
        moderator_opens=step.moderator_opens,
    )
    if step.intervention is not None:
        proto.intervention.CopyFrom(
            study_pb2.Intervention(
                content=step.intervention.content,
                context=step.intervention.context,
                target_agents=step.intervention.target_agents,
            )
        )
    return proto


def plan_from_proto(
    steps: list[study_pb2.StudyStep], config: study_pb2.SimulationConfig, names: list[str]
) -> list[PlanStep]:
    """A request's plan as the engine runs it: rounds resolved, targets by the agents' own names."""
    plan = []
    for index, step in enumerate(steps):
        resolved = step_from_proto(step, step_rounds(step, config), stimulus_targets(step.stimulus, "", names)[0])
        resolved.name = step_name(step, index)
        if resolved.intervention is not None:
            resolved.intervention.target_agents = stimulus_targets(step.intervention, "", names)[0]
        plan.append(resolved)
    return plan
