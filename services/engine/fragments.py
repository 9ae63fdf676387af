"""Persona fragments (`{"type": "Fragment", "persona": {...partial...}}`) and TinyTroupe's merge rules.

Merging `additions` into `base`, key by key:
- a key only in `additions` is added;
- a null in `base` is replaced by the addition (a null addition leaves `base` as it is);
- two objects merge recursively;
- two lists concatenate, keeping order and dropping duplicates;
- equal scalars stay; anything else is a conflict (`FragmentConflictError`).
Inputs are never mutated.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from services.engine.persona import Persona, SpecError, SpecViolation, parse_json_document

FRAGMENT_TYPE = "Fragment"


class FragmentConflictError(ValueError):
    """A fragment gives a field a value that contradicts the persona's."""

    def __init__(self, field_path: str, base_value: Any, fragment_value: Any) -> None:
        self.field_path = field_path
        self.base_value = base_value
        self.fragment_value = fragment_value
        super().__init__(f"{field_path}: the persona has {base_value!r}, the fragment has {fragment_value!r}")


def _without_duplicates(items: Iterable[Any]) -> list[Any]:
    kept: list[Any] = []
    for item in items:
        if item not in kept:
            kept.append(item)
    return kept


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, Mapping | list)


def _same_scalar(base: Any, addition: Any) -> bool:
    """Equal scalars; `True` does not equal `1` here."""
    return isinstance(base, bool) == isinstance(addition, bool) and base == addition


def _merge_value(base: Any, addition: Any, path: str) -> Any:
    if base is None:
        return copy.deepcopy(addition)
    if addition is None:
        return copy.deepcopy(base)
    if isinstance(base, Mapping) and isinstance(addition, Mapping):
        return merge_persona_fields(base, addition, path=path)
    if isinstance(base, list) and isinstance(addition, list):
        return copy.deepcopy(_without_duplicates([*base, *addition]))
    if _is_scalar(base) and _is_scalar(addition) and _same_scalar(base, addition):
        return base
    raise FragmentConflictError(path, base, addition)


def merge_persona_fields(
    base: Mapping[str, Any], additions: Mapping[str, Any], *, path: str = "persona"
) -> dict[str, Any]:
    """A new dict: `additions` merged into `base` by the module's rules. Keys keep `base`'s order."""
    merged = {key: copy.deepcopy(value) for key, value in base.items()}
    for key, addition in additions.items():
        if key in base:
            merged[key] = _merge_value(base[key], addition, f"{path}.{key}")
        else:
            merged[key] = copy.deepcopy(addition)
    return merged


def fragment_violations(document: Any) -> list[SpecViolation]:
    if not isinstance(document, Mapping):
        return [SpecViolation("", f"a fragment must be a JSON object, not {type(document).__name__}")]
    violations = []
    if document.get("type") != FRAGMENT_TYPE:
        violations.append(SpecViolation("type", f'must be "{FRAGMENT_TYPE}", not {document.get("type")!r}'))
    if not isinstance(document.get("persona"), Mapping):
        violations.append(SpecViolation("persona", "is required and must be an object"))
    return violations


def validate_fragment(document: Any) -> dict[str, Any]:
    """A copy of a valid fragment document; raises SpecError for a malformed one."""
    violations = fragment_violations(document)
    if violations:
        raise SpecError.from_violations(violations)
    return copy.deepcopy(dict(document))


def parse_fragment(text: str | bytes) -> dict[str, Any]:
    return validate_fragment(parse_json_document(text))


def load_fragment(path: str | Path) -> dict[str, Any]:
    return parse_fragment(Path(path).read_bytes())


def apply_fragment(persona: Persona, fragment: Mapping[str, Any]) -> Persona:
    """The persona with the fragment merged in; raises SpecError or FragmentConflictError."""
    document = validate_fragment(fragment)
    return persona.with_persona(merge_persona_fields(persona.persona, document["persona"]))


def apply_fragments(persona: Persona, fragments: Iterable[Mapping[str, Any]]) -> Persona:
    for fragment in fragments:
        persona = apply_fragment(persona, fragment)
    return persona
