"""Resource names of the mesh (AIP-122): one id pattern, one way to format and parse each name.

A study's session is `sessions/{session}`; its long-running operation is `operations/{session}` (the same
id); a checkpoint is `sessions/{session}/checkpoints/{checkpoint}`, a remembered response
`sessions/{session}/rememberedResponses/{response}`, a standing panel `panels/{panel}`. Fields and keys
holding one of these strings are names; the bare `{session}` part is an id.
"""

from __future__ import annotations

import re

from services.common.violations import Violations
from services.runtime.errors import InvalidArgument

SESSIONS = "sessions/"
OPERATIONS = "operations/"
LATEST_CHECKPOINT = "-latest"
"""The checkpoint id that names a session's most recent checkpoint when reading."""

SESSION_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9-]{0,62}"
CHECKPOINT_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}"
SESSION_ID_RULE = "1 to 63 letters, digits or '-', starting with a letter or digit"
CHECKPOINT_ID_RULE = "1 to 63 letters, digits, '_' or '-', starting with a letter or digit"

_SESSION_ID = re.compile(SESSION_ID_PATTERN)
_CHECKPOINT_ID = re.compile(CHECKPOINT_ID_PATTERN)
_SESSION_NAME = re.compile(rf"{SESSIONS}({SESSION_ID_PATTERN})")
_STUDY_NAME = re.compile(rf"(?:{OPERATIONS}|{SESSIONS})({SESSION_ID_PATTERN})")
_CHECKPOINT_NAME = re.compile(
    rf"{SESSIONS}({SESSION_ID_PATTERN})/checkpoints/({CHECKPOINT_ID_PATTERN}|{LATEST_CHECKPOINT})"
)
REMEMBERED_RESPONSES = "rememberedResponses"
RESPONSE_ID_PATTERN = CHECKPOINT_ID_PATTERN
RESPONSE_ID_RULE = CHECKPOINT_ID_RULE
_RESPONSE_ID = re.compile(RESPONSE_ID_PATTERN)
_REMEMBERED_RESPONSE_NAME = re.compile(
    rf"{SESSIONS}({SESSION_ID_PATTERN})/{REMEMBERED_RESPONSES}/({RESPONSE_ID_PATTERN})"
)


def session_name(session_id: str) -> str:
    return f"{SESSIONS}{session_id}"


def operation_name(session_id: str) -> str:
    return f"{OPERATIONS}{session_id}"


def checkpoint_name(session: str, checkpoint_id: str) -> str:
    """`sessions/{session}/checkpoints/{checkpoint}` from a session name or id and a checkpoint id."""
    if not session.startswith(SESSIONS):
        session = session_name(session)
    return f"{session}/checkpoints/{checkpoint_id}"


def remembered_response_name(session: str, response_id: str) -> str:
    """`sessions/{session}/rememberedResponses/{response}` from a session name or id and a response id."""
    if not session.startswith(SESSIONS):
        session = session_name(session)
    return f"{session}/{REMEMBERED_RESPONSES}/{response_id}"


def last_segment(name: str) -> str:
    """The id at the end of a resource name: `round_2` of `sessions/a/checkpoints/round_2`."""
    return name.rsplit("/", 1)[-1]


def is_session_id(value: str) -> bool:
    return bool(_SESSION_ID.fullmatch(value))


def is_checkpoint_id(value: str) -> bool:
    return bool(_CHECKPOINT_ID.fullmatch(value))


def is_response_id(value: str) -> bool:
    return bool(_RESPONSE_ID.fullmatch(value))


def is_session_name(name: str) -> bool:
    return bool(_SESSION_NAME.fullmatch(name))


def session_id_of(name: str, field: str = "name") -> str:
    """The id of `sessions/{session}`; InvalidArgument naming `field` otherwise."""
    if not name:
        raise InvalidArgument(field, "is required")
    match = _SESSION_NAME.fullmatch(name)
    if match is None:
        raise InvalidArgument(field, f"must be sessions/{{session}} with a session id of {SESSION_ID_RULE}")
    return match[1]


def study_id_of(name: str, field: str = "name") -> str:
    """The id in a study's `operations/{id}` or `sessions/{id}`; InvalidArgument naming `field` otherwise."""
    match = _STUDY_NAME.fullmatch(name)
    if match is None:
        raise InvalidArgument(field, f"must be operations/{{id}}, got {name!r}")
    return match[1]


def checkpoint_ids_of(name: str, field: str = "name") -> tuple[str, str]:
    """Session id and checkpoint id (or `-latest`) of `sessions/{session}/checkpoints/{checkpoint}`."""
    if not name:
        raise InvalidArgument(field, "is required")
    match = _CHECKPOINT_NAME.fullmatch(name)
    if match is None:
        raise InvalidArgument(
            field,
            "must be sessions/{session}/checkpoints/{checkpoint} with a checkpoint id of "
            f"{CHECKPOINT_ID_RULE}, or {LATEST_CHECKPOINT}",
        )
    return match[1], match[2]


def remembered_response_ids_of(name: str, field: str = "name") -> tuple[str, str]:
    """Session id and response id of `sessions/{session}/rememberedResponses/{response}`."""
    if not name:
        raise InvalidArgument(field, "is required")
    match = _REMEMBERED_RESPONSE_NAME.fullmatch(name)
    if match is None:
        raise InvalidArgument(
            field,
            f"must be sessions/{{session}}/{REMEMBERED_RESPONSES}/{{response}} with a "
            f"response id of {RESPONSE_ID_RULE}",
        )
    return match[1], match[2]


def check_session_name(violations: Violations, field: str, name: str, *, required: bool = True) -> None:
    """Adds a violation unless `name` is `sessions/{session}` (or empty where not required)."""
    if not name:
        if required:
            violations.add(field, "is required")
        return
    violations.check(
        is_session_name(name), field, f"must be sessions/{{session}} with a session id of {SESSION_ID_RULE}"
    )


PANELS = "panels/"
PANEL_ID_PATTERN = r"[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?"
PANEL_ID_RULE = "1 to 63 lowercase letters, digits or '-', starting with a letter and not ending with '-'"
_PANEL_ID = re.compile(PANEL_ID_PATTERN)
_PANEL_NAME = re.compile(rf"{PANELS}({PANEL_ID_PATTERN})")


def panel_name(panel_id: str) -> str:
    return f"{PANELS}{panel_id}"


def is_panel_id(value: str) -> bool:
    return bool(_PANEL_ID.fullmatch(value))


def is_panel_name(name: str) -> bool:
    return bool(_PANEL_NAME.fullmatch(name))


def panel_id_of(name: str, field: str = "name") -> str:
    """The id of `panels/{panel}`; InvalidArgument naming `field` otherwise."""
    if not name:
        raise InvalidArgument(field, "is required")
    match = _PANEL_NAME.fullmatch(name)
    if match is None:
        raise InvalidArgument(field, f"must be panels/{{panel}} with a panel id of {PANEL_ID_RULE}")
    return match[1]


def check_panel_name(violations: Violations, field: str, name: str, *, required: bool = True) -> None:
    """Adds a violation unless `name` is `panels/{panel}` (or empty where not required)."""
    if not name:
        if required:
            violations.add(field, "is required")
        return
    violations.check(is_panel_name(name), field, f"must be panels/{{panel}} with a panel id of {PANEL_ID_RULE}")
