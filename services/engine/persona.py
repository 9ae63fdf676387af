"""TinyTroupe persona specs (`{"type": "TinyPerson", "persona": {...}}`): validation, loading, saving.

A spec is read unchanged: extra top-level sections that TinyTroupe writes when it saves an agent
(`episodic_memory`, `semantic_memory`, `mental_faculties`, `_configuration`, `_mental_state`, ...) are
kept as they are, in their order, and written back. Only the fields the engine relies on are checked.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.engine.persona_text import render_persona
from services.runtime.json_input import JsonTooDeep, load_json

PERSON_TYPE = "TinyPerson"

_LIST_FIELDS = ("long_term_goals", "skills", "beliefs", "other_facts", "relationships", "projects")
_DICT_FIELDS = ("personality", "preferences", "behaviors")
_TEXT_FIELDS = ("gender", "nationality", "residence", "style")
_OCCUPATION_TEXT_FIELDS = ("title", "organization", "description")
_NESTED_KINDS: dict[str, dict[str, type]] = {
    "personality": {"traits": list, "big_five": dict},
    "preferences": {"interests": list, "likes": list, "dislikes": list},
}
_KIND_NAMES = {list: "a list", dict: "an object", str: "a string"}


@dataclass(frozen=True)
class SpecViolation:
    field_path: str
    """Dotted path of the offending field, e.g. `persona.occupation.title`; empty for the whole document."""
    description: str


class SpecError(ValueError):
    """A malformed spec or fragment: one or more field-level violations, the first one leading."""

    def __init__(self, field_path: str, description: str, *more: SpecViolation) -> None:
        self.violations: tuple[SpecViolation, ...] = (SpecViolation(field_path, description), *more)
        super().__init__("; ".join(f"{v.field_path or '<document>'}: {v.description}" for v in self.violations))

    @classmethod
    def from_violations(cls, violations: list[SpecViolation]) -> SpecError:
        first, *rest = violations
        return cls(first.field_path, first.description, *rest)

    @property
    def field_path(self) -> str:
        return self.violations[0].field_path

    @property
    def description(self) -> str:
        return self.violations[0].description


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _kind_violation(path: str, value: Any, kind: type) -> SpecViolation | None:
    if value is None or isinstance(value, kind):
        return None
    return SpecViolation(path, f"must be {_KIND_NAMES[kind]}, not {type(value).__name__}")


def persona_violations(persona: Any, path: str = "persona") -> list[SpecViolation]:
    """What is wrong with a persona object (the value under the spec's `persona` key); empty when valid."""
    if not isinstance(persona, Mapping):
        return [SpecViolation(path, f"must be an object, not {type(persona).__name__}")]
    violations: list[SpecViolation] = []
    name = persona.get("name")
    if not isinstance(name, str) or not name.strip():
        violations.append(SpecViolation(f"{path}.name", "is required and must be a non-empty string"))
    age = persona.get("age")
    if age is not None and not (_is_number(age) and age >= 0):
        violations.append(SpecViolation(f"{path}.age", "must be a non-negative number"))
    checks: list[tuple[str, Any, type]] = [(f"{path}.{key}", persona.get(key), list) for key in _LIST_FIELDS]
    checks += [(f"{path}.{key}", persona.get(key), dict) for key in _DICT_FIELDS]
    checks += [(f"{path}.{key}", persona.get(key), str) for key in _TEXT_FIELDS]
    for parent, kinds in _NESTED_KINDS.items():
        if isinstance(persona.get(parent), Mapping):
            checks += [(f"{path}.{parent}.{key}", persona[parent].get(key), kind) for key, kind in kinds.items()]
    occupation = persona.get("occupation")
    if isinstance(occupation, Mapping):
        checks += [(f"{path}.occupation.{key}", occupation.get(key), str) for key in _OCCUPATION_TEXT_FIELDS]
    elif occupation is not None and not isinstance(occupation, str):
        violations.append(SpecViolation(f"{path}.occupation", "must be an object or a string"))
    violations += [v for p, value, kind in checks if (v := _kind_violation(p, value, kind))]
    return violations


def spec_violations(document: Any) -> list[SpecViolation]:
    """What is wrong with a whole TinyPerson spec; empty when valid."""
    if not isinstance(document, Mapping):
        return [SpecViolation("", f"a spec must be a JSON object, not {type(document).__name__}")]
    violations: list[SpecViolation] = []
    if document.get("type") != PERSON_TYPE:
        violations.append(SpecViolation("type", f'must be "{PERSON_TYPE}", not {document.get("type")!r}'))
    if "persona" not in document:
        violations.append(SpecViolation("persona", "is required"))
    else:
        violations += persona_violations(document["persona"])
    return violations


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def parse_json_document(text: str | bytes) -> Any:
    """Parses JSON keeping key order and integers; rejects NaN/Infinity and absurd nesting. Raises SpecError."""
    try:
        return load_json(text, parse_constant=_reject_constant)
    except JsonTooDeep as error:
        raise SpecError("", str(error)) from None
    except ValueError as error:
        raise SpecError("", f"not valid JSON: {error}") from error


class Persona:
    """An immutable TinyTroupe agent spec: the persona plus any extra sections, exactly as read."""

    __slots__ = ("_spec",)

    def __init__(self, spec: Mapping[str, Any]) -> None:
        violations = spec_violations(spec)
        if violations:
            raise SpecError.from_violations(violations)
        self._spec: dict[str, Any] = copy.deepcopy(dict(spec))

    @classmethod
    def from_json(cls, text: str | bytes) -> Persona:
        return cls(parse_json_document(text))

    @classmethod
    def load(cls, path: str | Path) -> Persona:
        return cls.from_json(Path(path).read_bytes())

    @property
    def name(self) -> str:
        return self._spec["persona"]["name"]

    @property
    def persona(self) -> dict[str, Any]:
        """A copy of the persona object."""
        return copy.deepcopy(self._spec["persona"])

    @property
    def sections(self) -> dict[str, Any]:
        """A copy of the top-level sections other than `type` and `persona` (memories, mental state, ...)."""
        return {k: copy.deepcopy(v) for k, v in self._spec.items() if k not in ("type", "persona")}

    def field(self, key: str, default: Any = None) -> Any:
        """A copy of one persona field."""
        return copy.deepcopy(self._spec["persona"].get(key, default))

    def with_persona(self, persona: Mapping[str, Any]) -> Persona:
        """The same spec (same sections, same key order) with another persona object."""
        spec = dict(self._spec)
        spec["persona"] = persona
        return Persona(spec)

    def to_spec(self) -> dict[str, Any]:
        """A copy of the whole spec document."""
        return copy.deepcopy(self._spec)

    def to_spec_json(self, indent: int | None = 4) -> str:
        return json.dumps(self._spec, indent=indent, ensure_ascii=False)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_spec_json() + "\n", encoding="utf-8")

    def describe(self, max_chars: int = 1200) -> str:
        """A compact plain-text rendering of the persona for prompts, at most `max_chars` long."""
        return render_persona(self._spec["persona"], max_chars)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Persona) and self._spec == other._spec

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Persona(name={self.name!r})"
