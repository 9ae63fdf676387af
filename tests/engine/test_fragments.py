import copy
import json

import pytest

from services.engine.fragments import (
    FragmentConflictError,
    apply_fragment,
    apply_fragments,
    load_fragment,
    merge_persona_fields,
    validate_fragment,
)
from services.engine.persona import Persona, SpecError
from tests.engine.support import AGENT_FILES, FRAGMENT_FILES


def test_a_new_key_is_added():
    assert merge_persona_fields({"name": "A"}, {"style": "Calm"}) == {"name": "A", "style": "Calm"}


def test_a_null_in_the_base_is_replaced():
    assert merge_persona_fields({"age": None, "occupation": None}, {"age": 40, "occupation": {"title": "Chef"}}) == {
        "age": 40,
        "occupation": {"title": "Chef"},
    }


def test_a_null_in_the_fragment_leaves_the_base():
    assert merge_persona_fields({"style": "Calm"}, {"style": None}) == {"style": "Calm"}


def test_dicts_merge_recursively():
    base = {"preferences": {"likes": ["tea"], "dislikes": ["noise"]}, "occupation": {"title": "Chef"}}
    additions = {"preferences": {"likes": ["jazz"], "interests": ["history"]}, "occupation": {"organization": "Bistro"}}
    assert merge_persona_fields(base, additions) == {
        "preferences": {"likes": ["tea", "jazz"], "dislikes": ["noise"], "interests": ["history"]},
        "occupation": {"title": "Chef", "organization": "Bistro"},
    }


def test_lists_concatenate_without_duplicates_keeping_order():
    merged = merge_persona_fields({"beliefs": ["a", "b", "a"]}, {"beliefs": ["c", "b", "d", "c"]})
    assert merged["beliefs"] == ["a", "b", "c", "d"]


def test_lists_of_objects_deduplicate_by_equality():
    ana = {"name": "Ana", "description": "Sister"}
    merged = merge_persona_fields(
        {"relationships": [ana]}, {"relationships": [dict(ana), {"name": "Rui", "description": "Friend"}]}
    )
    assert merged["relationships"] == [ana, {"name": "Rui", "description": "Friend"}]


def test_an_equal_scalar_is_fine():
    merged = merge_persona_fields({"name": "A", "age": 30}, {"name": "A", "age": 30.0})
    assert merged == {"name": "A", "age": 30}


@pytest.mark.parametrize(
    ("base", "addition", "path"),
    [
        ({"style": "Calm"}, {"style": "Loud"}, "persona.style"),
        ({"occupation": {"title": "Chef"}}, {"occupation": {"title": "Pilot"}}, "persona.occupation.title"),
        ({"beliefs": ["a"]}, {"beliefs": "b"}, "persona.beliefs"),
        ({"behaviors": {"general": []}}, {"behaviors": ["x"]}, "persona.behaviors"),
        ({"flag": 1}, {"flag": True}, "persona.flag"),
        ({"age": 30}, {"age": "30"}, "persona.age"),
    ],
)
def test_a_conflicting_value_raises_with_its_path(base, addition, path):
    with pytest.raises(FragmentConflictError) as caught:
        merge_persona_fields(base, addition)
    assert caught.value.field_path == path
    leaf = path.split(".")[1:]
    expected_base, expected_fragment = base, addition
    for key in leaf:
        expected_base, expected_fragment = expected_base[key], expected_fragment[key]
    assert caught.value.base_value == expected_base and caught.value.fragment_value == expected_fragment


def test_merging_never_mutates_inputs():
    base = {"beliefs": ["a"], "preferences": {"likes": ["tea"]}, "age": None}
    additions = {"beliefs": ["b"], "preferences": {"likes": ["jazz"], "dislikes": ["noise"]}, "age": 3, "skills": ["x"]}
    base_before, additions_before = copy.deepcopy(base), copy.deepcopy(additions)
    merged = merge_persona_fields(base, additions)
    merged["beliefs"].append("c")
    merged["preferences"]["dislikes"].append("crowds")
    merged["skills"].append("y")
    assert base == base_before and additions == additions_before


@pytest.mark.parametrize(
    ("document", "field_path"),
    [
        ({"type": "TinyPerson", "persona": {}}, "type"),
        ({"type": "Fragment"}, "persona"),
        ({"type": "Fragment", "persona": ["x"]}, "persona"),
        ("Fragment", ""),
    ],
)
def test_malformed_fragment_is_rejected(document, field_path):
    with pytest.raises(SpecError) as caught:
        validate_fragment(document)
    assert caught.value.field_path == field_path


def test_fixture_fragments_are_present():
    assert len(FRAGMENT_FILES) >= 7


@pytest.mark.parametrize("fragment_path", FRAGMENT_FILES, ids=lambda p: p.name)
@pytest.mark.parametrize("agent_path", AGENT_FILES, ids=lambda p: p.name)
def test_every_fixture_fragment_merges_into_every_fixture_agent(agent_path, fragment_path):
    agent = Persona.load(agent_path)
    fragment = load_fragment(fragment_path)
    merged = apply_fragment(agent, fragment)
    before = agent.persona
    for key, value in fragment["persona"].items():
        if isinstance(value, list):
            combined = merged.field(key)
            assert combined[: len(before.get(key) or [])] == (before.get(key) or [])
            assert all(item in combined for item in value)
            assert len(combined) == len({json.dumps(item, sort_keys=True) for item in combined})
    for key in ("beliefs",):
        if key in fragment["persona"]:
            assert set(fragment["persona"][key]) <= set(merged.field(key))
    assert merged.name == agent.name
    assert apply_fragment(merged, fragment) == merged  # idempotent
    assert json.loads(merged.to_spec_json()) == merged.to_spec()


def test_all_fixture_fragments_stack_on_one_agent():
    agent = Persona.load(AGENT_FILES[0])
    merged = apply_fragments(agent, [load_fragment(path) for path in FRAGMENT_FILES])
    assert len(merged.field("beliefs")) > len(agent.field("beliefs"))


def test_apply_fragment_keeps_extra_sections():
    spec = {"type": "TinyPerson", "persona": {"name": "Rui", "style": "Calm"}, "_mental_state": {"goals": []}}
    merged = apply_fragment(Persona(spec), {"type": "Fragment", "persona": {"beliefs": ["x"]}})
    assert merged.sections == {"_mental_state": {"goals": []}}
    with pytest.raises(FragmentConflictError):
        apply_fragment(Persona(spec), {"type": "Fragment", "persona": {"style": "Loud"}})


def test_a_fragment_cannot_make_a_persona_invalid():
    spec = {"type": "TinyPerson", "persona": {"name": "Rui", "age": None}}
    with pytest.raises(SpecError) as caught:
        apply_fragment(Persona(spec), {"type": "Fragment", "persona": {"age": -4}})
    assert caught.value.field_path == "persona.age"
