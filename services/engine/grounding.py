"""Content helpers: personas grounded in documents (with checked fact attributions), enrichment and
documents written in a persona's voice."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from difflib import SequenceMatcher
from typing import Any

from pydantic import BaseModel, Field

from services.engine import prompts
from services.engine.fragments import apply_fragments
from services.engine.llm_port import StructuredLLM
from services.engine.names import normalize_name
from services.engine.persona import Persona
from services.engine.persona_schema import GeneratedPersona
from services.engine.provenance import Provenance

DOCUMENT_MAX_TOKENS = 2048
GROUNDED_PERSONA_MAX_TOKENS = 2048
EXCERPT_MATCH_THRESHOLD = 0.8
_ANCHOR_WORDS = 3
_WORD = re.compile(r"\w+")


class GroundingSource(BaseModel):
    name: str
    text: str


class FactAttribution(BaseModel):
    fact: str
    source_name: str
    excerpt: str


class GroundedPersonaDraft(BaseModel):
    """What the LLM returns: the person and where its facts come from."""

    persona: GeneratedPersona
    attributions: list[FactAttribution]


class CheckedAttribution(FactAttribution):
    supported: bool
    problem: str = ""
    """Why the attribution is unsupported: unknown source, or excerpt not found in it."""


class GroundedPersona(BaseModel):
    spec: dict[str, Any]
    attributions: list[CheckedAttribution] = Field(default_factory=list)
    provenance: Provenance

    @property
    def unsupported(self) -> list[CheckedAttribution]:
        return [attribution for attribution in self.attributions if not attribution.supported]


class MarkdownDocument(BaseModel):
    markdown: str


def _words(text: str) -> list[str]:
    """Lower-case words without accents: "Forró!" → ["forro"]."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return _WORD.findall("".join(char for char in decomposed if not unicodedata.combining(char)))


def excerpt_in_source(excerpt: str, source_text: str, threshold: float = EXCERPT_MATCH_THRESHOLD) -> bool:
    """Whether `excerpt` occurs in the source, ignoring case, punctuation and spacing, allowing small
    differences: at least `threshold` of its words must appear in order within one passage of the source."""
    wanted, source = _words(excerpt), _words(source_text)
    if not wanted:
        return False
    if f" {' '.join(wanted)} " in f" {' '.join(source)} ":
        return True
    anchors = sorted(set(wanted), key=len, reverse=True)[:_ANCHOR_WORDS]
    for anchor in anchors:
        offset = wanted.index(anchor)
        for position in (i for i, word in enumerate(source) if word == anchor):
            start = max(0, position - offset - 2)
            passage = source[start : start + len(wanted) + 4]
            matcher = SequenceMatcher(None, wanted, passage, autojunk=False)
            matched = sum(block.size for block in matcher.get_matching_blocks())
            if matched / len(wanted) >= threshold:
                return True
    return False


def check_attributions(
    attributions: Sequence[FactAttribution], sources: Sequence[GroundingSource]
) -> list[CheckedAttribution]:
    """Each attribution marked supported when its source exists and holds its excerpt."""
    by_name = {normalize_name(source.name): source for source in sources}
    checked = []
    for attribution in attributions:
        source = by_name.get(normalize_name(attribution.source_name))
        if source is None:
            problem = f"no grounding source named {attribution.source_name!r}"
        elif not excerpt_in_source(attribution.excerpt, source.text):
            problem = f"the excerpt does not occur in {source.name!r}"
        else:
            problem = ""
        fields = attribution.model_dump()
        if source is not None:
            fields["source_name"] = source.name
        checked.append(CheckedAttribution(**fields, supported=not problem, problem=problem))
    return checked


async def generate_grounded_persona(
    llm: StructuredLLM,
    sources: Sequence[GroundingSource],
    fragments: Sequence[Mapping[str, Any]] = (),
    context: str = "",
    *,
    session: str = "",
    drop_unsupported: bool = False,
    fragment_names: Sequence[str] = (),
) -> GroundedPersona:
    """One structured call: a persona grounded in `sources`, fragments merged in, attributions checked.

    Unsupported attributions are flagged, or left out when `drop_unsupported`. `fragment_names` only labels
    the fragments in the provenance. Raises SpecError or FragmentConflictError for an unusable result.
    """
    if not sources:
        raise ValueError("at least one grounding source is needed")
    messages = prompts.grounded_persona_messages([(s.name, s.text) for s in sources], fragments, context)
    draft = await llm.structured(
        messages,
        GroundedPersonaDraft,
        session=session,
        label="content.grounded_persona",
        max_tokens=GROUNDED_PERSONA_MAX_TOKENS,
    )
    persona: Persona = apply_fragments(draft.persona.to_persona_spec(), fragments)
    checked = check_attributions(draft.attributions, sources)
    if drop_unsupported:
        checked = [attribution for attribution in checked if attribution.supported]
    provenance = Provenance(
        origin="grounding", context=context, grounding_sources=[s.name for s in sources], fragments=list(fragment_names)
    )
    return GroundedPersona(spec=persona.to_spec(), attributions=checked, provenance=provenance)


async def enrich_content(llm: StructuredLLM, content: str, requirements: str, *, session: str = "") -> str:
    """The content expanded to meet the requirements, as Markdown."""
    document = await llm.structured(
        prompts.enrichment_messages(content, requirements),
        MarkdownDocument,
        session=session,
        label="content.enrich",
        max_tokens=DOCUMENT_MAX_TOKENS,
    )
    return document.markdown.strip()


async def generate_document(llm: StructuredLLM, persona: Persona, instructions: str, *, session: str = "") -> str:
    """A Markdown document written by `persona` following `instructions`."""
    document = await llm.structured(
        prompts.document_messages(persona, instructions),
        MarkdownDocument,
        session=session,
        label="content.document",
        max_tokens=DOCUMENT_MAX_TOKENS,
    )
    return document.markdown.strip()
