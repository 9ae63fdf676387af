"""The content service over real gRPC, against the fake model server and control (SQLite)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import grpc
import pytest
from tinytroupe_mesh_api.common.v1 import agent_pb2
from tinytroupe_mesh_api.content.v1 import content_pb2, content_pb2_grpc
from tinytroupe_mesh_api.control.v1 import control_pb2
from tinytroupe_mesh_api.population.v1 import population_pb2

from services.content.service import DEFINITION
from services.content.servicer import checkpoint_id, document_title
from services.content.sources import pdf_text
from services.runtime.clients import open_channel
from services.runtime.testing import serving
from tests.fake_llm import FakeLLMServer
from tests.rich_errors import violations
from tests.sessions import Control, refusal, running_control

NOTES = (
    "Maria Oliveira is a 41-year-old nurse from Recife. She works night shifts at a public hospital "
    "and cycles to work every day. She worries about the price of groceries."
)


def make_pdf(text: str) -> bytes:
    """A one-page PDF showing `text` in Helvetica, with a correct cross-reference table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>"
        ),
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
async def control(tmp_path) -> AsyncIterator[Control]:
    async with running_control(tmp_path / "control") as running:
        yield running


@pytest.fixture
async def stub(settings, control):
    served = control.serving(settings)
    async with serving(DEFINITION, served) as address, open_channel(address, served) as channel:
        yield content_pb2_grpc.ContentServiceStub(channel)


@pytest.fixture
async def session(control) -> str:
    return await control.begin_session("content test")


def test_pdf_text_is_extracted():
    assert "night shifts" in pdf_text(make_pdf("Maria works night shifts in Recife"))
    with pytest.raises(ValueError):
        pdf_text(b"%PDF-1.4 not really")


def test_document_titles_and_checkpoint_ids():
    assert document_title("intro\n## My Review ##\ntext", "x") == "My Review"
    assert document_title("\nFirst line\nmore", "x") == "First line"
    assert checkpoint_id("document", "a") == checkpoint_id("document", "a") != checkpoint_id("document", "b")


async def test_grounded_persona_from_text_and_pdf_sources(stub, session):
    response = await stub.CreateGroundedPersona(
        content_pb2.CreateGroundedPersonaRequest(
            session=session,
            sources=[
                content_pb2.GroundingSource(name="notes.md", text=NOTES, mime_type="text/markdown"),
                content_pb2.GroundingSource(name="profile.pdf", pdf=make_pdf("She rides a blue bicycle")),
            ],
            fragments=[population_pb2.FragmentSource(builtin=population_pb2.FRAGMENT_BUDGET_CONSCIOUS)],
            context="a study of urban commuting",
        ),
        timeout=10,
    )
    agent = response.agent
    assert agent.agent_id and agent.name == json.loads(agent.spec_json)["persona"]["name"]
    assert agent.provenance.origin == agent_pb2.Provenance.ORIGIN_GROUNDED
    assert list(agent.provenance.documents) == ["notes.md", "profile.pdf"]
    assert list(agent.provenance.fragments) == ["budget_conscious"]
    assert agent.provenance.context == "a study of urban commuting"
    assert response.attributions
    for attribution in response.attributions:
        assert attribution.fact and attribution.source_name


@pytest.mark.parametrize(
    ("sources", "field"),
    [
        ([], "sources"),
        ([content_pb2.GroundingSource(name="x.pdf", pdf=b"%PDF-1.4 broken")], "sources[0].pdf"),
        ([content_pb2.GroundingSource(name="a", text="t"), content_pb2.GroundingSource(name="b")], "sources[1]"),
        ([content_pb2.GroundingSource(text="no name")], "sources[0].name"),
    ],
)
async def test_bad_sources_are_invalid_arguments(stub, session, sources, field):
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.CreateGroundedPersona(
            content_pb2.CreateGroundedPersonaRequest(session=session, sources=sources), timeout=10
        )
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(error.value) == [field]


