"""Blinded answers mapped back on the wire's transcript: one stimulus, or each step's own."""

from tinytroupe_mesh_api.common.v1 import study_pb2

from services.common.blinding import unblinded_plan_transcript, unblinded_transcript
from services.engine.simulation.blinding import StimulusOption, option_order

TALK = study_pb2.ACTION_TYPE_TALK


def blinded(*names: str, seed: int = 2) -> study_pb2.Stimulus:
    return study_pb2.Stimulus(
        content="Which one?",
        options=[study_pb2.StimulusOption(name=name) for name in names],
        blind_options=True,
        blinding_seed=seed,
    )


def first_seen(stimulus: study_pb2.Stimulus, agent: str) -> str:
    options = [StimulusOption(name=option.name) for option in stimulus.options]
    return options[option_order(options, stimulus.blinding_seed, agent)[0]].name


def said(agent: str, content: str, step: int = 0) -> study_pb2.Interaction:
    return study_pb2.Interaction(round=1, agent_name=agent, action=TALK, content=content, step=step, sequence=3)


def test_only_participants_words_are_mapped_and_everything_else_is_kept():
    stimulus = blinded("tea", "coffee")
    question = study_pb2.Interaction(agent_name="moderator", action=study_pb2.ACTION_TYPE_STIMULUS, content="Option 1?")
    mapped = unblinded_transcript([question, said("Ana", "Option 1, please.", step=1)], stimulus)
    assert mapped[0] == question
    assert mapped[1].content == f"{first_seen(stimulus, 'Ana')}, please."
    assert (mapped[1].step, mapped[1].sequence, mapped[1].round) == (1, 3, 1)
    unblind_off = study_pb2.Stimulus(content="Which one?", options=stimulus.options)
    assert unblinded_transcript([said("Ana", "Option 1")], unblind_off)[0].content == "Option 1"


def test_each_step_is_mapped_back_with_its_own_options():
    drinks, snacks = blinded("tea", "coffee"), blinded("apple", "cake", "nuts", seed=9)
    mapped = unblinded_plan_transcript(
        [said("Ana", "Option 1", step=1), said("Ana", "Option 1", step=2), said("Ana", "Option 1", step=3)],
        [drinks, snacks],
    )
    assert [entry.content for entry in mapped] == [first_seen(drinks, "Ana"), first_seen(snacks, "Ana"), "Option 1"]
    assert unblinded_plan_transcript([said("Ana", "Option 1", step=0)], [drinks])[0].content == first_seen(
        drinks, "Ana"
    )
