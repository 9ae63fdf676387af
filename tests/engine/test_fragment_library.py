import json
from importlib import resources

import pytest

from services.engine.fragment_library import UnknownFragmentError, builtin_fragment, builtin_fragment_names
from services.engine.fragments import apply_fragment, validate_fragment
from services.engine.persona import Persona
from tests.engine.support import AGENT_FILES, FRAGMENT_FILES

TINYTROUPE_NAMES = [
    "authoritarian",
    "genuine",
    "leftwing",
    "libertarian",
    "loving_parent",
    "picky_customer",
    "rightwing",
]


def test_library_has_tinytroupes_names_and_more():
    names = builtin_fragment_names()
    assert set(TINYTROUPE_NAMES) <= set(names)
    assert {"early_adopter", "skeptic", "budget_conscious"} <= set(names)
    assert names == sorted(names)


def test_fragments_are_package_resources():
    package = resources.files("services.engine.fragment_library")
    for name in builtin_fragment_names():
        assert json.loads(package.joinpath(f"{name}.agent.fragment.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", builtin_fragment_names())
def test_each_builtin_is_a_valid_fragment_with_content(name):
    fragment = builtin_fragment(name)
    assert validate_fragment(fragment) == fragment
    assert fragment["persona"].get("beliefs")


@pytest.mark.parametrize("name", builtin_fragment_names())
@pytest.mark.parametrize("agent_path", AGENT_FILES, ids=lambda p: p.name)
def test_each_builtin_merges_into_each_fixture_agent(agent_path, name):
    agent = Persona.load(agent_path)
    merged = apply_fragment(agent, builtin_fragment(name))
    assert set(builtin_fragment(name)["persona"]["beliefs"]) <= set(merged.field("beliefs"))


def _strings(value):
    if isinstance(value, str):
        yield value.strip().lower()
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_builtin_texts_are_the_projects_own():
    tinytroupe_texts = {text for path in FRAGMENT_FILES for text in _strings(json.loads(path.read_text()))}
    own_texts = {text for name in builtin_fragment_names() for text in _strings(builtin_fragment(name))}
    assert not own_texts & tinytroupe_texts - {"fragment"}


def test_lookup_normalises_the_name_and_returns_fresh_copies():
    first = builtin_fragment("Loving-Parent")
    first["persona"]["beliefs"].clear()
    assert builtin_fragment("loving_parent")["persona"]["beliefs"]


def test_unknown_fragment():
    with pytest.raises(UnknownFragmentError, match="authoritarian"):
        builtin_fragment("anarchist")
    with pytest.raises(KeyError):
        builtin_fragment("../persona")
