"""JSON from callers and models: deep nesting is an ordinary ValueError, never a RecursionError."""

from __future__ import annotations

import json

import pytest

from services.runtime.json_input import MAX_JSON_DEPTH, JsonTooDeep, load_json, nesting_depth


def test_ordinary_documents_load_as_json_loads_does():
    text = '{"persona": {"name": "Ana", "traits": ["curious", {"level": 3}]}}'
    assert load_json(text) == json.loads(text)
    assert nesting_depth(load_json(text)) == 4


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"a":' * 50_000 + "1" + "}" * 50_000])
def test_absurd_nesting_is_a_value_error(text):
    with pytest.raises(JsonTooDeep, match="nested more than"):
        load_json(text)


def test_the_depth_limit_is_exact():
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert nesting_depth(load_json(at_limit)) == MAX_JSON_DEPTH
    with pytest.raises(ValueError):
        load_json("[" + at_limit + "]")


def test_malformed_text_stays_a_json_decode_error():
    with pytest.raises(json.JSONDecodeError):
        load_json('{"a": ')
