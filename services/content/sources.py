"""Grounding sources of a request as engine values: text used as is, PDFs read into text with pypdf."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence

from tinytroupe_mesh_api.content.v1 import content_pb2

from services.common.limits import MAX_DOCUMENT_CHARS, MAX_SOURCES, require_texts_within
from services.engine.grounding import GroundingSource
from services.runtime.errors import InvalidArgument

TEXT_TYPES = ("text/plain", "text/markdown", "")
PDF_TYPE = "application/pdf"


def pdf_text(data: bytes) -> str:
    """The text of every page of a PDF, pages separated by blank lines. Raises ValueError when unreadable."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as error:  # pypdf raises a variety of errors for damaged files
        raise ValueError(f"not a readable PDF: {error}") from error
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    if not text:
        raise ValueError("the PDF has no extractable text")
    return text


async def read_sources(sources: Sequence[content_pb2.GroundingSource]) -> list[GroundingSource]:
    if not sources:
        raise InvalidArgument("sources", "at least one grounding source is required")
    if len(sources) > MAX_SOURCES:
        raise InvalidArgument("sources", f"{len(sources)} sources; at most {MAX_SOURCES}")
    names: set[str] = set()
    read: list[GroundingSource] = []
    for index, source in enumerate(sources):
        field = f"sources[{index}]"
        if not source.name.strip():
            raise InvalidArgument(f"{field}.name", "every source needs a name")
        if source.name in names:
            raise InvalidArgument(f"{field}.name", f"the name {source.name!r} is used by another source")
        names.add(source.name)
        kind = source.WhichOneof("content")
        if kind == "text":
            if source.mime_type not in TEXT_TYPES:
                raise InvalidArgument(f"{field}.mime_type", f"{source.mime_type!r} does not fit a text source")
            if not source.text.strip():
                raise InvalidArgument(f"{field}.text", "the source is empty")
            require_texts_within([(f"{field}.text", source.text, MAX_DOCUMENT_CHARS)])
            read.append(GroundingSource(name=source.name, text=source.text))
        elif kind == "pdf":
            if source.mime_type not in (PDF_TYPE, ""):
                raise InvalidArgument(f"{field}.mime_type", f"{source.mime_type!r} does not fit a PDF source")
            try:
                text = await asyncio.to_thread(pdf_text, source.pdf)
            except ValueError as error:
                raise InvalidArgument(f"{field}.pdf", str(error)) from None
            if len(text) > MAX_DOCUMENT_CHARS:
                raise InvalidArgument(
                    f"{field}.pdf", f"holds {len(text)} characters of text; at most {MAX_DOCUMENT_CHARS}"
                )
            read.append(GroundingSource(name=source.name, text=text))
        else:
            raise InvalidArgument(field, "a source needs `text` or `pdf` content")
    return read
