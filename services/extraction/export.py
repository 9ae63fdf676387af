"""Extracted results as documents: JSON (the contract's own JSON mapping, full precision) and CSV (a row per
agent, numbers rounded for people)."""

from __future__ import annotations

import csv
import io

from google.protobuf import json_format
from tinytroupe_mesh_api.common.v1 import study_pb2

from services.extraction.results import python_value

JSON_CONTENT_TYPE = "application/json"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
LIST_SEPARATOR = "; "


def to_json(results: study_pb2.ExtractedResults) -> bytes:
    """The results in protobuf's JSON mapping with the proto field names; `from_json` reads it back."""
    return json_format.MessageToJson(
        results,
        preserving_proto_field_name=True,
        always_print_fields_with_no_presence=True,
        indent=2,
        ensure_ascii=False,
    ).encode()


def from_json(document: bytes | str) -> study_pb2.ExtractedResults:
    return json_format.Parse(document, study_pb2.ExtractedResults())


def column_order(results: study_pb2.ExtractedResults, fields: list[str] | None = None) -> list[str]:
    """Field columns: those asked for first, then the statistics' order, then the rest alphabetically."""
    order = list(dict.fromkeys([*(fields or []), *(s.field for s in results.aggregate_statistics)]))
    present = {name for result in results.individual_results for name in result.fields}
    return [name for name in order if name in present] + sorted(present - set(order))


CSV_DECIMALS = 3
"""CSV is read by people: numbers are rounded to this many decimals (JSON keeps full precision)."""


def rounded(number: float) -> str:
    """A number for people: at most `CSV_DECIMALS` decimals, no trailing zeros, no needless ".0"."""
    number = round(number, CSV_DECIMALS) + 0.0  # + 0.0 turns -0.0 into 0.0
    return str(int(number)) if number.is_integer() else repr(number)


def cell(field_value: study_pb2.FieldValue | None) -> str:
    """A value as CSV text: numbers rounded (`rounded`), yes/no, list items joined by "; "."""
    value = None if field_value is None else python_value(field_value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return rounded(value)
    if isinstance(value, list):
        return LIST_SEPARATOR.join(value)
    return value


def to_csv(results: study_pb2.ExtractedResults, fields: list[str] | None = None) -> bytes:
    """One row per agent: `agent_name`, one column per field, `confidence_score`; empty cells lack a value."""
    columns = column_order(results, fields)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["agent_name", *columns, "confidence_score"])
    for result in results.individual_results:
        cells = [cell(result.fields[name]) if name in result.fields else "" for name in columns]
        writer.writerow([result.agent_name, *cells, rounded(result.confidence_score)])
    return buffer.getvalue().encode()
