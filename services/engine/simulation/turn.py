"""One agent turn: ONE structured LLM call that returns the agent's actions and new cognitive state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from services.engine.llm_port import Messages, StructuredLLM
from services.engine.simulation.guards import echo_correction, reply_echo
from services.engine.simulation.memory import MemoryPolicy, shorten
from services.engine.simulation.prompt import PromptLimits, TurnView, turn_messages
from services.engine.simulation.quality import (
    CRITIQUE_CHARS,
    JUDGE_MAX_TOKENS,
    ExtraUsage,
    critique_request,
    judge_messages,
    judgement_model,
    mean_score,
    passes,
    render_actions,
    scores_of,
)
from services.engine.simulation.quality import LABEL as QUALITY_LABEL
from services.engine.simulation.reply import TurnAction, reply_model, settle_actions, updated_cognitive_state
from services.engine.simulation.state import (
    AgentState,
    CognitiveState,
    MemoryEvent,
    QualityCheckConfig,
    TurnQualityRecord,
)
from services.llm.accounting import acting_for
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
    echo_retries: int = 2
    """Further answers asked for when an answer repeats the prompt's scaffolding (the persona fence, the
    rules, the schema, the profile); when every answer does, the turn fails as invalid output."""

    @classmethod
    def for_context(cls, context_tokens: int, max_tokens: int = 256, **options: Any) -> TurnSettings:
        """Settings whose prompt budgets and memory window follow a context of `context_tokens`."""
        return cls(
            max_tokens=max_tokens,
            memory=MemoryPolicy.for_context(context_tokens),
            prompt=PromptLimits.for_context(context_tokens, max_tokens),
            **options,
        )


@dataclass(frozen=True)
class TurnOutcome:
    actions: list[TurnAction]
    cognitive_state: CognitiveState
    quality: TurnQualityRecord | None = None
    """The turn's quality check, when the world asks for them and the turn said or thought anything."""


@dataclass(frozen=True)
class TurnFailure:
    reason: str


def _failure(error: Exception) -> TurnFailure:
    return TurnFailure(shorten(f"{type(error).__name__}: {error}", 300))


async def _reply_in_character(
    llm: StructuredLLM,
    agent: AgentState,
    messages: Messages,
    view: TurnView,
    *,
    session: str,
    settings: TurnSettings,
    extra: ExtraUsage | None = None,
) -> Any:
    """The model's reply to `messages`, asked again (shown its answer) while it repeats the scaffolding.

    When every answer repeats it, the last one keeps only what does not (often nothing: the agent stays
    silent this turn) rather than failing the agent: a small model that keeps echoing its rules is a quiet
    participant, not a lost one. The follow-ups depend only on the answers before them, so a replay meets
    each in the cache. Raises LLMError. `extra` counts the calls made."""
    output_model = reply_model(view.enable_thinking, view.max_actions)
    asked = messages
    for _ in range(settings.echo_retries + 1):
        reply = await llm.structured(
            asked,
            output_model,
            session=session,
            label=settings.label,
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
        )
        if extra is not None:
            extra.add(asked, reply)
        echo = reply_echo(reply.actions, agent.persona_description)
        if not echo:
            return reply
        asked = [
            *messages,
            {"role": "assistant", "content": reply.model_dump_json()},
            {"role": "user", "content": echo_correction(echo, agent.name)},
        ]
    kept = [action for action in reply.actions if not reply_echo([action], agent.persona_description)]
    return reply.model_copy(update={"actions": kept})


async def take_turn(
    llm: StructuredLLM,
    agent: AgentState,
    inbox: list[MemoryEvent],
    view: TurnView,
    *,
    session: str,
    audience: dict[str, str],
    settings: TurnSettings,
) -> TurnOutcome | TurnFailure:
    """Asks the model for the agent's turn; an LLM failure (after the LLM layer's retries) is a TurnFailure.
    The turn's model calls are counted as the agent's in the usage ledger."""
    with acting_for(agent.name):
        messages = turn_messages(agent, inbox, view, first_events=settings.memory.first_events, limits=settings.prompt)
        try:
            reply = await _reply_in_character(llm, agent, messages, view, session=session, settings=settings)
        except LLMError as error:
            return _failure(error)

        def settled(answer: Any) -> list[TurnAction]:
            return settle_actions(
                answer,
                speaker=agent.name,
                audience=audience,
                enable_thinking=view.enable_thinking,
                max_actions=view.max_actions,
                content_chars=settings.content_chars,
            )

        quality = None
        if view.quality is not None and render_actions(settled(reply)):
            reply, quality = await _checked(
                llm, agent, messages, reply, view, view.quality, settled, session=session, settings=settings
            )
        return TurnOutcome(settled(reply), updated_cognitive_state(agent.cognitive_state, reply), quality)


async def _checked(
    llm: StructuredLLM,
    agent: AgentState,
    messages: Messages,
    reply: Any,
    view: TurnView,
    config: QualityCheckConfig,
    settled: Callable[[Any], list[TurnAction]],
    *,
    session: str,
    settings: TurnSettings,
) -> tuple[Any, TurnQualityRecord]:
    """The best-scored of the turn's answers and its quality record: each answer's actions as they will be
    recorded (`settled`) are scored (one call); an answer under the threshold is asked for again with the
    critique, up to `max_attempts` answers. A failed check keeps the answers scored so far (or the turn
    unscored); a failed regeneration ends the tries."""
    extra = ExtraUsage()
    output_model = judgement_model(tuple(config.checks))
    record = TurnQualityRecord(round=view.round, agent_name=agent.name)
    best: tuple[float, Any, dict, str] | None = None
    current = reply
    while True:
        asked = judge_messages(agent, messages, render_actions(settled(current)), view, config, settings.prompt)
        try:
            judgement = await llm.structured(
                asked, output_model, session=session, label=QUALITY_LABEL, max_tokens=JUDGE_MAX_TOKENS, temperature=0.0
            )
        except LLMError as error:
            extra.add(asked, None)
            record.error = shorten(f"{type(error).__name__}: {error}", 300)
            break
        extra.add(asked, judgement)
        scores = scores_of(judgement, config.checks)
        critique = shorten(judgement.critique, CRITIQUE_CHARS)
        record.first_scores = record.first_scores or scores
        if best is None or mean_score(scores) > best[0]:
            best = (mean_score(scores), current, scores, critique)
        if passes(scores, config.threshold) or record.attempts >= config.max_attempts:
            break
        again = [
            *messages,
            {"role": "assistant", "content": current.model_dump_json()},
            {"role": "user", "content": critique_request(agent.name, scores, critique, config.threshold)},
        ]
        try:
            current = await _reply_in_character(
                llm, agent, again, view, session=session, settings=settings, extra=extra
            )
        except LLMError:
            break
        record.attempts += 1
    if best is None:
        return reply, extra.into(record)
    _, kept, record.scores, record.critique = best
    record.error = ""
    record.passed = passes(record.scores, config.threshold)
    return kept, extra.into(record)
