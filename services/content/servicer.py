"""The ContentService: grounded personas, content enrichment and documents in an agent's voice.

Every call needs an active session of the caller's tenant. Enriched texts and documents are recorded in
it as control checkpoints `enrichment_<hash>` / `document_<hash>` (text/markdown), the hash being the
first 16 hex digits of the text's SHA-256; recording the same text twice is not an error. A call with a
`request_id` is answered once, its answer remembered in the session (services/common/remembered.py).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import grpc
from tinytroupe_mesh_api.common.v1 import agent_pb2
from tinytroupe_mesh_api.content.v1 import content_pb2, content_pb2_grpc

from services.common.agents import Origin, make_agent, parse_persona, resolve_fragments
from services.common.control_client import ControlClient
from services.common.limits import MAX_AGENT_SPEC_CHARS, MAX_DOCUMENT_CHARS, MAX_INSTRUCTION_CHARS
from services.common.model_errors import model_failure
from services.common.remembered import RememberedResponses
from services.common.request_checks import require_request_fields
from services.content.sources import read_sources
from services.engine.fragments import FragmentConflictError
from services.engine.grounding import (
    GroundingSource,
    enrich_content,
    generate_document,
    generate_grounded_persona,
)
from services.engine.persona import Persona, SpecError
from services.llm.client import session_scope
from services.llm.errors import LLMError
from services.runtime.errors import InvalidArgument, Unavailable

MARKDOWN = "text/markdown"
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
MAX_TITLE = 120


def checkpoint_id(kind: str, text: str) -> str:
    return f"{kind}_{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def document_title(markdown: str, instructions: str) -> str:
    """The document's first Markdown heading, else its first line, else the instructions."""
    match = _HEADING.search(markdown)
    if match:
        return match.group(1).strip()
    first_line = next((line.strip() for line in markdown.splitlines() if line.strip()), "") or instructions
    return first_line[:MAX_TITLE].strip()


class ContentServicer(content_pb2_grpc.ContentServiceServicer):
    def __init__(self, llm: Any, control: ControlClient) -> None:
        self._llm = llm
        self._control = control
        self._remembered = RememberedResponses(control)

    async def CreateGroundedPersona(
        self,
        request: content_pb2.CreateGroundedPersonaRequest,
        context: grpc.aio.ServicerContext,
    ) -> content_pb2.CreateGroundedPersonaResponse:
        require_request_fields(
            request.session, [("context", request.context, MAX_INSTRUCTION_CHARS)], request.request_id
        )
        sources = await read_sources(request.sources)
        fragments = resolve_fragments(request.fragments)
        await self._control.require_active_session(request.session, "a grounded persona", field="session")
        return await self._remembered.unary(
            request,
            content_pb2.CreateGroundedPersonaResponse,
            lambda: self._grounded_persona(request, sources, fragments),
        )

    async def _grounded_persona(
        self,
        request: content_pb2.CreateGroundedPersonaRequest,
        sources: list[GroundingSource],
        fragments: list[tuple[str, dict[str, Any]]],
    ) -> content_pb2.CreateGroundedPersonaResponse:
        fragment_names = [name for name, _ in fragments]
        try:
            with session_scope(self._llm, request.session):
                grounded = await generate_grounded_persona(
                    self._llm,
                    sources,
                    [document for _, document in fragments],
                    request.context,
                    session=request.session,
                    fragment_names=fragment_names,
                )
        except LLMError as error:
            raise model_failure("grounded persona", error) from None
        except FragmentConflictError as error:
            raise InvalidArgument(
                "fragments", f"a fragment conflicts with the grounded persona at {error.field_path}: {error}"
            ) from None
        except SpecError as error:
            raise Unavailable(
                f"grounded persona: the language model gave an unusable persona: {error}", reason="LLM_INVALID_OUTPUT"
            ) from None
        provenance = agent_pb2.Provenance(
            origin=Origin.ORIGIN_GROUNDED,
            source=", ".join(s.name for s in sources),
            context=request.context,
            documents=[s.name for s in sources],
            fragments=fragment_names,
        )
        agent = make_agent(Persona(grounded.spec), provenance)
        return content_pb2.CreateGroundedPersonaResponse(
            agent=agent,
            attributions=[
                content_pb2.FactAttribution(
                    fact=a.fact, source_name=a.source_name, excerpt=a.excerpt, verified=a.supported
                )
                for a in grounded.attributions
            ],
        )

    async def EnrichContent(
        self, request: content_pb2.EnrichContentRequest, context: grpc.aio.ServicerContext
    ) -> content_pb2.EnrichContentResponse:
        if not request.content.strip():
            raise InvalidArgument("content", "the content to enrich is required")
        if not request.requirements.strip():
            raise InvalidArgument("requirements", "requirements are required")
        require_request_fields(
            request.session,
            [
                ("content", request.content, MAX_DOCUMENT_CHARS),
                ("requirements", request.requirements, MAX_INSTRUCTION_CHARS),
            ],
            request.request_id,
        )
        await self._control.require_active_session(request.session, "an enrichment", field="session")
        return await self._remembered.unary(request, content_pb2.EnrichContentResponse, lambda: self._enriched(request))

    async def _enriched(self, request: content_pb2.EnrichContentRequest) -> content_pb2.EnrichContentResponse:
        try:
            with session_scope(self._llm, request.session):
                text = await enrich_content(self._llm, request.content, request.requirements, session=request.session)
        except LLMError as error:
            raise model_failure("enrichment", error) from None
        await self._record(request.session, checkpoint_id("enrichment", text), text, request.request_id)
        return content_pb2.EnrichContentResponse(content=text)

    async def GenerateDocument(
        self, request: content_pb2.GenerateDocumentRequest, context: grpc.aio.ServicerContext
    ) -> content_pb2.GenerateDocumentResponse:
        if not request.HasField("agent"):
            raise InvalidArgument("agent", "the agent is required")
        if not request.instructions.strip():
            raise InvalidArgument("instructions", "instructions are required")
        require_request_fields(
            request.session,
            [
                ("instructions", request.instructions, MAX_INSTRUCTION_CHARS),
                ("agent.spec_json", request.agent.spec_json, MAX_AGENT_SPEC_CHARS),
            ],
            request.request_id,
        )
        persona = parse_persona(request.agent.spec_json, "agent.spec_json")
        await self._control.require_active_session(request.session, "a document", field="session")
        return await self._remembered.unary(
            request, content_pb2.GenerateDocumentResponse, lambda: self._document(request, persona)
        )

    async def _document(
        self, request: content_pb2.GenerateDocumentRequest, persona: Persona
    ) -> content_pb2.GenerateDocumentResponse:
        try:
            with session_scope(self._llm, request.session):
                markdown = await generate_document(self._llm, persona, request.instructions, session=request.session)
        except LLMError as error:
            raise model_failure("document", error) from None
        await self._record(request.session, checkpoint_id("document", markdown), markdown, request.request_id)
        return content_pb2.GenerateDocumentResponse(
            title=document_title(markdown, request.instructions), markdown=markdown
        )

    async def _record(self, session: str, checkpoint: str, text: str, request_id: str) -> None:
        await self._control.store_checkpoint(
            session,
            checkpoint,
            text.encode(),
            MARKDOWN,
            request_id=request_id,
            annotations={"kind": checkpoint.split("_", 1)[0]},
            same=lambda existing: True,
        )
