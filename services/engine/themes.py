"""The most frequent themes of list and text answers, near-duplicates grouped.

Phrases are normalised to their content words (lower case, stop words dropped, plural "s" removed);
two phrases are one theme when their word sets overlap enough (Jaccard) or their normalised texts
are nearly equal (difflib ratio, which catches spelling variants such as "pricey" and "pricy"). Grouping is greedy and
deterministic: the most frequent phrasings found the themes, in the order they first appear.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from difflib import SequenceMatcher

JACCARD_THRESHOLD = 0.5
RATIO_THRESHOLD = 0.85
MAX_THEMES = 10

_WORD = re.compile(r"[a-z0-9]+")
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n+")
STOP_WORDS = frozenset(
    (
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "at",
        "by",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "i",
        "me",
        "my",
        "we",
        "our",
        "you",
        "your",
        "he",
        "she",
        "they",
        "them",
        "their",
        "his",
        "her",
        "too",
        "very",
        "so",
        "really",
        "quite",
        "just",
        "would",
        "could",
        "should",
        "will",
        "can",
        "may",
        "might",
        "do",
        "does",
        "did",
        "not",
        "no",
        "about",
        "some",
        "any",
        "more",
        "most",
        "much",
        "many",
    )
)


def content_words(phrase: str) -> tuple[str, ...]:
    """The phrase's words that carry meaning, singularised crudely ("prices" -> "price")."""
    words = []
    for word in _WORD.findall(phrase.lower()):
        if word in STOP_WORDS:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.append(word)
    return tuple(words)


@dataclass(frozen=True)
class PhraseKey:
    """A phrase's content words, with what the similarity test needs precomputed."""

    words: tuple[str, ...]
    word_set: frozenset[str]
    text: str

    @classmethod
    def of(cls, phrase: str) -> PhraseKey:
        words = content_words(phrase)
        return cls(words, frozenset(words), " ".join(words))


SPELLING_VARIANT_MAX_WORDS = 3
"""Longer phrases need no spelling test: one variant word among four still leaves Jaccard at 0.6."""


def _may_be_spelling_variants(first: PhraseKey, second: PhraseKey) -> bool:
    """Spelling variants are looked for among short phrases of close length with the same first
    letter: the length test is difflib's own upper bound of the ratio; the others keep it cheap."""
    total = len(first.text) + len(second.text)
    return (
        max(len(first.words), len(second.words)) <= SPELLING_VARIANT_MAX_WORDS
        and first.text[:1] == second.text[:1]
        and 2 * min(len(first.text), len(second.text)) >= RATIO_THRESHOLD * total
    )


def similarity(first: PhraseKey, second: PhraseKey) -> float:
    """Jaccard of the word sets, or the difflib ratio of the texts where that marks a spelling variant."""
    if not first.words or not second.words:
        return 0.0
    jaccard = len(first.word_set & second.word_set) / len(first.word_set | second.word_set)
    if jaccard >= JACCARD_THRESHOLD or not _may_be_spelling_variants(first, second):
        return jaccard
    ratio = SequenceMatcher(None, first.text, second.text, autojunk=False).ratio()
    return ratio if ratio >= RATIO_THRESHOLD else jaccard


@dataclass
class Theme:
    """A group of near-duplicate phrases and the agents who gave them."""

    key: PhraseKey
    phrasings: Counter[str] = field(default_factory=Counter)
    agents: set[int] = field(default_factory=set)

    @property
    def label(self) -> str:
        return self.phrasings.most_common(1)[0][0]


def split_sentences(text: str) -> list[str]:
    """A free text's sentences, the unit a text field's themes are counted in."""
    return [sentence.strip(" .!?;") for sentence in _SENTENCE_END.split(text) if sentence.strip(" .!?;")]


def group_themes(answers: list[list[str]], max_themes: int = MAX_THEMES) -> list[tuple[str, int]]:
    """The most frequent themes among agents' answers (one list of phrases per agent).

    Returns (label, number of agents who mentioned it), most frequent first; an agent counts once per
    theme however many of its phrases fall in it. The label is the theme's most frequent phrasing.
    """
    phrasings: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    for phrases in answers:
        for phrase in phrases:
            phrase = " ".join(phrase.split())
            if content_words(phrase):
                phrasings[phrase] += 1
                first_seen.setdefault(phrase, len(first_seen))
    themes: list[Theme] = []
    theme_of: dict[str, Theme] = {}
    for phrase in sorted(phrasings, key=lambda text: (-phrasings[text], first_seen[text])):
        key = PhraseKey.of(phrase)
        scored = [(similarity(key, theme.key), -index) for index, theme in enumerate(themes)]
        best = max(range(len(themes)), key=lambda index: scored[index], default=None)
        if best is not None and scored[best][0] >= JACCARD_THRESHOLD:
            theme = themes[best]
        else:
            theme = Theme(key=key)
            themes.append(theme)
        theme.phrasings[phrase] += phrasings[phrase]
        theme_of[phrase] = theme
    for agent, phrases in enumerate(answers):
        for phrase in phrases:
            if (theme := theme_of.get(" ".join(phrase.split()))) is not None:
                theme.agents.add(agent)
    ranked = sorted(enumerate(themes), key=lambda item: (-len(item[1].agents), item[0]))
    return [(theme.label, len(theme.agents)) for _, theme in ranked[:max_themes]]
