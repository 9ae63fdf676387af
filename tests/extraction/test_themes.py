"""Near-duplicate phrases group into themes, deterministically."""

from __future__ import annotations

from services.engine.themes import PhraseKey, content_words, group_themes, similarity, split_sentences


def test_content_words_drop_stop_words_and_plurals():
    assert content_words("The prices are too high!") == ("price", "high")
    assert content_words("glass") == ("glass",)


def test_similarity_is_jaccard_or_a_near_identical_spelling():
    def key(phrase):
        return PhraseKey.of(phrase)

    assert similarity(key("high price"), key("the price is high")) == 1.0
    assert similarity(key("battery life"), key("short battery life")) == 2 / 3
    assert similarity(key("pricey"), key("pricy")) == 10 / 11  # difflib: 2 * 5 matching / 11 letters
    assert similarity(key("colour"), key("color")) == 10 / 11
    assert similarity(key("privacy"), key("battery")) < 0.5
    assert similarity(key("the"), key("price")) == 0.0


def test_near_duplicates_are_grouped_and_counted_once_per_agent():
    answers = [
        ["high price", "battery life"],
        ["Price is too high", "short battery life", "prices too high"],  # two phrasings, one agent
        ["privacy"],
        ["High price."],
        ["pricey", "data privacy concerns"],
        ["pricy"],
    ]
    themes = group_themes(answers)
    assert themes[:3] == [("high price", 3), ("battery life", 2), ("pricey", 2)]
    assert ("privacy", 1) in themes and ("data privacy concerns", 1) in themes
    assert sum(count for _, count in themes) == 9


def test_grouping_is_deterministic_and_ranked():
    answers = [["noise"], ["size"], ["size"], ["noise"], ["colour"], ["noise"]]
    assert group_themes(answers) == [("noise", 3), ("size", 2), ("colour", 1)]
    assert group_themes(answers) == group_themes([list(a) for a in answers])
    assert group_themes(answers, max_themes=1) == [("noise", 3)]
    assert group_themes([[], ["the"], ["   "]]) == []


def test_texts_split_into_sentences():
    assert split_sentences("I like it. But the price is high!\nMaybe later") == [
        "I like it",
        "But the price is high",
        "Maybe later",
    ]
