"""Valid instances of a JSON schema, varied and deterministic.

Covers what pydantic emits: `$defs`/`$ref`, `anyOf`/`oneOf` (nullable fields), `allOf`, `enum`,
`const`, type lists, objects with required properties, arrays with `minItems`/`maxItems`/
`prefixItems`, numbers with inclusive and exclusive bounds, strings with `minLength`/`maxLength`
and common formats (`pattern` is not honoured). Every value is drawn from a random generator
seeded by (variation, field path), so the same request and variation give the same instance.
"""

from __future__ import annotations

import hashlib
import math
import random
import uuid
from collections.abc import Callable
from typing import Any

from tests.fake_llm import vocabulary

_MAX_DEPTH = 10


class NameRegistry:
    """Hands out person names that are unique over the registry's life."""

    _STRIDE = 7919  # a prime: consecutive probes spread over the name space

    def __init__(self) -> None:
        self._used: set[str] = set()

    def unique_full_name(self, draw: int) -> str:
        first_names, last_names = vocabulary.FIRST_NAMES, vocabulary.LAST_NAMES
        space = len(first_names) * len(last_names)
        index = draw % space
        for _ in range(space):
            name = f"{first_names[index % len(first_names)]} {last_names[index // len(first_names)]}"
            if name not in self._used:
                self._used.add(name)
                return name
            index = (index + self._STRIDE) % space
        name = f"{first_names[draw % len(first_names)]} {last_names[draw % len(last_names)]} {len(self._used)}"
        self._used.add(name)
        return name

    def __len__(self) -> int:
        return len(self._used)


