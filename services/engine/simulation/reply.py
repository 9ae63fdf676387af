"""What one agent turn returns: the output model the LLM fills, and how its answer is cleaned.

The schema is kept small so that a tiny local model under a JSON-schema grammar fills it: a list of
actions (`type`, `content`, `target`) and three short cognitive-state fields. Length limits are schema
hints only (they bound what a grammar generates); the cleaning below enforces them without failing
an answer that exceeds them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field, create_model

from services.engine.simulation.memory import shorten
from services.engine.simulation.state import ActionType, CognitiveState

CONTENT_HINT_CHARS = 300
STATE_HINT_CHARS = 100
NAME_HINT_CHARS = 40
SIMILARITY_THRESHOLD = 0.9
"""Two actions of one turn whose normalised texts are at least this similar are one action repeated."""

_NOT_WORD = re.compile(r"[\W_]+")


def _text(max_chars: int, **default: Any) -> Any:
    return Field(**default, json_schema_extra={"maxLength": max_chars})


class ThinkingAction(BaseModel):
    type: Literal["THINK", "TALK", "DONE"]
    content: str = _text(CONTENT_HINT_CHARS)
    target: str = _text(NAME_HINT_CHARS, default="")


class SpeakingAction(BaseModel):
    type: Literal["TALK", "DONE"]
    content: str = _text(CONTENT_HINT_CHARS)
    target: str = _text(NAME_HINT_CHARS, default="")


class TurnReply(Protocol):
    actions: list[ThinkingAction] | list[SpeakingAction]
    goals: str
    attention: str
    emotions: str


@lru_cache(maxsize=32)
def reply_model(enable_thinking: bool, max_actions: int) -> type[BaseModel]:
    """The output model of a turn: THINK only when thinking is enabled, at most `max_actions` hinted."""
    action = ThinkingAction if enable_thinking else SpeakingAction
    return create_model(
        "AgentTurn",
        actions=(list[action], Field(json_schema_extra={"minItems": 1, "maxItems": max_actions})),
        goals=(str, _text(STATE_HINT_CHARS)),
        attention=(str, _text(STATE_HINT_CHARS)),
        emotions=(str, _text(STATE_HINT_CHARS)),
    )


@dataclass(frozen=True)
class TurnAction:
    type: ActionType
    content: str = ""
    target: str = ""


def normalised(text: str) -> str:
    return _NOT_WORD.sub(" ", text.casefold()).strip()


def _trigrams(text: str) -> Counter[str]:
    return Counter(text[index : index + 3] for index in range(len(text) - 2))


def similarity(first: str, second: str) -> float:
    """Dice coefficient of the character trigrams of the normalised texts, in [0, 1]; linear time."""
    a, b = normalised(first), normalised(second)
    if a == b:
        return 1.0
    grams_a, grams_b = _trigrams(a), _trigrams(b)
    total = sum(grams_a.values()) + sum(grams_b.values())
    return 2 * sum((grams_a & grams_b).values()) / total if total else 0.0


def near_duplicate(first: str, second: str) -> bool:
    return similarity(first, second) >= SIMILARITY_THRESHOLD


def resolve_target(raw: str, speaker: str, audience: dict[str, str]) -> str:
    """The canonical name of the addressed agent, or "" (everyone) for no, unknown or own name.

    `audience` maps casefolded names to canonical ones."""
    name = audience.get(" ".join(raw.split()).casefold(), "")
    return "" if name == speaker else name


def settle_actions(
    reply: TurnReply,
    *,
    speaker: str,
    audience: dict[str, str],
    enable_thinking: bool,
    max_actions: int,
    content_chars: int,
) -> list[TurnAction]:
    """The actions of a turn, cleaned: THINK dropped when thinking is off, empty and repeated actions
    cut, nothing after DONE, at most `max_actions`."""
    kept: list[TurnAction] = []
    for proposed in reply.actions:
        if len(kept) >= max_actions:
            break
        kind = ActionType(proposed.type)
        if kind is ActionType.DONE:
            kept.append(TurnAction(ActionType.DONE))
            break
        if kind is ActionType.THINK and not enable_thinking:
            continue
        content = shorten(proposed.content, content_chars)
        if not content or any(kind is earlier.type and near_duplicate(content, earlier.content) for earlier in kept):
            continue
        target = resolve_target(proposed.target, speaker, audience) if kind is ActionType.TALK else ""
        kept.append(TurnAction(kind, content, target))
    return kept


def updated_cognitive_state(current: CognitiveState, reply: TurnReply) -> CognitiveState:
    """The agent's new cognitive state: fields the model left empty keep their value; context is the world's."""
    goals = [shorten(goal, STATE_HINT_CHARS) for goal in reply.goals.split(";") if goal.strip()]
    return CognitiveState(
        goals=goals or list(current.goals),
        context=current.context,
        attention=shorten(reply.attention, STATE_HINT_CHARS) or current.attention,
        emotions=shorten(reply.emotions, STATE_HINT_CHARS) or current.emotions,
    )
