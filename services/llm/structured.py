"""Structured output: the schema in the form the backend speaks, a lenient parse, the repair prompt."""

from __future__ import annotations

import json
import math
import re
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from services.runtime.json_input import load_json

T = TypeVar("T", bound=BaseModel)


class ResponseFormatMode(StrEnum):
    """How the backend takes a JSON schema (`LLMSettings.response_format`)."""

    JSON_SCHEMA = "json_schema"
    """`{"type": "json_schema", "json_schema": {...}}`: OpenAI, Azure, vLLM, Ollama, llama.cpp server."""
    JSON_OBJECT_SCHEMA = "json_object_schema"
    """`{"type": "json_object", "schema": {...}}`: llama-cpp-python's server."""
    JSON_OBJECT = "json_object"
    """`{"type": "json_object"}` with the schema given in the system prompt only."""


_SCHEMA_NAME_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]")


def schema_name(output_model: type[BaseModel]) -> str:
    """A schema name the OpenAI API accepts (`^[a-zA-Z0-9_-]{1,64}$`)."""
    return _SCHEMA_NAME_UNSAFE.sub("_", output_model.__name__)[:64] or "output"


def build_response_format(mode: ResponseFormatMode, name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The `response_format` request field for `mode`."""
    if mode is ResponseFormatMode.JSON_SCHEMA:
        return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": False}}
    if mode is ResponseFormatMode.JSON_OBJECT_SCHEMA:
        return {"type": "json_object", "schema": grammar_friendly_schema(schema)}
    return {"type": "json_object"}


_MAX_ENUMERATED_INTEGERS = 256


def grammar_friendly_schema(schema: Any) -> Any:
    """A copy of `schema` whose bounded integers (at most 256 values) also carry their values as an
    `enum`: llama-cpp-python's schema-to-grammar conversion ignores `minimum`/`maximum`, but honours
    enums, so the grammar then keeps the model within bounds. Validation still uses the original."""
    if isinstance(schema, list):
        return [grammar_friendly_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    copy = {key: grammar_friendly_schema(value) for key, value in schema.items()}
    if copy.get("type") == "integer" and "enum" not in copy:
        low = copy.get("minimum", _after(copy.get("exclusiveMinimum")))
        high = copy.get("maximum", _before(copy.get("exclusiveMaximum")))
        if low is not None and high is not None and 0 <= high - low < _MAX_ENUMERATED_INTEGERS:
            copy["enum"] = list(range(math.ceil(low), math.floor(high) + 1))
    return copy


def _after(bound: float | None) -> float | None:
    return None if bound is None else math.floor(bound) + 1


def _before(bound: float | None) -> float | None:
    return None if bound is None else math.ceil(bound) - 1


def schema_instruction(schema: dict[str, Any]) -> str:
    """The system-prompt text that carries the schema where the backend cannot take it."""
    return (
        "Answer with one JSON object only, no prose and no code fences, "
        "that validates against this JSON schema:\n" + json.dumps(schema, separators=(",", ":"))
    )


def prepare_messages(
    messages: list[dict[str, str]], mode: ResponseFormatMode, schema: dict[str, Any]
) -> list[dict[str, str]]:
    """The messages to send: in `json_object` mode the schema joins the system prompt."""
    if mode is not ResponseFormatMode.JSON_OBJECT:
        return list(messages)
    instruction = schema_instruction(schema)
    if messages and messages[0].get("role") == "system":
        first = dict(messages[0])
        first["content"] = f"{first.get('content', '')}\n\n{instruction}"
        return [first, *messages[1:]]
    return [{"role": "system", "content": instruction}, *messages]


def repair_messages(
    sent_messages: list[dict[str, str]], bad_answer: str, error: str, truncated: bool
) -> list[dict[str, str]]:
    """The follow-up conversation that shows the model its invalid answer and asks for a corrected one."""
    hint = " Your answer was cut off: keep it shorter." if truncated else ""
    request = (
        f"Your answer is not valid JSON for the required schema.{hint}\nError: {error}\n"
        "Reply with the corrected JSON object only."
    )
    return [
        *sent_messages,
        {"role": "assistant", "content": bad_answer},
        {"role": "user", "content": request},
    ]


_FENCE = re.compile(r"```[a-zA-Z0-9_-]*\s*\n?(.*?)```", re.DOTALL)


def _strip_code_fences(text: str) -> str:
    match = _FENCE.search(text)
    return match.group(1) if match else text


def _outermost_object(text: str) -> str | None:
    """The first balanced `{...}` in `text`, honouring strings; None where no object starts."""
    start = text.find("{")
    if start < 0:
        return None
    depth = 0
    in_string = False
    escaped = False
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                return text[start : index + 1]
    return None


def _drop_trailing_commas(text: str) -> str:
    """Removes commas that directly precede `}` or `]`, outside strings."""
    kept: list[str] = []
    in_string = False
    escaped = False
    for index, char in enumerate(text):
        if in_string:
            kept.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char == ",":
            rest = text[index + 1 :].lstrip()
            if rest[:1] in ("}", "]"):
                continue
        kept.append(char)
    return "".join(kept)


def lenient_json(text: str) -> Any:
    """Parses what a model meant: code fences stripped, the outermost object taken, trailing commas
    dropped, raw control characters inside strings accepted. Raises ValueError where no JSON object can be recovered."""
    candidate = _outermost_object(_strip_code_fences(text))
    if candidate is None:
        raise ValueError("no complete JSON object in the answer")
    return load_json(_drop_trailing_commas(candidate), strict=False)


def _describe(error: ValidationError) -> str:
    problems = [f"{'.'.join(str(part) for part in item['loc']) or '(root)'}: {item['msg']}" for item in error.errors()]
    return "; ".join(problems[:8])


def validate_answer(text: str, output_model: type[T]) -> tuple[T, str]:
    """Validates a model's answer into `output_model`.

    Returns the instance and the JSON text that validated (the answer itself where it was clean,
    else the repaired JSON), so a cached replay validates the very same text. Raises ValueError with
    a readable description where neither the strict nor the lenient parse yields a valid instance.
    """
    try:
        return output_model.model_validate_json(text), text
    except ValidationError as strict_error:
        first_error = _describe(strict_error)
    try:
        recovered = lenient_json(text)
    except ValueError as parse_error:
        raise ValueError(f"{first_error} ({parse_error})") from None
    try:
        instance = output_model.model_validate(recovered)
    except ValidationError as error:
        raise ValueError(_describe(error)) from None
    return instance, json.dumps(recovered, ensure_ascii=False, separators=(",", ":"))
