"""RememberedResponses on its own, over an in-memory stand-in for control: who runs, who waits, what is kept.

The durable side (control's database, restarts, replicas) is covered through the real servers in the
tests of each service and in tests/control/test_remembered_responses.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import grpc
import pytest
from google.protobuf import wrappers_pb2
from google.protobuf.message import Message
from tinytroupe_mesh_api.content.v1 import content_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2

from services.common.control_client import packed
from services.common.remembered import RememberedResponses, remembered_response_id, request_sha256
from services.common.request_checks import MAX_REQUEST_ID_CHARS, request_id_violations
from services.runtime.errors import InvalidArgument, Unavailable

SESSION = "sessions/remembered-test"


class ControlInMemory:
    """The two calls of ControlClient that RememberedResponses makes, kept in a dict."""

    def __init__(self) -> None:
        self.stored: dict[tuple[str, str], control_pb2.RememberedResponse] = {}
        self.refuse_with: grpc.StatusCode | None = None

    async def remembered_response(self, session: str, response_id: str) -> control_pb2.RememberedResponse | None:
        return self.stored.get((session, response_id))

    async def remember_response(
        self, session: str, response_id: str, digest: str, responses: Sequence[Message]
    ) -> control_pb2.RememberedResponse:
        if self.refuse_with is not None:
            raise grpc.aio.AioRpcError(self.refuse_with, grpc.aio.Metadata(), grpc.aio.Metadata(), "refused")
        return self.stored.setdefault(
            (session, response_id), control_pb2.RememberedResponse(request_sha256=digest, responses=packed(responses))
        )


def enrich(request_id: str = "enrich-1", content: str = "A kettle.") -> content_pb2.EnrichContentRequest:
    return content_pb2.EnrichContentRequest(
        session=SESSION, content=content, requirements="a page", request_id=request_id
    )


class Calls:
    """A call that counts its runs and finishes when the test lets it."""

    def __init__(self) -> None:
        self.runs = 0
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.failure: BaseException | None = None

    async def __call__(self) -> content_pb2.EnrichContentResponse:
        self.runs += 1
        self.started.set()
        await self.release.wait()
        if self.failure is not None:
            raise self.failure
        return content_pb2.EnrichContentResponse(content=f"answer {self.runs}")


@pytest.fixture
def control() -> ControlInMemory:
    return ControlInMemory()


async def test_a_duplicate_waits_for_the_first_call_and_a_retry_reads_its_answer(control) -> None:
    remembered, call = RememberedResponses(control), Calls()
    first = asyncio.create_task(remembered.unary(enrich(), content_pb2.EnrichContentResponse, call))
    await call.started.wait()
    duplicate = asyncio.create_task(remembered.unary(enrich(), content_pb2.EnrichContentResponse, call))
    call.release.set()
    assert await first == await duplicate == content_pb2.EnrichContentResponse(content="answer 1")
    assert await remembered.unary(enrich(), content_pb2.EnrichContentResponse, call) == await first
    assert call.runs == 1
    assert (SESSION, remembered_response_id(enrich())) in control.stored


async def test_another_request_with_the_id_is_refused_running_or_remembered(control) -> None:
    remembered, call = RememberedResponses(control), Calls()
    first = asyncio.create_task(remembered.unary(enrich(), content_pb2.EnrichContentResponse, call))
    await call.started.wait()
    for _ in range(2):
        with pytest.raises(InvalidArgument) as refused:
            await remembered.unary(enrich(content="Another text."), content_pb2.EnrichContentResponse, call)
        assert refused.value.violations[0][0] == "request_id"
        call.release.set()
        await first


async def test_a_cancelled_first_call_leaves_the_duplicate_to_run(control) -> None:
    remembered, call = RememberedResponses(control), Calls()
    first = asyncio.create_task(remembered.unary(enrich(), content_pb2.EnrichContentResponse, call))
    await call.started.wait()
    duplicate = asyncio.create_task(remembered.unary(enrich(), content_pb2.EnrichContentResponse, call))
    await asyncio.sleep(0)  # a turn of the loop: the duplicate starts waiting on the first call
    first.cancel()
    call.started.clear()
    await call.started.wait()  # the duplicate runs the call itself
    call.release.set()
    assert (await duplicate).content == "answer 2"
    assert first.cancelled()


async def test_a_failed_call_is_shared_by_its_duplicates_and_not_remembered(control) -> None:
    remembered, call = RememberedResponses(control), Calls()
    call.failure = Unavailable("the model is down")
    first = asyncio.create_task(remembered.unary(enrich(), content_pb2.EnrichContentResponse, call))
    await call.started.wait()
    duplicate = asyncio.create_task(remembered.unary(enrich(), content_pb2.EnrichContentResponse, call))
    call.release.set()
    for task in (first, duplicate):
        with pytest.raises(Unavailable):
            await task
    call.failure = None
    assert (await remembered.unary(enrich(), content_pb2.EnrichContentResponse, call)).content == "answer 2"


async def test_an_answer_control_cannot_keep_is_still_returned(control) -> None:
    control.refuse_with = grpc.StatusCode.FAILED_PRECONDITION
    remembered, call = RememberedResponses(control), Calls()
    call.release.set()
    assert (await remembered.unary(enrich(), content_pb2.EnrichContentResponse, call)).content == "answer 1"
    assert control.stored == {}


async def test_without_a_request_id_every_call_runs(control) -> None:
    remembered, call = RememberedResponses(control), Calls()
    call.release.set()
    for expected in ("answer 1", "answer 2"):
        assert (
            await remembered.unary(enrich(request_id=""), content_pb2.EnrichContentResponse, call)
        ).content == expected
    assert control.stored == {}


async def test_a_stream_remembers_what_it_keeps_and_replays_it(control) -> None:
    remembered = RememberedResponses(control)
    runs = 0

    async def stream() -> AsyncIterator[wrappers_pb2.StringValue]:
        nonlocal runs
        runs += 1
        for text in ("plan", "agent", "summary"):
            yield wrappers_pb2.StringValue(value=text)

    def kept(message: wrappers_pb2.StringValue) -> wrappers_pb2.StringValue | None:
        return message if message.value != "agent" else None

    live = [message.value async for message in remembered.stream(enrich(), wrappers_pb2.StringValue, stream, kept=kept)]
    replayed = [
        message.value async for message in remembered.stream(enrich(), wrappers_pb2.StringValue, stream, kept=kept)
    ]
    assert (live, replayed, runs) == (["plan", "agent", "summary"], ["plan", "summary"], 1)


def test_request_ids_and_their_hashes() -> None:
    assert request_id_violations("a" * MAX_REQUEST_ID_CHARS) == []
    assert [field for field, _ in request_id_violations("a" * (MAX_REQUEST_ID_CHARS + 1))] == ["request_id"]
    assert request_id_violations("tab\there") and request_id_violations(" padded")
    same_id_other_call = content_pb2.GenerateDocumentRequest(session=SESSION, request_id="enrich-1")
    assert remembered_response_id(enrich()) != remembered_response_id(same_id_other_call)
    assert remembered_response_id(enrich()) == remembered_response_id(enrich(content="Another text."))
    assert request_sha256(enrich()) != request_sha256(enrich(content="Another text."))
