import json
from typing import Any

import pytest

from services.engine.persona import Persona, SpecError, parse_json_document
from tests.engine.support import AGENT_FILES


def _assert_same_types(original: Any, copy: Any, path: str = "$") -> None:
    assert type(original) is type(copy), path
    if isinstance(original, dict):
        assert list(original) == list(copy), f"{path}: key order changed"
        for key in original:
            _assert_same_types(original[key], copy[key], f"{path}.{key}")
    elif isinstance(original, list):
        for index, (a, b) in enumerate(zip(original, copy, strict=True)):
            _assert_same_types(a, b, f"{path}[{index}]")


def test_fixture_agents_are_present():
    assert len(AGENT_FILES) >= 5


@pytest.mark.parametrize("path", AGENT_FILES, ids=lambda p: p.name)
def test_fixture_agent_loads_and_round_trips(path):
    original = json.loads(path.read_text(encoding="utf-8"))
    persona = Persona.load(path)
    assert persona.name == original["persona"]["name"]
    dumped = persona.to_spec_json()
    assert json.loads(dumped) == original
    _assert_same_types(original, json.loads(dumped))
    assert dumped == json.dumps(original, indent=4, ensure_ascii=False)
    assert Persona.from_json(dumped) == persona


SAVED_AGENT = {
    "type": "TinyPerson",
    "persona": {
        "name": "Rafael Mendes",
        "age": 51.0,
        "occupation": {"title": "Baker", "organization": None},
        "beliefs": ["Bread should be made slowly."],
        "custom_field": {"shoe_size": 42},
    },
    "episodic_memory": {
        "json_serializable_class_name": "EpisodicMemory",
        "memory": [{"role": "user", "content": "Hello", "simulation_timestamp": "2024-01-01T10:00:00"}],
    },
    "semantic_memory": {"json_serializable_class_name": "SemanticMemory", "documents_paths": []},
    "mental_faculties": [{"json_serializable_class_name": "RecallFaculty"}],
    "_configuration": {"name": "Rafael Mendes", "age": 51},
    "_mental_state": {"datetime": None, "location": None, "goals": [], "attention": None, "emotions": "Calm"},
}


def test_extra_sections_are_kept_unchanged_and_in_order(tmp_path):
    persona = Persona(SAVED_AGENT)
    assert list(persona.sections) == [
        "episodic_memory",
        "semantic_memory",
        "mental_faculties",
        "_configuration",
        "_mental_state",
    ]
    assert persona.sections["_mental_state"] == SAVED_AGENT["_mental_state"]
    path = tmp_path / "rafael.agent.json"
    persona.save(path)
    reloaded = json.loads(path.read_text(encoding="utf-8"))
    assert reloaded == SAVED_AGENT
    _assert_same_types(SAVED_AGENT, reloaded)
    assert isinstance(reloaded["persona"]["age"], float)
    assert isinstance(reloaded["_configuration"]["age"], int)


def test_persona_is_immutable_from_outside():
    source = json.loads(json.dumps(SAVED_AGENT))
    persona = Persona(source)
    source["persona"]["name"] = "Changed"
    persona.persona["beliefs"].append("Leaked")
    persona.sections["_mental_state"]["emotions"] = "Angry"
    assert persona.name == "Rafael Mendes"
    assert persona.field("beliefs") == ["Bread should be made slowly."]
    assert persona.sections["_mental_state"]["emotions"] == "Calm"


def _spec(**persona: Any) -> dict[str, Any]:
    return {"type": "TinyPerson", "persona": {"name": "Lia Costa", **persona}}


@pytest.mark.parametrize(
    ("document", "field_path"),
    [
        ({"type": "Fragment", "persona": {"name": "X"}}, "type"),
        ({"persona": {"name": "X"}}, "type"),
        ({"type": "TinyPerson"}, "persona"),
        ({"type": "TinyPerson", "persona": ["name"]}, "persona"),
        ({"type": "TinyPerson", "persona": {"age": 30}}, "persona.name"),
        (_spec(name="   "), "persona.name"),
        (_spec(name=7), "persona.name"),
        (_spec(age=-1), "persona.age"),
        (_spec(age="thirty"), "persona.age"),
        (_spec(age=True), "persona.age"),
        (_spec(occupation={"title": 5}), "persona.occupation.title"),
        (_spec(occupation=["Baker"]), "persona.occupation"),
        (_spec(beliefs="Honesty matters."), "persona.beliefs"),
        (_spec(relationships={"name": "Ana"}), "persona.relationships"),
        (_spec(personality={"traits": {"kind": True}}), "persona.personality.traits"),
        (_spec(personality={"big_five": ["high"]}), "persona.personality.big_five"),
        (_spec(preferences=["cats"]), "persona.preferences"),
        (_spec(preferences={"likes": "cats"}), "persona.preferences.likes"),
        (_spec(behaviors=["runs"]), "persona.behaviors"),
        (_spec(gender=1), "persona.gender"),
        ([], ""),
    ],
)
def test_malformed_spec_names_the_field(document, field_path):
    with pytest.raises(SpecError) as caught:
        Persona(document)
    assert caught.value.field_path == field_path
    assert caught.value.description
    assert field_path in str(caught.value) or field_path == ""


