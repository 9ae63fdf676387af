"""One agent turn: ONE structured LLM call that returns the agent's actions and new cognitive state."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.engine.llm_port import StructuredLLM
from services.engine.simulation.memory import MemoryPolicy, shorten
from services.engine.simulation.prompt import PromptLimits, TurnView, turn_messages
from services.engine.simulation.reply import TurnAction, reply_model, settle_actions, updated_cognitive_state
from services.engine.simulation.state import AgentState, CognitiveState, MemoryEvent
from services.llm.errors import LLMError


@dataclass(frozen=True)
class TurnSettings:
    max_tokens: int = 256
    temperature: float | None = None
    """None: the LLM layer's default."""
    content_chars: int = 600
    """Longest content kept of one action."""
    memory: MemoryPolicy = field(default_factory=MemoryPolicy)
    prompt: PromptLimits = field(default_factory=PromptLimits)
    label: str = "simulation.turn"


@dataclass(frozen=True)
class TurnOutcome:
    actions: list[TurnAction]
    cognitive_state: CognitiveState


@dataclass(frozen=True)
class TurnFailure:
    reason: str


async def take_turn(llm: StructuredLLM, agent: AgentState, inbox: list[MemoryEvent], view: TurnView, *,
                    session: str, audience: dict[str, str], settings: TurnSettings) -> TurnOutcome | TurnFailure:
    """Asks the model for the agent's turn; an LLM failure (after the LLM layer's retries) is a TurnFailure."""
    messages = turn_messages(agent, inbox, view, first_events=settings.memory.first_events, limits=settings.prompt)
    try:
        reply = await llm.structured(
            messages, reply_model(view.enable_thinking, view.max_actions), session=session,
            label=settings.label, max_tokens=settings.max_tokens, temperature=settings.temperature)
    except LLMError as error:
        return TurnFailure(shorten(f"{type(error).__name__}: {error}", 300))
    actions = settle_actions(reply, speaker=agent.name, audience=audience, enable_thinking=view.enable_thinking,
                             max_actions=view.max_actions, content_chars=settings.content_chars)
    return TurnOutcome(actions, updated_cognitive_state(agent.cognitive_state, reply))
