"""Resource names: a study's operation `operations/{id}` is its session `sessions/{id}`."""

from __future__ import annotations

import re

from services.runtime.errors import InvalidArgument

OPERATIONS_PREFIX = "operations/"
SESSIONS_PREFIX = "sessions/"
_ID = re.compile(r"^[A-Za-z0-9-]{1,63}$")


def operation_name(session_id: str) -> str:
    return f"{OPERATIONS_PREFIX}{session_id}"


def session_name(session_id: str) -> str:
    return f"{SESSIONS_PREFIX}{session_id}"


def session_id_of(name: str, field: str = "name") -> str:
    """The id in `operations/{id}` or `sessions/{id}`; InvalidArgument naming `field` otherwise."""
    for prefix in (OPERATIONS_PREFIX, SESSIONS_PREFIX):
        if name.startswith(prefix) and _ID.match(name[len(prefix) :]):
            return name[len(prefix) :]
    raise InvalidArgument(field, f"must be operations/{{id}}, got {name!r}")
