"""Transcript rendering: whose words are whose, and long transcripts cut to fit a prompt."""

from __future__ import annotations

from tinytroupe_mesh_api.common.v1 import study_pb2

from services.extraction.transcript import agent_view, as_text, ordered, render, words_of
from tests.extraction.conftest import TALK, THINK, transcript


def test_lines_say_who_spoke_to_whom():
    talk = study_pb2.Interaction(agent_name="Ana", action=TALK, content="Hi  Ben", target="Ben")
    assert render(talk) == "Ana to Ben: Hi Ben"
    assert render(study_pb2.Interaction(agent_name="Ana", action=THINK, content="hmm")) == "Ana (thinks): hmm"
    assert render(study_pb2.Interaction(action=study_pb2.ACTION_TYPE_STIMULUS, content="Look")) == "moderator: Look"
    assert render(study_pb2.Interaction(agent_name="Ana", action=study_pb2.ACTION_TYPE_DONE)) is None


def test_order_and_whose_words():
    interactions = transcript([("Ana", TALK, "one"), ("Ben", TALK, "two"), ("Ana", THINK, "three")])
    shuffled = ordered(list(reversed(interactions)))
    assert [interaction.content for interaction in shuffled][1:] == ["one", "two", "three"]
    assert words_of(shuffled, "Ana") == "one\nthree"
    assert words_of(shuffled) == "one\ntwo\nthree"
    assert [i.content for i in agent_view(shuffled, "Ben")][1:] == ["one", "two"]  # not Ana's thought


def test_long_transcripts_keep_the_stimulus_and_the_latest_lines():
    interactions = transcript([(f"Agent{index}", TALK, f"line {index} " + "x" * 80) for index in range(100)])
    text = as_text(interactions, max_chars=1000)
    assert len(text) <= 1000
    lines = text.splitlines()
    assert lines[0].startswith("moderator: What do you think")
    assert lines[1].startswith("[... ") and "earlier lines left out" in lines[1]
    assert lines[-1].startswith("Agent99: line 99")
    omitted = int(lines[1].split()[1])
    assert omitted + len(lines) - 2 == 100
    assert as_text(interactions[:3]) == "\n".join(render(i) for i in interactions[:3])
