"""Opaque page tokens: the cursor of the next page, bound to the filters of the request that made it."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from services.runtime.errors import InvalidArgument
from services.runtime.json_input import load_json

PAGE_TOKEN_FIELD = "page_token"


def _fingerprint(query: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(query, sort_keys=True).encode()).hexdigest()[:16]


def encode_page_token(cursor: int | str | None, query: dict[str, Any]) -> str:
    """The token of the page after `cursor` (empty when there is none)."""
    if cursor is None:
        return ""
    body = json.dumps({"c": cursor, "q": _fingerprint(query)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(body).decode().rstrip("=")


def decode_page_token(token: str, query: dict[str, Any], cursor_type: type) -> Any:
    """The cursor in `token`, or None for the first page; INVALID_ARGUMENT when malformed or reused."""
    if not token:
        return None
    try:
        body = load_json(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)), max_depth=2)
        cursor, fingerprint = body["c"], body["q"]
    except (binascii.Error, ValueError, TypeError, KeyError) as error:
        raise InvalidArgument(PAGE_TOKEN_FIELD, "is malformed; pass next_page_token unchanged") from error
    if not isinstance(cursor, cursor_type) or isinstance(cursor, bool):
        raise InvalidArgument(PAGE_TOKEN_FIELD, "is malformed; pass next_page_token unchanged")
    if fingerprint != _fingerprint(query):
        raise InvalidArgument(PAGE_TOKEN_FIELD, "was made for a request with other filters")
    return cursor
