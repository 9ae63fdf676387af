"""The rules of the worlds: who receives the stimulus, whose words reach whom, what a moderator asks.

- focus group: TALK reaches every other agent when broadcasting; otherwise a targeted TALK reaches
  only its target and an untargeted one reaches everyone.
- survey: agents answer individually and never hear each other.
- interview: the stimulus is the moderator's question to each agent; in later rounds the moderator
  asks each agent to elaborate on what it said. Agents never hear each other.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.engine.simulation.blinding import options_text
from services.engine.simulation.memory import shorten
from services.engine.simulation.state import (
    EVERYONE,
    INTERVENTION,
    MODERATOR,
    ActionType,
    AgentState,
    EnvironmentType,
    Interaction,
    MemoryEvent,
    MemoryKind,
    PendingMessage,
    Stimulus,
    WorldConfig,
    WorldState,
)

QUOTE_CHARS = 200


def stimulus_text(stimulus: Stimulus, recipient: str = "") -> str:
    """The stimulus as `recipient` reads it, its options (blinded for them, when so asked) after it."""
    label = " ".join(stimulus.type.replace("_", " ").split())
    text = f"({label}) {stimulus.content}" if label else stimulus.content
    options = options_text(
        stimulus.options, blind=stimulus.blind_options, seed=stimulus.blinding_seed, participant=recipient
    )
    return f"{text}\n\n{options}" if options else text


def recorded_stimulus(stimulus: Stimulus) -> str:
    """The stimulus as the transcript keeps it: its options named, in their given order."""
    options = options_text(stimulus.options, blind=False, seed=0, participant="")
    return f"{stimulus.content}\n\n{options}" if options else stimulus.content


def stimulus_recipients(stimulus: Stimulus, names: Sequence[str]) -> list[str]:
    targets = set(stimulus.target_agents)
    return [name for name in names if name in targets] if targets else list(names)


def talk_recipient(config: WorldConfig, target: str) -> str | None:
    """Who hears a TALK addressed to `target` ("" for everyone): an agent, EVERYONE, or None (nobody)."""
    if config.environment is not EnvironmentType.FOCUS_GROUP:
        return None
    if target and not config.broadcast_mode:
        return target
    return EVERYONE


def recipients_of(message: PendingMessage, names: Sequence[str]) -> list[str]:
    if message.recipient != EVERYONE:
        return [message.recipient]
    return [name for name in names if name != message.sender]


def heard_event(message: PendingMessage, recipient: str, round_number: int) -> MemoryEvent:
    """A delivered message as `recipient` perceives it."""
    if message.sender in (MODERATOR, INTERVENTION):
        return MemoryEvent(round=round_number, kind=MemoryKind.STIMULUS, source=message.sender, content=message.content)
    if not message.target:
        content = message.content
    elif message.target == recipient:
        content = f"(to you) {message.content}"
    else:
        content = f"(to {message.target}) {message.content}"
    return MemoryEvent(round=round_number, kind=MemoryKind.HEARD, source=message.sender, content=content)


def follow_up_question(said: str, stimulus: Stimulus) -> str:
    """The interviewer's follow-up to an agent that said `said` in the previous round ("" if nothing)."""
    if said:
        return f'You said: "{shorten(said, QUOTE_CHARS)}". Could you elaborate on that?'
    return f"Is there anything you would like to add about: {shorten(stimulus.content, QUOTE_CHARS)}"


def last_talk_by_agent(transcript: Sequence[Interaction], round_number: int) -> dict[str, str]:
    said: dict[str, str] = {}
    for interaction in reversed(transcript):
        if interaction.round < round_number:
            break
        if interaction.round == round_number and interaction.action is ActionType.TALK:
            said.setdefault(interaction.agent_name, interaction.content)
    return said


def new_world(config: WorldConfig, stimulus: Stimulus, agents: list[AgentState]) -> WorldState:
    """A world before its first round: the stimulus recorded (round 0) and waiting for its recipients."""
    state = WorldState(config=config, stimulus=stimulus, agents=agents)
    recipients = stimulus_recipients(stimulus, [agent.name for agent in agents])
    recorded = recorded_stimulus(stimulus)
    if stimulus.target_agents:
        for name in recipients:
            state.record(0, MODERATOR, ActionType.STIMULUS, recorded, target=name)
    else:
        state.record(0, MODERATOR, ActionType.STIMULUS, recorded)
    state.pending_messages = (
        [PendingMessage(recipient=name, sender=MODERATOR, content=stimulus_text(stimulus, name)) for name in recipients]
        if stimulus.target_agents or stimulus.blind_options
        else [PendingMessage(recipient=EVERYONE, sender=MODERATOR, content=stimulus_text(stimulus))]
    )
    for agent in agents:
        if not agent.cognitive_state.context and stimulus.context:
            agent.cognitive_state.context = stimulus.context
    return state