async def test_enrichment_and_documents_are_recorded_in_the_session(settings, control, session, stub):
    enrich = content_pb2.EnrichContentRequest(
        session=session,
        content="An electric bike for commuters.",
        requirements="a one-page product description for retailers",
    )
    enriched = await stub.EnrichContent(enrich, timeout=10)
    assert enriched.content

    agent = agent_pb2.Agent(
        name="Ana", spec_json=json.dumps({"type": "TinyPerson", "persona": {"name": "Ana", "age": 30}})
    )
    document = await stub.GenerateDocument(
        content_pb2.GenerateDocumentRequest(session=session, agent=agent, instructions="a review of the bike"),
        timeout=10,
    )
    assert document.markdown and document.title

    # a replica replaying the session gets the cached answer: the same text, stored once
    served = control.serving(settings)
    async with serving(DEFINITION, served) as address, open_channel(address, served) as channel:
        again = await content_pb2_grpc.ContentServiceStub(channel).EnrichContent(enrich, timeout=10)
    assert again.content == enriched.content

    listed = await control.stub.ListCheckpoints(control_pb2.ListCheckpointsRequest(parent=session), timeout=10)
    names = [checkpoint.name for checkpoint in listed.checkpoints]
    assert names == [
        f"{session}/checkpoints/{checkpoint_id('enrichment', enriched.content)}",
        f"{session}/checkpoints/{checkpoint_id('document', document.markdown)}",
    ]
    stored = await control.stub.GetCheckpoint(control_pb2.GetCheckpointRequest(name=names[1]), timeout=10)
    assert stored.payload.decode() == document.markdown
    assert stored.content_type == "text/markdown"


async def test_missing_fields_are_invalid_arguments(stub, session):
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.EnrichContent(content_pb2.EnrichContentRequest(session=session, content="x"), timeout=10)
    assert violations(error.value) == ["requirements"]
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.GenerateDocument(
            content_pb2.GenerateDocumentRequest(
                session=session, agent=agent_pb2.Agent(spec_json="{}"), instructions="write"
            ),
            timeout=10,
        )
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(error.value)[0].startswith("agent.spec_json")
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.EnrichContent(content_pb2.EnrichContentRequest(content="x", requirements="a tweet"), timeout=10)
    assert violations(error.value) == ["session"]


async def test_calls_with_a_request_id_are_answered_once_also_after_a_restart(settings, control, session, fake_llm):
    agent = agent_pb2.Agent(name="Ana", spec_json=json.dumps({"type": "TinyPerson", "persona": {"name": "Ana"}}))
    calls = {
        "CreateGroundedPersona": content_pb2.CreateGroundedPersonaRequest(
            session=session,
            request_id="persona-1",
            context="a study of commuting",
            sources=[content_pb2.GroundingSource(name="notes.md", text=NOTES, mime_type="text/markdown")],
        ),
        "EnrichContent": content_pb2.EnrichContentRequest(
            session=session, request_id="enrich-1", content="An electric bike.", requirements="a product page"
        ),
        "GenerateDocument": content_pb2.GenerateDocumentRequest(
            session=session, request_id="document-1", agent=agent, instructions="a review of the bike"
        ),
    }
    served = control.serving(settings)
    async with serving(DEFINITION, served) as address, open_channel(address, served) as channel:
        stub = content_pb2_grpc.ContentServiceStub(channel)
        first = {method: await getattr(stub, method)(request, timeout=10) for method, request in calls.items()}
        model_calls = fake_llm.stats.total_requests
        for method, request in calls.items():
            assert await getattr(stub, method)(request, timeout=10) == first[method]
    assert first["CreateGroundedPersona"].agent.agent_id

    async with serving(DEFINITION, served) as address, open_channel(address, served) as channel:
        stub = content_pb2_grpc.ContentServiceStub(channel)
        for method, request in calls.items():  # a restarted server answers from control
            assert await getattr(stub, method)(request, timeout=10) == first[method]
        assert fake_llm.stats.total_requests == model_calls

        changes = {
            "CreateGroundedPersona": ("context", "another study"),
            "EnrichContent": ("requirements", "a tweet"),
            "GenerateDocument": ("instructions", "a tweet about the bike"),
        }
        for method, request in calls.items():
            changed = type(request)()
            changed.CopyFrom(request)
            setattr(changed, *changes[method])
            error = await refusal(getattr(stub, method)(changed, timeout=10))
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and violations(error) == ["request_id"], method

        # A request id belongs to one method: EnrichContent's on GenerateDocument is another call, not a refusal.
        document = content_pb2.GenerateDocumentRequest()
        document.CopyFrom(calls["GenerateDocument"])
        document.request_id = calls["EnrichContent"].request_id
        assert (await stub.GenerateDocument(document, timeout=10)).markdown
