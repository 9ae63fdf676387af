"""The state of a simulated world between rounds, free of protos: what a checkpoint holds."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from services.engine.simulation.blinding import StimulusOption

MODERATOR = "moderator"
"""Sender name of the stimulus and of interview questions."""
INTERVENTION = "intervention"
"""Sender name of a study plan's interventions."""
EVERYONE = ""
"""Recipient of a message for every agent but its sender."""


class EnvironmentType(StrEnum):
    FOCUS_GROUP = "focus_group"
    SURVEY = "survey"
    INTERVIEW = "interview"


class TurnOrder(StrEnum):
    CONCURRENT = "concurrent"
    """All agents act at once on the same snapshot; messages arrive at the end of the round."""
    SEQUENTIAL = "sequential"
    """TinyTroupe's order: agents act one after another and later agents hear earlier ones."""


class ActionType(StrEnum):
    THINK = "THINK"
    TALK = "TALK"
    DONE = "DONE"
    STIMULUS = "STIMULUS"


class MemoryKind(StrEnum):
    STIMULUS = "stimulus"
    HEARD = "heard"
    THOUGHT = "thought"
    SAID = "said"


class CognitiveState(BaseModel):
    goals: list[str] = Field(default_factory=list)
    context: str = ""
    attention: str = ""
    emotions: str = ""


class MemoryEvent(BaseModel):
    round: int
    kind: MemoryKind
    source: str
    """Who caused it: an agent name or `moderator`."""
    content: str


class AgentState(BaseModel):
    name: str
    persona_description: str
    """The persona rendered for prompts (derived from the spec, not stored in checkpoints)."""
    cognitive_state: CognitiveState = Field(default_factory=CognitiveState)
    memory: list[MemoryEvent] = Field(default_factory=list)
    """Bounded: the first events, then the most recent ones."""
    memory_summary: str = ""
    """Compact lines for the events evicted from `memory`."""


class Stimulus(BaseModel):
    type: str = ""
    content: str
    context: str = ""
    target_agents: list[str] = Field(default_factory=list)
    """Names of the agents that receive it; empty means everyone."""
    options: list[StimulusOption] = Field(default_factory=list)
    blind_options: bool = False
    """Each participant sees the options unnamed, in an order of their own (see blinding.py)."""
    blinding_seed: int = 0


class Intervention(BaseModel):
    """New facts (`content`, perceived like a stimulus) or a new situation (`context`) before a step."""

    content: str = ""
    context: str = ""
    target_agents: list[str] = Field(default_factory=list)
    """Names of the agents it reaches; empty means everyone."""


class PlanStep(BaseModel):
    """One step of a study plan, its rounds resolved."""

    name: str
    stimulus: Stimulus
    rounds: int = Field(ge=1)
    intervention: Intervention | None = None
    max_follow_ups: int = Field(default=0, ge=0)
    """Interviews: follow-ups the interviewer writes per question and agent (0: fixed follow-ups)."""
    moderator_opens: bool = False
    """Focus groups: the moderator opens the step with words of its own."""


class QualityCheckKind(StrEnum):
    """TinyTroupe's checks of an action, each scored by the model."""

    PERSONA_ADHERENCE = "persona_adherence"
    SELF_CONSISTENCY = "self_consistency"
    FLUENCY = "fluency"
    SUITABILITY = "suitability"


class QualityCheckConfig(BaseModel):
    """Quality checks of every turn: scored by the model, regenerated with its critique when weak."""

    checks: list[QualityCheckKind] = Field(default_factory=lambda: list(QualityCheckKind), min_length=1)
    threshold: float = Field(default=0.7, ge=0.0, le=1.0)
    """Lowest passing score of each check."""
    max_attempts: int = Field(default=3, ge=1, le=6)
    """Most answers per turn, the first included."""


class WorldConfig(BaseModel):
    environment: EnvironmentType
    rounds: int = Field(ge=1)
    enable_memory: bool = True
    enable_thinking: bool = True
    broadcast_mode: bool = True
    max_actions_per_turn: int = Field(default=4, ge=1, le=10)
    turn_order: TurnOrder = TurnOrder.CONCURRENT
    max_failed_fraction: float = Field(default=0.5, ge=0.0, le=1.0)
    quality: QualityCheckConfig | None = None
    """Quality checks of every turn; None: none."""


class TurnQualityRecord(BaseModel):
    """The quality check of one turn: the kept answer's scores and what checking it cost."""

    round: int
    agent_name: str
    attempts: int = 1
    """Answers asked for: 1, plus one per regeneration."""
    scores: dict[QualityCheckKind, float] = Field(default_factory=dict)
    """The kept answer's score in [0, 1] of each check; empty when it could not be checked."""
    first_scores: dict[QualityCheckKind, float] = Field(default_factory=dict)
    passed: bool = False
    critique: str = ""
    error: str = ""
    """Why the turn could not be checked."""
    extra_calls: int = 0
    extra_prompt_tokens: int = 0
    """Estimated at four characters a token, so a replay reports the same."""
    extra_completion_tokens: int = 0


class Interaction(BaseModel):
    round: int
    agent_name: str
    action: ActionType
    content: str = ""
    target: str = ""
    sequence: int
    step: int = 0
    """Step of the study plan, from 1; 0 without a plan."""


class PendingMessage(BaseModel):
    recipient: str
    """An agent's name, or EVERYONE: every agent but the sender."""
    sender: str
    content: str
    target: str = ""
    """Whom the sender addressed: empty for everyone."""


class WorldState(BaseModel):
    config: WorldConfig
    stimulus: Stimulus
    agents: list[AgentState]
    rounds_completed: int = 0
    transcript: list[Interaction] = Field(default_factory=list)
    pending_messages: list[PendingMessage] = Field(default_factory=list)
    """Messages to deliver at the start of the next round."""
    failed_agents: dict[str, int] = Field(default_factory=dict)
    """Agents that failed, with the last round they failed in."""
    turn_quality: list[TurnQualityRecord] = Field(default_factory=list)
    """The quality checks of the turns so far, in turn order (when the config has quality checks)."""
    steps: list[PlanStep] = Field(default_factory=list)
    """The study plan (empty: a single stimulus); `stimulus` is then the current step's."""
    step: int = 0
    """The step under way, from 1; 0 before the first or without a plan."""
    step_rounds_completed: int = 0
    """Rounds of the current step completed so far."""

    def record(
        self, round_number: int, agent_name: str, action: ActionType, content: str = "", target: str = ""
    ) -> Interaction:
        """Appends an interaction to the transcript with the next sequence number."""
        interaction = Interaction(
            round=round_number,
            agent_name=agent_name,
            action=action,
            content=content,
            target=target,
            sequence=len(self.transcript),
            step=self.step,
        )
        self.transcript.append(interaction)
        return interaction
