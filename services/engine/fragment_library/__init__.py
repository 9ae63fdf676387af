"""The engine's own persona fragments, in TinyTroupe's fragment format, shipped as package data.

Names follow TinyTroupe's library (`authoritarian`, `leftwing`, ...): file `<name>.agent.fragment.json`.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from services.engine.fragments import parse_fragment

_SUFFIX = ".agent.fragment.json"


class UnknownFragmentError(KeyError):
    """No built-in fragment has the requested name."""


def _canonical(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def builtin_fragment_names() -> list[str]:
    """The built-in fragments' names, sorted."""
    files = resources.files(__name__).iterdir()
    return sorted(entry.name.removesuffix(_SUFFIX) for entry in files if entry.name.endswith(_SUFFIX))


def builtin_fragment(name: str) -> dict[str, Any]:
    """A fresh copy of one built-in fragment document (`{"type": "Fragment", "persona": {...}}`)."""
    canonical = _canonical(name)
    if canonical not in builtin_fragment_names():
        known = ", ".join(builtin_fragment_names())
        raise UnknownFragmentError(f"no built-in fragment {name!r}; known: {known}")
    return parse_fragment(resources.files(__name__).joinpath(canonical + _SUFFIX).read_bytes())
