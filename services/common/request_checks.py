"""The field checks every session-scoped request of the mesh shares: its session, its request id, its texts.

Each failure names its field; `require_request_fields` raises them together as one INVALID_ARGUMENT.
Whether the session exists, is the caller's tenant's and is active is control's to say
(`ControlClient.require_active_session`), after these checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from services.common.limits import texts_violations
from services.common.names import check_session_name
from services.common.violations import Violations

Violation = tuple[str, str]

MAX_REQUEST_ID_CHARS = 128
"""The longest `request_id` the mesh's services take (control's own limit)."""
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def request_id_violations(request_id: str, field: str = "request_id") -> list[Violation]:
    """What is wrong with a request id: too long, control characters or surrounding whitespace."""
    if len(request_id) > MAX_REQUEST_ID_CHARS:
        return [(field, f"is {len(request_id)} characters; at most {MAX_REQUEST_ID_CHARS}")]
    if _CONTROL_CHARACTERS.search(request_id) or request_id != request_id.strip():
        return [(field, "must not contain control characters or surrounding whitespace")]
    return []


def require_request_fields(session: str, texts: Iterable[tuple[str, str, int]] = (), request_id: str = "") -> None:
    """Raises one INVALID_ARGUMENT naming the `session` (required, `sessions/{session}`), the `request_id` and
    every `(field, text, limit)` over its limit, if any is wrong."""
    violations = Violations()
    check_session_name(violations, "session", session)
    violations.extend(request_id_violations(request_id))
    violations.extend(texts_violations(texts))
    violations.raise_if_any()
