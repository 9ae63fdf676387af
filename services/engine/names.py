"""Person names: cleaning, comparison keys and a registry that keeps a population's names unique."""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import Iterable

_QUOTES = "\"'`\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u00ab\u00bb\u2039\u203a"
_WHITESPACE = re.compile(r"\s+")


def clean_name(raw: str) -> str:
    """The display form of a name: surrounding quotes and whitespace stripped, inner whitespace collapsed."""
    name = _WHITESPACE.sub(" ", unicodedata.normalize("NFC", raw)).strip()
    while name and (name[0] in _QUOTES or name[-1] in _QUOTES):
        name = name.strip(_QUOTES).strip()
    return name


def normalize_name(raw: str) -> str:
    """The comparison key of a name: cleaned, compatibility-normalised and casefolded."""
    return unicodedata.normalize("NFKC", clean_name(raw)).casefold()


def _roman(number: int) -> str:
    numerals = (
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    )
    parts = []
    for value, numeral in numerals:
        count, number = divmod(number, value)
        parts.append(numeral * count)
    return "".join(parts)


class NameRegistry:
    """The names taken within one population; claims are atomic under asyncio concurrency."""

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self._names: dict[str, str] = {}
        self._lock = asyncio.Lock()
        for name in taken:
            self._add(name)

    def _add(self, name: str) -> bool:
        key = normalize_name(name)
        if not key or key in self._names:
            return False
        self._names[key] = clean_name(name)
        return True

    async def claim(self, name: str) -> bool:
        """Takes `name` when no equal name (ignoring case, spacing and quotes) is taken yet."""
        async with self._lock:
            return self._add(name)

    async def claim_disambiguated(self, name: str) -> str:
        """Takes `name`, or the first free of "name II", "name III", ...; returns the name taken."""
        async with self._lock:
            return self.take_disambiguated(name)

    def take_disambiguated(self, name: str) -> str:
        """`claim_disambiguated` for a single caller (no concurrent claims)."""
        base = clean_name(name)
        if not base:
            raise ValueError("cannot claim an empty name")
        candidate, ordinal = base, 1
        while not self._add(candidate):
            ordinal += 1
            candidate = f"{base} {_roman(ordinal)}"
        return candidate

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and normalize_name(name) in self._names

    def __len__(self) -> int:
        return len(self._names)

    def taken_as(self, name: str) -> str | None:
        """The display form under which a name equal to `name` was taken, if it was."""
        return self._names.get(normalize_name(name))

    def taken_names(self) -> list[str]:
        """The display forms of the taken names, in the order they were claimed."""
        return list(self._names.values())
