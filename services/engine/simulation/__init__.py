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
from services.engine.simulation.prompt import PromptLimits
from services.engine.simulation.runner import Simulation
from services.engine.simulation.state import (
    EVERYONE,
    MODERATOR,
    ActionType,
    AgentState,
    CognitiveState,
    EnvironmentType,
    Interaction,
    MemoryEvent,
    MemoryKind,
    PendingMessage,
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
    "MODERATOR",
    "ActionRecorded",
    "ActionType",
    "AgentFailed",
    "AgentState",
    "CognitiveState",
    "EnvironmentType",
    "Interaction",
    "MemoryEvent",
    "MemoryKind",
    "MemoryPolicy",
    "PendingMessage",
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
]
