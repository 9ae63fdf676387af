"""Simulated worlds: agent turns, bounded memory, cognitive state and the rounds of a world (proto-free)."""

from services.engine.simulation.events import (
    ActionRecorded,
    AgentFailed,
    RoundCompleted,
    RoundStarted,
    SimulationEvent,
    SimulationFinished,
    TooManyAgentsFailed,
)
from services.engine.simulation.memory import MemoryPolicy
from services.engine.simulation.plan import plan_world
from services.engine.simulation.prompt import PromptLimits
from services.engine.simulation.runner import Simulation
from services.engine.simulation.state import (
    EVERYONE,
    INTERVENTION,
    MODERATOR,
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
    QualityCheckConfig,
    QualityCheckKind,
    Stimulus,
    TurnOrder,
    TurnQualityRecord,
    WorldConfig,
    WorldState,
)
from services.engine.simulation.turn import TurnSettings
from services.engine.simulation.world import new_world

__all__ = [
    "EVERYONE",
    "INTERVENTION",
    "MODERATOR",
    "ActionRecorded",
    "ActionType",
    "AgentFailed",
    "AgentState",
    "CognitiveState",
    "EnvironmentType",
    "Interaction",
    "Intervention",
    "MemoryEvent",
    "MemoryKind",
    "MemoryPolicy",
    "PendingMessage",
    "PlanStep",
    "PromptLimits",
    "QualityCheckConfig",
    "QualityCheckKind",
    "RoundCompleted",
    "RoundStarted",
    "Simulation",
    "SimulationEvent",
    "SimulationFinished",
    "Stimulus",
    "TooManyAgentsFailed",
    "TurnOrder",
    "TurnQualityRecord",
    "TurnSettings",
    "WorldConfig",
    "WorldState",
    "new_world",
    "plan_world",
]