def test_spec_error_carries_every_violation():
    with pytest.raises(SpecError) as caught:
        Persona({"type": "TinyPerson", "persona": {"age": -3, "skills": "many", "occupation": {"title": None}}})
    paths = [violation.field_path for violation in caught.value.violations]
    assert paths == ["persona.name", "persona.age", "persona.skills"]
    assert isinstance(caught.value, ValueError)


def test_nulls_and_string_occupation_are_valid():
    persona = Persona(_spec(age=None, occupation="Engineer", beliefs=None, personality={"traits": None}))
    assert persona.field("occupation") == "Engineer"


@pytest.mark.parametrize("text", ["{not json", '{"type": "TinyPerson", "persona": {"name": "A", "age": NaN}}'])
def test_invalid_json_is_a_spec_error(text):
    with pytest.raises(SpecError) as caught:
        Persona.from_json(text)
    assert caught.value.field_path == ""


def test_parse_keeps_integers_and_order():
    document = parse_json_document('{"b": 1, "a": 2.0, "c": [3]}')
    assert list(document) == ["b", "a", "c"] and type(document["b"]) is int and type(document["a"]) is float


def test_with_persona_keeps_sections_and_validates():
    persona = Persona(SAVED_AGENT)
    changed = persona.with_persona({**persona.persona, "age": 52})
    assert changed.field("age") == 52 and changed.sections == persona.sections
    assert list(changed.to_spec()) == list(SAVED_AGENT)
    with pytest.raises(SpecError):
        persona.with_persona({"age": 52})


def test_describe_leads_with_identity_and_core_traits():
    persona = Persona.load(next(p for p in AGENT_FILES if p.name.startswith("Lisa")))
    text = persona.describe(max_chars=2000)
    first_line = text.splitlines()[0]
    assert first_line.startswith("Name: Lisa Carter") and "age 28" in first_line
    assert "Occupation: Data Scientist at Microsoft" in text
    assert "You are curious and love to learn new things." in text
    assert "Style: Professional yet approachable." in text
    assert "Beliefs: Data should be used ethically" in text


@pytest.mark.parametrize("path", AGENT_FILES, ids=lambda p: p.name)
@pytest.mark.parametrize("max_chars", [1, 40, 120, 300, 700, 1200, 5000])
def test_describe_fits_the_budget(path, max_chars):
    text = Persona.load(path).describe(max_chars=max_chars)
    assert len(text) <= max_chars
    if max_chars >= 120:
        assert text.startswith(f"Name: {Persona.load(path).name}")


def test_describe_drops_least_important_lines_first():
    persona = Persona.load(next(p for p in AGENT_FILES if p.name.startswith("Lisa")))
    short, full = persona.describe(max_chars=500), persona.describe(max_chars=100_000)
    assert "Other facts:" in full and "Other facts:" not in short
    assert "Personality:" in short
    assert "You grew up in Vancouver" in full


def test_the_whole_rendering_keeps_what_the_compact_one_skips():
    persona = Persona(
        {
            "type": "TinyPerson",
            "persona": {
                "name": "Ana",
                "occupation": {"title": "Nurse", "shift": "nights"},
                "preferences": {"likes": ["tea"], "brands": ["Natura"]},
                "pets": [{"kind": "cat", "name": "Miau", "age": 3}],
                "vegan": True,
            },
        }
    )
    whole = persona.describe(max_chars=10_000)
    assert whole.splitlines()[0] == "Name: Ana"
    for fact in ("Shift: nights", "Brands:", "- Natura", "- Kind: cat", "Name: Miau", "Age: 3", "Vegan: yes"):
        assert fact in whole
    compact = persona.describe(max_chars=len(whole) - 1)
    assert "nights" not in compact and len(compact) < len(whole)
