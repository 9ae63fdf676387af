"""Checks of request fields; every failure names its field in an INVALID_ARGUMENT `BadRequest`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta

from google.protobuf import duration_pb2

from services.common.names import (
    CHECKPOINT_ID_RULE,
    SESSION_ID_RULE,
    checkpoint_ids_of,
    is_checkpoint_id,
    is_session_id,
    session_id_of,
)
from services.common.violations import Violations
from services.control.limits import (
    MAX_LABEL_VALUE_LENGTH,
    MAX_LEASE_TTL,
    MAX_PAGE_SIZE,
    MIN_LEASE_TTL,
)
from services.runtime.errors import InvalidArgument

_CACHE_NAMESPACE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,254}")
_LABEL_KEY = re.compile(r"[a-z][a-z0-9_.-]{0,62}")
_ANNOTATION_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def session_id_from_name(field: str, name: str) -> str:
    """The id of `sessions/{session}`."""
    return session_id_of(name, field)


def checkpoint_from_name(field: str, name: str) -> tuple[str, str]:
    """Session id and checkpoint id (or `-latest`) of `sessions/{session}/checkpoints/{checkpoint}`."""
    return checkpoint_ids_of(name, field)


def check_session_id(violations: Violations, field: str, value: str) -> None:
    violations.check(is_session_id(value), field, f"must be {SESSION_ID_RULE}")


def check_checkpoint_id(violations: Violations, field: str, value: str) -> None:
    if violations.check(bool(value), field, "is required"):
        violations.check(is_checkpoint_id(value), field, f"must be {CHECKPOINT_ID_RULE}")


def check_cache_namespace(violations: Violations, field: str, value: str) -> None:
    violations.check(
        bool(_CACHE_NAMESPACE.fullmatch(value)),
        field,
        "must be 1 to 255 letters, digits, '.', '_', ':', '/' or '-', starting with a letter or digit",
    )


def check_text(violations: Violations, field: str, value: str, max_length: int, *, required: bool = False) -> None:
    if required and not violations.check(bool(value), field, "is required"):
        return
    violations.check(len(value) <= max_length, field, f"must be at most {max_length} characters")


def check_token(violations: Violations, field: str, value: str, max_length: int, *, required: bool = False) -> None:
    """A single-line identifier chosen by the caller (request ids, lease holders)."""
    check_text(violations, field, value, max_length, required=required)
    violations.check(
        not _CONTROL_CHARACTERS.search(value) and value == value.strip(),
        field,
        "must not contain control characters or surrounding whitespace",
    )


def check_labels(violations: Violations, field: str, labels: Mapping[str, str], max_count: int) -> None:
    violations.check(len(labels) <= max_count, field, f"must have at most {max_count} entries")
    for key, value in labels.items():
        violations.check(
            bool(_LABEL_KEY.fullmatch(key)),
            f"{field}[{key!r}]",
            "key must be 1 to 63 lowercase letters, digits, '_', '.' or '-', starting with a letter",
        )
        violations.check(
            len(value) <= MAX_LABEL_VALUE_LENGTH,
            f"{field}[{key!r}]",
            f"value must be at most {MAX_LABEL_VALUE_LENGTH} characters",
        )


def check_annotations(
    violations: Violations, field: str, annotations: Mapping[str, str], max_count: int, max_value_length: int
) -> None:
    violations.check(len(annotations) <= max_count, field, f"must have at most {max_count} entries")
    for key, value in annotations.items():
        violations.check(
            bool(_ANNOTATION_KEY.fullmatch(key)),
            f"{field}[{key!r}]",
            "key must be 1 to 63 letters, digits, '_', '.' or '-', starting with a letter or digit",
        )
        violations.check(
            len(value) <= max_value_length, f"{field}[{key!r}]", f"value must be at most {max_value_length} characters"
        )


def page_size(field: str, value: int, default: int) -> int:
    if value < 0 or value > MAX_PAGE_SIZE:
        raise InvalidArgument(field, f"must be 0 to {MAX_PAGE_SIZE} (0 means {default})")
    return value or default


def lease_ttl(field: str, present: bool, ttl: duration_pb2.Duration) -> timedelta:
    if not present:
        raise InvalidArgument(field, "is required")
    if ttl.nanos < 0 or ttl.seconds < 0 or ttl.nanos >= 1_000_000_000:
        raise InvalidArgument(field, "must be a valid positive duration")
    too_long = ttl.seconds > MAX_LEASE_TTL.total_seconds()  # checked first: huge values overflow timedelta
    if too_long or not MIN_LEASE_TTL <= (value := ttl.ToTimedelta()) <= MAX_LEASE_TTL:
        raise InvalidArgument(
            field, f"must be {MIN_LEASE_TTL.total_seconds():g} s to {MAX_LEASE_TTL.total_seconds():g} s"
        )
    return value