class InstanceGenerator:
    """Generates one valid instance of `schema` for one variation (e.g. seed + request hash)."""

    def __init__(self, schema: dict[str, Any], variation: str, names: NameRegistry | None = None) -> None:
        self._root = schema
        self._variation = variation
        self._names = names if names is not None else NameRegistry()

    def generate(self) -> Any:
        return self._value(self._root, "$", 0, field_name="")

    # -- helpers -------------------------------------------------------------------------------

    def _rng(self, path: str) -> random.Random:
        digest = hashlib.sha256(f"{self._variation}|{path}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        seen = 0
        while "$ref" in schema and seen < 32:
            reference = schema["$ref"]
            if not reference.startswith("#"):
                raise ValueError(f"only local $ref is supported: {reference}")
            target: Any = self._root
            for part in filter(None, reference[1:].split("/")):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            siblings = {key: value for key, value in schema.items() if key != "$ref"}
            schema = {**target, **siblings}
            seen += 1
        return schema

    def _value(self, schema: Any, path: str, depth: int, field_name: str) -> Any:
        if schema is True or schema == {}:
            return self._text(path, field_name, {})
        if not isinstance(schema, dict):
            return None
        schema = self._resolve(schema)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return self._rng(path).choice(schema["enum"])
        if "allOf" in schema:
            merged: dict[str, Any] = {key: value for key, value in schema.items() if key != "allOf"}
            for part in schema["allOf"]:
                part = self._resolve(part)
                merged.setdefault("properties", {}).update(part.get("properties", {}))
                merged["required"] = [*merged.get("required", []), *part.get("required", [])]
                merged.update({key: value for key, value in part.items() if key not in ("properties", "required")})
            return self._value(merged, path, depth, field_name)
        for combinator in ("anyOf", "oneOf"):
            if combinator in schema:
                options = [self._resolve(option) for option in schema[combinator]]
                not_null = [option for option in options if option.get("type") != "null"]
                chosen = self._rng(path + "|" + combinator).choice(not_null or options)
                return self._value(chosen, path, depth, field_name)
        kind = schema.get("type")
        if isinstance(kind, list):
            not_null = [item for item in kind if item != "null"] or kind
            kind = self._rng(path + "|type").choice(not_null)
        if kind is None:
            kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
        generate: Callable[[dict[str, Any], str, int, str], Any] = {
            "object": self._object,
            "array": self._array,
            "string": lambda s, p, d, f: self._text(p, f, s),
            "integer": lambda s, p, d, f: self._integer(s, p, f),
            "number": lambda s, p, d, f: self._number(s, p, f),
            "boolean": lambda s, p, d, f: self._rng(p).random() < 0.5,
            "null": lambda s, p, d, f: None,
        }.get(kind, lambda s, p, d, f: None)
        return generate(schema, path, depth, field_name)

    def _object(self, schema: dict[str, Any], path: str, depth: int, field_name: str) -> dict[str, Any]:
        properties: dict[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", []))
        result: dict[str, Any] = {}
        for name, property_schema in properties.items():
            if depth >= _MAX_DEPTH and name not in required:
                continue
            result[name] = self._value(property_schema, f"{path}.{name}", depth + 1, name)
        extra = schema.get("additionalProperties")
        if not properties and isinstance(extra, dict) and depth < _MAX_DEPTH:
            count = max(int(schema.get("minProperties", 0)), 1 + self._rng(path + "|size").randrange(2))
            for index in range(count):
                key = f"key_{index + 1}"
                result[key] = self._value(extra, f"{path}.{key}", depth + 1, key)
        return result

    def _array(self, schema: dict[str, Any], path: str, depth: int, field_name: str) -> list[Any]:
        prefix = schema.get("prefixItems", [])
        minimum = int(schema.get("minItems", 0))
        maximum = schema.get("maxItems")
        if depth >= _MAX_DEPTH:
            count = minimum
        else:
            low = max(minimum, 1)
            high = low + 2 if maximum is None else int(maximum)
            count = self._rng(path + "|size").randint(min(low, high), max(min(low, high), high))
        count = max(count, len(prefix)) if maximum is None else min(max(count, len(prefix)), int(maximum))
        item_schema = schema.get("items", {})
        items: list[Any] = []
        for index in range(count):
            item = prefix[index] if index < len(prefix) else item_schema
            items.append(self._value(item, f"{path}[{index}]", depth + 1, field_name))
        if schema.get("uniqueItems"):
            items = _unique(items)
        return items

    def _integer(self, schema: dict[str, Any], path: str, field_name: str) -> int:
        default_low, default_high = _default_range(field_name)
        low, high = _bounds(schema, float(default_low), float(default_high))
        low_int, high_int = math.ceil(low), math.floor(high)
        if "exclusiveMinimum" in schema and low_int <= schema["exclusiveMinimum"]:
            low_int += 1
        if "exclusiveMaximum" in schema and high_int >= schema["exclusiveMaximum"]:
            high_int -= 1
        high_int = max(high_int, low_int)
        value = self._rng(path).randint(low_int, high_int)
        step = schema.get("multipleOf")
        if isinstance(step, int) and step > 0 and value % step:
            value -= value % step
            if value < low_int:
                value += step
        return value

    def _number(self, schema: dict[str, Any], path: str, field_name: str) -> float:
        low, high = _bounds(schema, *map(float, _default_range(field_name, real=True)))
        value = min(max(round(self._rng(path).uniform(low, high), 3), low), high)
        touches_exclusive_bound = ("exclusiveMinimum" in schema and value <= low) or (
            "exclusiveMaximum" in schema and value >= high
        )
        return (low + high) / 2 if touches_exclusive_bound else value

    def _text(self, path: str, field_name: str, schema: dict[str, Any]) -> str:
        rng = self._rng(path)
        text = self._themed_text(rng, field_name.lower(), schema.get("format"))
        minimum, maximum = int(schema.get("minLength", 0)), schema.get("maxLength")
        while len(text) < minimum:
            text = f"{text} {rng.choice(vocabulary.SUBJECTS)}".strip()
        if maximum is not None and len(text) > int(maximum):
            text = text[: int(maximum)].rstrip()
            if len(text) < minimum:
                text = text.ljust(minimum, "x")
        return text

    def _themed_text(self, rng: random.Random, name: str, string_format: str | None) -> str:
        if string_format == "date-time":
            return f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00Z"
        if string_format == "date":
            return f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        if string_format == "uuid":
            return str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if string_format in ("uri", "url"):
            return f"https://example.com/{rng.choice(vocabulary.SUBJECTS).split()[-1]}/{rng.randint(1, 999)}"
        if string_format == "email" or name.endswith("email"):
            first, last = rng.choice(vocabulary.FIRST_NAMES), rng.choice(vocabulary.LAST_NAMES)
            return f"{first}.{last}@example.com".lower()
        if name in ("name", "full_name", "fullname", "person_name"):
            return self._names.unique_full_name(rng.getrandbits(48))
        if name in ("first_name", "firstname", "given_name"):
            return rng.choice(vocabulary.FIRST_NAMES)
        if name in ("last_name", "lastname", "surname", "family_name"):
            return rng.choice(vocabulary.LAST_NAMES)
        if name in ("occupation", "job", "profession", "title", "role"):
            return rng.choice(vocabulary.OCCUPATIONS)
        if name in ("city", "residence", "location", "hometown"):
            return rng.choice(vocabulary.CITIES)
        if name in ("country", "nationality"):
            return rng.choice(vocabulary.COUNTRIES)
        if name in ("gender", "sex"):
            return rng.choice(vocabulary.GENDERS)
        return (
            f"{rng.choice(vocabulary.OPENERS)} {rng.choice(vocabulary.SUBJECTS)} "
            f"{rng.choice(vocabulary.VERDICTS)}{rng.choice(vocabulary.CLOSERS)}."
        )


def _default_range(field_name: str, real: bool = False) -> tuple[float, float]:
    name = field_name.lower()
    if name == "age" or name.endswith("_age"):
        return 18, 80
    if real and any(word in name for word in ("confidence", "probability", "score", "ratio", "share")):
        return 0.0, 1.0
    return (0.0, 100.0) if real else (0, 100)


def _bounds(schema: dict[str, Any], default_low: float, default_high: float) -> tuple[float, float]:
    """The closed hull of the schema's bounds, falling back to the defaults where a side is open."""
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if low is None and high is None:
        return default_low, default_high
    if low is None:
        return min(default_low, float(high) - 1.0), float(high)
    if high is None:
        return float(low), max(default_high, float(low) + 1.0)
    return float(low), max(float(high), float(low))


def _unique(items: list[Any]) -> list[Any]:
    seen: list[Any] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen
