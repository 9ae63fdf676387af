"""Parsing JSON that callers or models send: nesting is bounded and every failure is a ValueError.

`json.loads` raises RecursionError on text like `[[[[...` thousands deep, which no handler of
malformed JSON expects; here that, and any document nested deeper than `MAX_JSON_DEPTH`, is a
ValueError like any other malformed input.
"""

from __future__ import annotations

import json
from typing import Any

MAX_JSON_DEPTH = 32
"""Deepest nesting of objects and arrays accepted; real personas and answers need about five levels."""


class JsonTooDeep(ValueError):
    """A JSON document nested deeper than allowed."""

    def __init__(self, max_depth: int):
        super().__init__(f"nested more than {max_depth} levels deep")


def load_json(text: str | bytes, *, max_depth: int = MAX_JSON_DEPTH, **options: Any) -> Any:
    """`json.loads(text, **options)`; ValueError for malformed text or nesting beyond `max_depth`."""
    try:
        document = json.loads(text, **options)
    except RecursionError:
        raise JsonTooDeep(max_depth) from None
    if nesting_depth(document) > max_depth:
        raise JsonTooDeep(max_depth)
    return document


def nesting_depth(document: Any) -> int:
    """Nesting depth of a parsed JSON document, without recursion."""
    deepest, pending = 0, [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, depth)
            children = value.values() if isinstance(value, dict) else value
            pending.extend((child, depth + 1) for child in children)
    return deepest
