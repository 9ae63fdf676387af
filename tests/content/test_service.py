"""The content service over real gRPC, against the fake model server and control (SQLite)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import grpc
import pytest
from tinytroupe.common.v1 import agent_pb2
from tinytroupe.content.v1 import content_pb2, content_pb2_grpc
from tinytroupe.control.v1 import control_pb2, control_pb2_grpc
from tinytroupe.population.v1 import population_pb2

from services.content.service import DEFINITION
from services.content.servicer import checkpoint_id, document_title
from services.content.sources import pdf_text
from services.control.service import DEFINITION as CONTROL
from services.runtime.clients import open_channel
from services.runtime.testing import serving
from tests.fake_llm import FakeLLMServer
from tests.rich_errors import violations

NOTES = ("Maria Oliveira is a 41-year-old nurse from Recife. She works night shifts at a public hospital "
         "and cycles to work every day. She worries about the price of groceries.")


def make_pdf(text: str) -> bytes:
    """A one-page PDF showing `text` in Helvetica, with a correct cross-reference table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
         b"/Resources << /Font << /F1 5 0 R >> >> >>"),
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@pytest.fixture
async def fake_llm() -> AsyncIterator[FakeLLMServer]:
    async with FakeLLMServer(latency=0.02) as server:
        yield server


@pytest.fixture
async def stub(settings):
    async with serving(DEFINITION, settings) as address, open_channel(address, settings) as channel:
        yield content_pb2_grpc.ContentServiceStub(channel)




def test_pdf_text_is_extracted():
    assert "night shifts" in pdf_text(make_pdf("Maria works night shifts in Recife"))
    with pytest.raises(ValueError):
        pdf_text(b"%PDF-1.4 not really")


def test_document_titles_and_checkpoint_ids():
    assert document_title("intro\n## My Review ##\ntext", "x") == "My Review"
    assert document_title("\nFirst line\nmore", "x") == "First line"
    assert checkpoint_id("document", "a") == checkpoint_id("document", "a") != checkpoint_id("document", "b")


async def test_grounded_persona_from_text_and_pdf_sources(stub):
    response = await stub.CreateGroundedPersona(content_pb2.CreateGroundedPersonaRequest(
        sources=[content_pb2.GroundingSource(name="notes.md", text=NOTES, mime_type="text/markdown"),
                 content_pb2.GroundingSource(name="profile.pdf", pdf=make_pdf("She rides a blue bicycle"))],
        fragments=[population_pb2.FragmentSource(builtin=population_pb2.FRAGMENT_BUDGET_CONSCIOUS)],
        context="a study of urban commuting"), timeout=10)
    agent = response.agent
    assert agent.agent_id and agent.name == json.loads(agent.spec_json)["persona"]["name"]
    assert agent.provenance.origin == agent_pb2.Provenance.ORIGIN_GROUNDED
    assert list(agent.provenance.documents) == ["notes.md", "profile.pdf"]
    assert list(agent.provenance.fragments) == ["budget_conscious"]
    assert agent.provenance.context == "a study of urban commuting"
    assert response.attributions
    for attribution in response.attributions:
        assert attribution.fact and attribution.source_name


@pytest.mark.parametrize(("sources", "field"), [
    ([], "sources"),
    ([content_pb2.GroundingSource(name="x.pdf", pdf=b"%PDF-1.4 broken")], "sources[0].pdf"),
    ([content_pb2.GroundingSource(name="a", text="t"), content_pb2.GroundingSource(name="b")], "sources[1]"),
    ([content_pb2.GroundingSource(text="no name")], "sources[0].name"),
])
async def test_bad_sources_are_invalid_arguments(stub, sources, field):
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.CreateGroundedPersona(content_pb2.CreateGroundedPersonaRequest(sources=sources), timeout=10)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(error.value) == [field]


async def test_enrichment_and_documents_are_recorded_in_the_session(settings, tmp_path):
    control_settings = settings.model_copy(update={"data_dir": tmp_path / "control"})
    async with serving(CONTROL, control_settings) as control_address:
        settings = settings.model_copy(update={"control_address": control_address})
        async with open_channel(control_address, settings) as control_channel:
            control = control_pb2_grpc.SimulationControlServiceStub(control_channel)
            session = await control.BeginSession(control_pb2.BeginSessionRequest(
                session=control_pb2.Session(display_name="content test")), timeout=10)
            async with serving(DEFINITION, settings) as address, open_channel(address, settings) as channel:
                stub = content_pb2_grpc.ContentServiceStub(channel)
                enrich = content_pb2.EnrichContentRequest(
                    session=session.name, content="An electric bike for commuters.",
                    requirements="a one-page product description for retailers")
                enriched = await stub.EnrichContent(enrich, timeout=10)
                assert enriched.content

                agent = agent_pb2.Agent(name="Ana", spec_json=json.dumps(
                    {"type": "TinyPerson", "persona": {"name": "Ana", "age": 30}}))
                document = await stub.GenerateDocument(content_pb2.GenerateDocumentRequest(
                    session=session.name, agent=agent, instructions="a review of the bike"), timeout=10)
                assert document.markdown and document.title

                # without a session nothing is recorded
                await stub.EnrichContent(content_pb2.EnrichContentRequest(
                    content="Another text.", requirements="a tweet"), timeout=10)

            # a replica replaying the session gets the cached answer: the same text, stored once
            async with serving(DEFINITION, settings) as address, open_channel(address, settings) as channel:
                again = await content_pb2_grpc.ContentServiceStub(channel).EnrichContent(enrich, timeout=10)
            assert again.content == enriched.content

            listed = await control.ListCheckpoints(control_pb2.ListCheckpointsRequest(parent=session.name),
                                                   timeout=10)
            names = [checkpoint.name for checkpoint in listed.checkpoints]
            assert names == [f"{session.name}/checkpoints/{checkpoint_id('enrichment', enriched.content)}",
                             f"{session.name}/checkpoints/{checkpoint_id('document', document.markdown)}"]
            stored = await control.GetCheckpoint(control_pb2.GetCheckpointRequest(name=names[1]), timeout=10)
            assert stored.payload.decode() == document.markdown
            assert stored.content_type == "text/markdown"


async def test_missing_fields_are_invalid_arguments(stub):
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.EnrichContent(content_pb2.EnrichContentRequest(content="x"), timeout=10)
    assert violations(error.value) == ["requirements"]
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.GenerateDocument(content_pb2.GenerateDocumentRequest(
            agent=agent_pb2.Agent(spec_json="{}"), instructions="write"), timeout=10)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(error.value)[0].startswith("agent.spec_json")
