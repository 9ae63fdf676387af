import asyncio

import pytest

from services.engine.names import NameRegistry, clean_name, normalize_name


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ('  "Ana   Souza" ', "Ana Souza"),
        ("\u201cJo\u00e3o\u00a0Silva\u201d", "Jo\u00e3o Silva"),
        ("'Mary-Kate O'Neil'", "Mary-Kate O'Neil"),
        ("\"'`Li Wei`'\"", "Li Wei"),
        ("Zoe\n\tAdams", "Zoe Adams"),
    ],
)
def test_clean_name(raw, clean):
    assert clean_name(raw) == clean


def test_normalize_name_ignores_case_spacing_and_quotes():
    assert normalize_name('"ANA  souza"') == normalize_name("Ana Souza") == "ana souza"
    assert normalize_name("Stra\u00dfe") == normalize_name("STRASSE")
    assert normalize_name("Ana Souza") != normalize_name("Ana Sousa")
    assert normalize_name('""') == ""


async def test_registry_claims_each_name_once():
    registry = NameRegistry(["Lisa Carter"])
    assert not await registry.claim(" lisa  CARTER")
    assert await registry.claim('"Oscar Ruiz"')
    assert not await registry.claim("oscar ruiz")
    assert not await registry.claim("  ")
    assert "OSCAR RUIZ" in registry and len(registry) == 2
    assert registry.taken_names() == ["Lisa Carter", "Oscar Ruiz"]


async def test_disambiguation_is_deterministic():
    registry = NameRegistry()
    names = [await registry.claim_disambiguated(" ana souza ") for _ in range(4)]
    assert names == ["ana souza", "ana souza II", "ana souza III", "ana souza IV"]
    assert await registry.claim_disambiguated("Ana Souza V") == "Ana Souza V"
    assert await registry.claim_disambiguated("Ana Souza") == "Ana Souza VI"
    with pytest.raises(ValueError):
        await registry.claim_disambiguated('" "')


async def test_concurrent_claims_grant_a_name_once():
    registry = NameRegistry()
    variants = ["Ana Souza", "ana souza", '"Ana Souza"', "ANA  SOUZA"] * 25

    async def claim(name):
        await asyncio.sleep(0)
        return await registry.claim(name)

    results = await asyncio.gather(*(claim(name) for name in variants))
    assert results.count(True) == 1
    unique = await asyncio.gather(*(registry.claim_disambiguated("Ana Souza") for _ in range(30)))
    assert len({normalize_name(name) for name in unique}) == 30


async def test_taken_as_gives_the_first_spelling():
    registry = NameRegistry()
    await registry.claim("ana souza")
    assert registry.taken_as('"ANA SOUZA"') == "ana souza" and registry.taken_as("Rui") is None
