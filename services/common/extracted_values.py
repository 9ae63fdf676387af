"""Typed extracted values as the contract carries them (`FieldValue`), and their Python form."""

from __future__ import annotations

from tinytroupe_mesh_api.common.v1 import study_pb2

from services.common.hints import ValueKind

Value = float | str | bool | list[str]

HINT_ECHO = "missing: the value only repeats"
"""How the problem of a value that only repeats the field's hint or the question begins."""

PROTO_KINDS = {
    ValueKind.NUMBER: study_pb2.VALUE_KIND_NUMBER,
    ValueKind.CATEGORY: study_pb2.VALUE_KIND_CATEGORY,
    ValueKind.LIST: study_pb2.VALUE_KIND_LIST,
    ValueKind.TEXT: study_pb2.VALUE_KIND_TEXT,
    ValueKind.BOOLEAN: study_pb2.VALUE_KIND_BOOLEAN,
}


def python_value(field_value: study_pb2.FieldValue) -> Value | None:
    """The typed value a FieldValue holds, or None."""
    which = field_value.WhichOneof("value")
    if which == "list_value":
        return list(field_value.list_value.values)
    return getattr(field_value, which) if which else None
