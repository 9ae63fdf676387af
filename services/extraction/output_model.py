"""The extractor's output models, built per request from the field specs.

The JSON schema the model is given is strict: an integer field is `{"type": "integer", "minimum": 1,
"maximum": 10}`, a category field an `enum`, each value nullable so the model can say a value is
absent rather than invent one, plus `evidence` (a short quote) and `confidence` per field. Validation
on our side is lenient (a field answer accepts anything), so one malformed field becomes that field's
problem after coercion instead of failing the whole answer.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    WithJsonSchema,
    create_model,
    field_validator,
    model_validator,
)

from services.common.hints import FieldSpec, ValueKind

EVIDENCE_MAX_CHARS = 160
LIST_MAX_ITEMS = 8
LIST_ITEM_MAX_CHARS = 80
TEXT_MAX_CHARS = 300


class FieldAnswer(BaseModel):
    """The extractor's answer for one field, accepted as given; coercion judges the value."""

    model_config = ConfigDict(extra="ignore")

    evidence: str = ""
    value: Any = None
    confidence: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _bare_value(cls, data: Any) -> Any:
        return data if isinstance(data, dict) else {"value": data}

    @field_validator("evidence", mode="before")
    @classmethod
    def _evidence_text(cls, evidence: Any) -> str:
        if evidence is None:
            return ""
        return evidence if isinstance(evidence, str) else str(evidence)

    @field_validator("confidence", mode="before")
    @classmethod
    def _confidence_number(cls, confidence: Any) -> float | None:
        if isinstance(confidence, bool):
            return None
        try:
            return min(1.0, max(0.0, float(confidence)))
        except (TypeError, ValueError):
            return None


def value_schema(spec: FieldSpec) -> dict[str, Any]:
    """The JSON schema of a field's value (without the null alternative)."""
    if spec.kind is ValueKind.NUMBER:
        schema: dict[str, Any] = {"type": "integer" if spec.integer else "number"}
        if spec.minimum is not None:
            schema["minimum"] = int(spec.minimum) if spec.integer else spec.minimum
        if spec.maximum is not None:
            schema["maximum"] = int(spec.maximum) if spec.integer else spec.maximum
        return schema
    if spec.kind is ValueKind.CATEGORY:
        return {"type": "string", "enum": list(spec.categories)}
    if spec.kind is ValueKind.BOOLEAN:
        return {"type": "boolean"}
    if spec.kind is ValueKind.LIST:
        return {
            "type": "array",
            "items": {"type": "string", "maxLength": LIST_ITEM_MAX_CHARS},
            "maxItems": LIST_MAX_ITEMS,
        }
    return {"type": "string", "maxLength": TEXT_MAX_CHARS}


def answer_schema(spec: FieldSpec) -> dict[str, Any]:
    """The JSON schema of one field's answer: the value, a supporting quote, a confidence."""
    return {
        "type": "object",
        "properties": {
            "value": {"anyOf": [value_schema(spec), {"type": "null"}]},
            "evidence": {"type": "string", "maxLength": EVIDENCE_MAX_CHARS},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        },
        "required": ["value", "evidence", "confidence"],
    }


def _require_all(schema: dict[str, Any]) -> None:
    """Every field is required in the schema (validation stays lenient); no noise for the model."""
    for property_schema in schema.get("properties", {}).values():
        property_schema.pop("default", None)
        property_schema.pop("title", None)
    schema["required"] = list(schema.get("properties", {}))
    schema["additionalProperties"] = False


def _field_definitions(specs: list[FieldSpec]) -> dict[str, Any]:
    """Python-safe attribute names (`f0`, `f1`, ...) aliased to the fields' own names."""
    return {
        f"f{index}": (
            Annotated[FieldAnswer | None, WithJsonSchema(answer_schema(spec))],
            Field(default=None, alias=spec.name),
        )
        for index, spec in enumerate(specs)
    }


class ExtractionAnswer(BaseModel):
    """Base of the per-request answer models: answers by field name."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", json_schema_extra=_require_all)

    def answers(self) -> dict[str, FieldAnswer | None]:
        return {
            info.alias or name: getattr(self, name)
            for name, info in type(self).model_fields.items()
            if name.startswith("f") and name[1:].isdigit()
        }


def agent_answer_model(specs: list[FieldSpec]) -> type[ExtractionAnswer]:
    """The answer model of one agent (per-agent and rapporteur modes)."""
    return create_model("FieldExtraction", __base__=ExtractionAnswer, **_field_definitions(specs))


def _as_text(value: Any) -> str:
    return "" if value is None else str(value)


class WorldAnswer(BaseModel):
    """Base of the whole-world answer models: one entry per participant."""

    model_config = ConfigDict(extra="ignore", json_schema_extra=_require_all)


def world_answer_model(specs: list[FieldSpec], agent_names: list[str]) -> type[WorldAnswer]:
    """The answer model of whole-world mode: `results`, one entry per named agent."""
    name_schema = {"type": "string", "enum": agent_names}
    entry = create_model(
        "ParticipantExtraction",
        __base__=ExtractionAnswer,
        agent_name=(Annotated[str, WithJsonSchema(name_schema)], ""),
        __validators__={"_name": field_validator("agent_name", mode="before")(_as_text)},
        **_field_definitions(specs),
    )
    entry_schema = entry.model_json_schema()
    entry_schema.pop("title", None)
    results_schema = {
        "type": "array",
        "items": entry_schema,
        "minItems": len(agent_names),
        "maxItems": len(agent_names),
    }

    def _lenient_entries(entries: Any) -> list[Any]:
        return [item for item in entries if isinstance(item, dict)] if isinstance(entries, list) else []

    return create_model(
        "WorldExtraction",
        __base__=WorldAnswer,
        results=(Annotated[list[entry], WithJsonSchema(results_schema)], Field(default_factory=list)),
        __validators__={"_entries": field_validator("results", mode="before")(_lenient_entries)},
    )
