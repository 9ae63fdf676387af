"""An experiment field's values, arm by arm, read from the arms' study results."""

from __future__ import annotations

from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.common.hints import FieldSpec, ValueKind

YES, NO = "yes", "no"


def numbers_by_participant(result: orchestrator_pb2.StudyResult, field: str) -> dict[str, float]:
    return {
        entry.agent_name: entry.fields[field].number_value
        for entry in result.extracted_results.individual_results
        if field in entry.fields and entry.fields[field].WhichOneof("value") == "number_value"
    }


def labels(result: orchestrator_pb2.StudyResult, field: str) -> list[str]:
    found = []
    for entry in result.extracted_results.individual_results:
        value = entry.fields[field] if field in entry.fields else None
        kind = value.WhichOneof("value") if value is not None else None
        if kind == "string_value":
            found.append(value.string_value)
        elif kind == "bool_value":
            found.append(YES if value.bool_value else NO)
    return found


def categories_of(spec: FieldSpec, seen: list[list[str]]) -> list[str]:
    """The field's categories: those its hint names, then any other value the arms gave."""
    known = list(spec.categories) if spec.kind is ValueKind.CATEGORY else [YES, NO]
    return known + sorted({label for arm in seen for label in arm} - set(known))


def category_counts(categories: list[str], arm_labels: list[str]) -> list[study_pb2.CategoryCount]:
    total = len(arm_labels)
    return [
        study_pb2.CategoryCount(
            value=category, count=arm_labels.count(category), share=arm_labels.count(category) / total if total else 0.0
        )
        for category in categories
    ]
