"""Extracted results as documents: JSON (the contract's own JSON mapping, full precision) and CSV (a row per
agent, numbers rounded for people)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from google.protobuf import json_format
from tinytroupe_mesh_api.common.v1 import study_pb2

from services.common.extracted_values import python_value

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


def plan_to_json(results: study_pb2.ExtractedResults, step_results: Sequence[study_pb2.StepResults]) -> bytes:
    """A study plan's results: `{"results": ..., "step_results": [...]}` in the same JSON mapping."""

    def mapped(message) -> dict:
        return json_format.MessageToDict(
            message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
        )

    document = {"results": mapped(results), "step_results": [mapped(step) for step in step_results]}
    return json.dumps(document, indent=2, ensure_ascii=False).encode()


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


def to_csv(
    results: study_pb2.ExtractedResults,
    fields: list[str] | None = None,
    step_results: Sequence[study_pb2.StepResults] = (),
) -> bytes:
    """One row per agent: `agent_name`, one column per field, then one per step and field of a study plan
    (`{step}.{field}`), `confidence_score` (the study's; without study-level results, the mean of the
    steps'); empty cells lack a value."""
    columns = [("", name) for name in column_order(results, fields)]
    columns += [(step.step, name) for step in step_results for name in column_order(step.extracted_results)]
    by_source = {"": _by_agent(results), **{step.step: _by_agent(step.extracted_results) for step in step_results}}
    agents = list(dict.fromkeys(name for answers in by_source.values() for name in answers))
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["agent_name", *(f"{step}.{name}" if step else name for step, name in columns), "confidence_score"])
    for agent in agents:
        cells = []
        for step, name in columns:
            answer = by_source[step].get(agent)
            cells.append(cell(answer.fields[name]) if answer is not None and name in answer.fields else "")
        writer.writerow([agent, *cells, rounded(_confidence(agent, by_source))])
    return buffer.getvalue().encode()


def _by_agent(results: study_pb2.ExtractedResults) -> dict[str, study_pb2.AgentResult]:
    return {result.agent_name: result for result in results.individual_results}


def _confidence(agent: str, by_source: dict[str, dict[str, study_pb2.AgentResult]]) -> float:
    if agent in by_source[""]:
        return by_source[""][agent].confidence_score
    scores = [answers[agent].confidence_score for answers in by_source.values() if agent in answers]
    return sum(scores) / len(scores) if scores else 0.0
