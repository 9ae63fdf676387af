"""What a running simulation reports, in order."""

from __future__ import annotations

from dataclasses import dataclass

from services.engine.simulation.state import Interaction


@dataclass(frozen=True)
class RoundStarted:
    round: int
    step: int = 0
    """Step of the study plan, from 1; 0 without a plan."""
    step_round: int = 0
    """Round within the step, from 1; 0 without a plan."""


@dataclass(frozen=True)
class ActionRecorded:
    """An interaction entered the transcript (agent actions, the stimulus, moderator questions)."""

    interaction: Interaction


@dataclass(frozen=True)
class AgentFailed:
    round: int
    agent_name: str
    reason: str


@dataclass(frozen=True)
class RoundCompleted:
    """A round ended; the world state is consistent until the consumer asks for the next event."""

    round: int
    agents_succeeded: int
    agents_failed: int


@dataclass(frozen=True)
class SimulationFinished:
    rounds_completed: int
    participants_total: int
    participants_failed: int

    @property
    def participants_successful(self) -> int:
        return self.participants_total - self.participants_failed


SimulationEvent = RoundStarted | ActionRecorded | AgentFailed | RoundCompleted | SimulationFinished


class TooManyAgentsFailed(Exception):
    """More than the allowed share of agents failed in one round."""

    def __init__(self, round_number: int, failed: int, total: int, max_fraction: float) -> None:
        self.round = round_number
        self.failed = failed
        self.total = total
        self.max_fraction = max_fraction
        super().__init__(
            f"{failed} of {total} agents failed in round {round_number}, more than the allowed "
            f"share of {max_fraction:g}"
        )
