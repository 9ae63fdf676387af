"""Blinded options mapped back on the wire's transcript, before it is extracted (see engine's blinding.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tinytroupe_mesh_api.common.v1 import study_pb2

from services.engine.simulation.blinding import StimulusOption, unblind
from services.engine.simulation.state import MODERATOR


def unblinded_transcript(
    interactions: Iterable[study_pb2.Interaction], stimulus: study_pb2.Stimulus
) -> list[study_pb2.Interaction]:
    """The transcript with every participant's `Option N` replaced by the name of the option they saw as N;
    as it is when the stimulus's options are not blinded."""
    interactions = list(interactions)
    if not stimulus.blind_options:
        return interactions
    options = [StimulusOption(name=option.name, description=option.description) for option in stimulus.options]
    mapped = []
    for interaction in interactions:
        if interaction.agent_name != MODERATOR and interaction.content:
            said = study_pb2.Interaction()
            said.CopyFrom(interaction)
            said.content = unblind(interaction.content, options, stimulus.blinding_seed, interaction.agent_name)
            interaction = said
        mapped.append(interaction)
    return mapped


def unblinded_plan_transcript(
    interactions: Iterable[study_pb2.Interaction], stimuli: Sequence[study_pb2.Stimulus]
) -> list[study_pb2.Interaction]:
    """A plan's transcript, each interaction mapped back with the stimulus of its step (`stimuli[step - 1]`;
    a one-stimulus study's interactions, whatever their step, with its one stimulus)."""
    mapped = []
    for interaction in interactions:
        if len(stimuli) == 1:
            stimulus = stimuli[0]
        elif 1 <= interaction.step <= len(stimuli):
            stimulus = stimuli[interaction.step - 1]
        else:
            mapped.append(interaction)
            continue
        mapped.extend(unblinded_transcript([interaction], stimulus))
    return mapped
