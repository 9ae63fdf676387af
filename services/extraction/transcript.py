"""Transcripts as the extractor reads them: the whole world's, or one agent's (what it said and heard)."""

from __future__ import annotations

from collections.abc import Iterable

from tinytroupe_mesh_api.common.v1 import study_pb2

Interaction = study_pb2.Interaction
ActionType = study_pb2.ActionType

MAX_TRANSCRIPT_CHARS = 12_000
"""Longest transcript put in one prompt (about 3,000 tokens); longer ones keep their start and end."""

_SPOKEN = (study_pb2.ACTION_TYPE_TALK, study_pb2.ACTION_TYPE_THINK)


def ordered(interactions: Iterable[Interaction]) -> list[Interaction]:
    """Interactions in transcript order (by sequence; the given order where sequences tie)."""
    return sorted(interactions, key=lambda interaction: interaction.sequence)


def render(interaction: Interaction) -> str | None:
    """One transcript line, e.g. `Lisa to Oscar: ...`, `Lisa (thinks): ...`; None for DONE."""
    speaker = interaction.agent_name or "moderator"
    content = " ".join(interaction.content.split())
    if interaction.action == study_pb2.ACTION_TYPE_DONE or not content:
        return None
    if interaction.action == study_pb2.ACTION_TYPE_THINK:
        return f"{speaker} (thinks): {content}"
    if interaction.target:
        return f"{speaker} to {interaction.target}: {content}"
    return f"{speaker}: {content}"


def _reaches(interaction: Interaction, agent_name: str) -> bool:
    """Whether `agent_name` said, thought or heard this interaction."""
    if interaction.agent_name == agent_name:
        return interaction.action in (*_SPOKEN, study_pb2.ACTION_TYPE_STIMULUS)
    if interaction.action in (study_pb2.ACTION_TYPE_TALK, study_pb2.ACTION_TYPE_STIMULUS):
        return interaction.target in ("", agent_name)
    return False


def agent_view(interactions: list[Interaction], agent_name: str) -> list[Interaction]:
    """What one agent said, thought and heard (talk to everyone or to it, and the stimuli)."""
    return [interaction for interaction in interactions if _reaches(interaction, agent_name)]


def words_of(interactions: list[Interaction], agent_name: str | None = None) -> str:
    """What was said or thought, by one agent or (None) by any participant: evidence must come from it."""
    return "\n".join(
        interaction.content
        for interaction in interactions
        if interaction.action in _SPOKEN and (agent_name is None or interaction.agent_name == agent_name)
    )


def as_text(interactions: list[Interaction], max_chars: int = MAX_TRANSCRIPT_CHARS) -> str:
    """The transcript as prompt text; when too long, its first line (the stimulus, shortened if need
    be) and as many of the last lines as fit, with a marker of what was left out."""
    lines = [line for interaction in interactions if (line := render(interaction)) is not None]
    if sum(len(line) + 1 for line in lines) <= max_chars:
        return "\n".join(lines)
    head = lines[0][: max_chars // 4]
    budget = max_chars - len(head) - 40  # room for the marker
    tail: list[str] = []
    for line in reversed(lines[1:]):
        if len(line) + 1 > budget:
            break
        tail.append(line)
        budget -= len(line) + 1
    omitted = len(lines) - 1 - len(tail)
    return "\n".join([head, f"[... {omitted} earlier lines left out ...]", *reversed(tail)])
