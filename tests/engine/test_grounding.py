import pytest

from services.engine.fragment_library import builtin_fragment
from services.engine.grounding import (
    FactAttribution,
    GroundedPersonaDraft,
    GroundingSource,
    MarkdownDocument,
    check_attributions,
    enrich_content,
    excerpt_in_source,
    generate_document,
    generate_grounded_persona,
)
from services.engine.persona import Persona
from tests.engine.support import AGENT_FILES, FakeLLM, generated_persona

INTERVIEW = GroundingSource(
    name="Interview notes",
    text=(
        "Ana Souza works as a nurse at Hospital da Restauração in Recife. She has two daughters and "
        "loves forró music. \u201cI never buy anything without reading the label,\u201d she says."
    ),
)
PROFILE = GroundingSource(name="HR profile", text="Employee since 2015. Night shifts on weekends.")


@pytest.mark.parametrize(
    ("excerpt", "found"),
    [
        ("works as a NURSE at hospital da restauracao", True),
        ("I never buy anything without reading the label", True),
        ("She has 2 daughters and loves forro music", True),  # one word differs out of eight
        ("has two daughter and loves forró", True),
        ("Maria", False),
        ("she hates samba and lives in Lisbon", False),
        ("", False),
        ("!!!", False),
        ("nurse at Hospital da Restauração in Recife since 2015", False),
    ],
)
def test_excerpt_matching_is_case_insensitive_and_tolerant(excerpt, found):
    assert excerpt_in_source(excerpt, INTERVIEW.text) is found


def test_excerpts_do_not_match_inside_words():
    assert not excerpt_in_source("cat", "A concatenated string.")
    assert excerpt_in_source("cat", "The cat sleeps.")


def test_attributions_are_checked_against_their_sources():
    checked = check_attributions(
        [
            FactAttribution(fact="Nurse", source_name="interview  NOTES", excerpt="works as a nurse"),
            FactAttribution(fact="Weekend shifts", source_name="HR profile", excerpt="Night shifts on weekends"),
            FactAttribution(fact="Lives in Lisbon", source_name="Interview notes", excerpt="lives in Lisbon"),
            FactAttribution(fact="Has a cat", source_name="Diary", excerpt="my cat"),
        ],
        [INTERVIEW, PROFILE],
    )
    assert [a.supported for a in checked] == [True, True, False, False]
    assert checked[0].source_name == "Interview notes"
    assert "does not occur" in checked[2].problem and "Diary" in checked[3].problem


def _draft() -> GroundedPersonaDraft:
    return GroundedPersonaDraft(
        persona=generated_persona(name="Ana Souza"),
        attributions=[
            FactAttribution(fact="You are a nurse.", source_name="Interview notes", excerpt="works as a nurse"),
            FactAttribution(fact="You live in Lisbon.", source_name="Interview notes", excerpt="lives in Lisbon"),
        ],
    )


async def test_grounded_persona_merges_fragments_and_flags_unsupported_facts():
    llm = FakeLLM(lambda call: _draft())
    fragment = builtin_fragment("picky_customer")
    result = await generate_grounded_persona(
        llm, [INTERVIEW, PROFILE], [fragment], "Label design study", session="s-9", fragment_names=["picky_customer"]
    )
    persona = Persona(result.spec)
    assert persona.name == "Ana Souza"
    assert set(fragment["persona"]["beliefs"]) <= set(persona.field("beliefs"))
    assert "Public health care must be protected." in persona.field("beliefs")
    assert [a.supported for a in result.attributions] == [True, False]
    assert [a.fact for a in result.unsupported] == ["You live in Lisbon."]
    assert result.provenance.origin == "grounding"
    assert result.provenance.grounding_sources == ["Interview notes", "HR profile"]
    assert result.provenance.fragments == ["picky_customer"]
    assert result.provenance.context == "Label design study"
    (call,) = llm.calls
    assert call.output_model is GroundedPersonaDraft and call.session == "s-9"
    assert "### Source: Interview notes" in call.prompt and "Night shifts on weekends" in call.prompt
    assert "Label design study" in call.prompt and "Most products are not as good" in call.prompt


async def test_unsupported_facts_can_be_dropped():
    llm = FakeLLM(lambda call: _draft())
    result = await generate_grounded_persona(llm, [INTERVIEW], drop_unsupported=True)
    assert [a.fact for a in result.attributions] == ["You are a nurse."] and not result.unsupported


async def test_grounding_needs_a_source():
    with pytest.raises(ValueError):
        await generate_grounded_persona(FakeLLM(lambda call: _draft()), [])


async def test_enrich_content_returns_markdown():
    llm = FakeLLM(lambda call: MarkdownDocument(markdown="\n# Cereal Box\n\nCrunchy oats.\n"))
    markdown = await enrich_content(llm, "Oat cereal, 500 g.", "Write a product page for parents.")
    assert markdown == "# Cereal Box\n\nCrunchy oats."
    (call,) = llm.calls
    assert "Oat cereal, 500 g." in call.prompt and "Write a product page for parents." in call.prompt
    assert call.label == "content.enrich"


async def test_generate_document_writes_as_the_persona():
    lisa = Persona.load(next(path for path in AGENT_FILES if path.name.startswith("Lisa")))
    llm = FakeLLM(lambda call: MarkdownDocument(markdown="## Search relevance notes\n- Context matters"))
    markdown = await generate_document(llm, lisa, "A one-page memo on search quality.")
    assert markdown.startswith("## Search relevance notes")
    (call,) = llm.calls
    assert "Lisa Carter" in call.prompt and "A one-page memo on search quality." in call.prompt
    assert call.label == "content.document"
