"""The extractor's prompts, kept short: a small local model must follow them."""

from __future__ import annotations

from services.common.hints import FieldSpec, ValueKind

Messages = list[dict[str, str]]

_SYSTEM = (
    "You extract structured results from a simulation transcript. Use only what the transcript says. "
    "For each field give: evidence, a short exact quote of {whose} words; value, in the field's format, "
    "or null when the transcript does not tell; confidence, from 0 to 1."
)

_RESULT_TOKENS = 16
_FIELD_TOKENS = 56
_VALUE_TOKENS = {ValueKind.LIST: 64, ValueKind.TEXT: 80}


def _one_line(name: str, max_chars: int = 80) -> str:
    """A name as it may appear in the rules: one line, bounded (names are caller data)."""
    return " ".join(name.split())[:max_chars]


def _header(objective: str, situation: str, specs: list[FieldSpec]) -> str:
    lines = []
    if objective.strip():
        lines.append(f"Objective: {objective.strip()}")
    if situation.strip():
        lines.append(f"Situation: {situation.strip()}")
    lines.append("Fields:")
    lines.extend(f"- {spec.name}: {spec.hint}" for spec in specs)
    return "\n".join(lines)


def agent_messages(
    objective: str, situation: str, specs: list[FieldSpec], agent_name: str, transcript_text: str
) -> Messages:
    """One agent's extraction, from what it said and heard."""
    return [
        {"role": "system", "content": _SYSTEM.format(whose=f"{_one_line(agent_name)}'s")},
        {
            "role": "user",
            "content": f"{_header(objective, situation, specs)}\n\nTranscript:\n{transcript_text}"
            f"\n\nExtract the fields for {agent_name}.",
        },
    ]


def rapporteur_messages(objective: str, situation: str, specs: list[FieldSpec], transcript_text: str) -> Messages:
    """The rapporteur's consolidation of the whole discussion into one result."""
    return [
        {"role": "system", "content": _SYSTEM.format(whose="the participants'")},
        {
            "role": "user",
            "content": f"{_header(objective, situation, specs)}\n\nTranscript:\n{transcript_text}"
            "\n\nAs the rapporteur, consolidate the discussion into one result: the "
            "prevailing answer of the group for each field.",
        },
    ]


def world_messages(
    objective: str, situation: str, specs: list[FieldSpec], agent_names: list[str], transcript_text: str
) -> Messages:
    """One call over the whole transcript giving one result per participant."""
    return [
        {"role": "system", "content": _SYSTEM.format(whose="that participant's")},
        {
            "role": "user",
            "content": f"{_header(objective, situation, specs)}\n\nTranscript:\n{transcript_text}"
            f"\n\nGive one result for each participant: {', '.join(agent_names)}.",
        },
    ]


def output_token_budget(specs: list[FieldSpec], results: int = 1) -> int:
    """Enough completion tokens for `results` answers to every field (quotes and values included)."""
    per_result = _RESULT_TOKENS + sum(_FIELD_TOKENS + _VALUE_TOKENS.get(spec.kind, 8) for spec in specs)
    return 32 + results * per_result
