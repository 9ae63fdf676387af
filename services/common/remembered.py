"""Durable `request_id`s (AIP-155): the first answer of a mutating call, remembered in its session in control.

A call that names a session and carries a `request_id` is answered once. Its answer (a unary call's
response, or what a stream keeps of its messages) is remembered in control, in that session, under an id
derived from the call (its request message type) and the request id, with the SHA-256 of the request. A
retry with the same request id and the same request, after a restart or on another replica, gets that
answer without running again; the same request id with another request is INVALID_ARGUMENT naming
`request_id`. Remembered answers are deleted with their session.

In one process, a duplicate that arrives while the first call runs waits for that call's answer. A call
that fails is not remembered, so its retry runs again; an answer control cannot take (the session ended
meanwhile) is still returned, and its retry runs again too.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import grpc
import structlog
from google.protobuf import any_pb2
from google.protobuf.message import Message

from services.common.control_client import ControlClient, packed
from services.runtime.errors import Internal, InvalidArgument

log = structlog.get_logger("remembered")

ResponseT = TypeVar("ResponseT", bound=Message)
Answer = list[any_pb2.Any]
IdempotentRequest = Message
"""A request message with a `session` (its name) and a `request_id` field."""

RESPONSE_ID_HEX_DIGITS = 40


def remembered_response_id(request: IdempotentRequest) -> str:
    """The id the answer to `request` is remembered under: a hash of its call and its request id."""
    call_and_id = f"{request.DESCRIPTOR.full_name}\n{request.request_id}"
    return hashlib.sha256(call_and_id.encode()).hexdigest()[:RESPONSE_ID_HEX_DIGITS]


def request_sha256(request: IdempotentRequest) -> str:
    return hashlib.sha256(request.SerializeToString(deterministic=True)).hexdigest()


def unpacked(answer: Sequence[any_pb2.Any], response_type: type[ResponseT]) -> list[ResponseT]:
    """The messages of a remembered answer."""
    messages = []
    for container in answer:
        message = response_type()
        if not container.Unpack(message):
            raise Internal(f"a remembered answer holds {container.type_url}, not {response_type.DESCRIPTOR.full_name}")
        messages.append(message)
    return messages


def _refuse_another_request(stored_sha256: str, request_digest: str) -> None:
    if stored_sha256 != request_digest:
        raise InvalidArgument(
            "request_id", "was already used for another request in this session; a new request needs a new request_id"
        )


@dataclass
class _Lead:
    """The first call of a request id in this process: it runs, remembers, and tells the duplicates."""

    control: ControlClient
    session: str
    response_id: str
    request_digest: str
    answer: asyncio.Future[Answer] = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    async def remember(self, messages: Sequence[Message]) -> Answer:
        """Remembers the call's answer and returns the remembered one (another replica's may have won)."""
        try:
            remembered = await self.control.remember_response(
                self.session, self.response_id, self.request_digest, messages
            )
        except grpc.aio.AioRpcError as error:
            log.warning("response_not_remembered", session=self.session, code=error.code().name, detail=error.details())
            answer = packed(messages)
        else:
            _refuse_another_request(remembered.request_sha256, self.request_digest)
            answer = list(remembered.responses)
        self.answer.set_result(answer)
        return answer

    def fail(self, error: BaseException) -> None:
        """The call failed: duplicates waiting share its error, or run themselves when it was cancelled."""
        if self.answer.done():
            return
        if isinstance(error, (asyncio.CancelledError, GeneratorExit)):
            self.answer.cancel()
        else:
            self.answer.set_exception(error)
            self.answer.exception()  # retrieved: no warning when no duplicate waits


class RememberedResponses:
    """The first answers of one service's calls, remembered in their sessions through control."""

    def __init__(self, control: ControlClient) -> None:
        self._control = control
        self._running: dict[tuple[str, str], _Lead] = {}

    async def unary(
        self, request: IdempotentRequest, response_type: type[ResponseT], call: Callable[[], Awaitable[ResponseT]]
    ) -> ResponseT:
        """The answer to `request`: the one remembered for its request id, or `call()`'s, remembered."""
        if not request.request_id:
            return await call()
        earlier = await self._earlier_answer_or_lead(request)
        if not isinstance(earlier, _Lead):
            return unpacked(earlier, response_type)[0]
        lead = earlier
        try:
            response = await call()
            return unpacked(await lead.remember([response]), response_type)[0]
        except BaseException as error:
            lead.fail(error)
            raise
        finally:
            self._running.pop((lead.session, lead.response_id), None)

    async def stream(
        self,
        request: IdempotentRequest,
        response_type: type[ResponseT],
        call: Callable[[], AsyncIterator[ResponseT]],
        *,
        kept: Callable[[ResponseT], Message | None] | None = None,
        replayed: Callable[[Answer], Awaitable[list[ResponseT]]] | None = None,
    ) -> AsyncIterator[ResponseT]:
        """The messages of `call()` as they come, the ones `kept` keeps (all by default) remembered at its end;
        for a request id answered before, the messages `replayed` makes of that answer (the remembered ones
        by default)."""
        if not request.request_id:
            async for message in call():
                yield message
            return
        earlier = await self._earlier_answer_or_lead(request)
        if not isinstance(earlier, _Lead):
            for message in await (replayed(earlier) if replayed else _as_is(earlier, response_type)):
                yield message
            return
        lead = earlier
        try:
            remembered: list[Message] = []
            async for message in call():
                part = message if kept is None else kept(message)
                if part is not None:
                    remembered.append(part)
                yield message
            await lead.remember(remembered)
        except BaseException as error:
            lead.fail(error)
            raise
        finally:
            self._running.pop((lead.session, lead.response_id), None)

    async def _earlier_answer_or_lead(self, request: IdempotentRequest) -> Answer | _Lead:
        """The answer of an earlier call with the request's id (remembered in control, or of a call running here,
        awaited), or the lead of this call when there is none."""
        key = (request.session, remembered_response_id(request))
        digest = request_sha256(request)
        while True:
            running = self._running.get(key)
            if running is None:
                remembered = await self._control.remembered_response(*key)
                if remembered is not None:
                    _refuse_another_request(remembered.request_sha256, digest)
                    return list(remembered.responses)
                running = self._running.get(key)
                if running is None:  # no await since the look-up: this call leads
                    lead = _Lead(self._control, *key, digest)
                    self._running[key] = lead
                    return lead
            _refuse_another_request(running.request_digest, digest)
            try:
                return await asyncio.shield(running.answer)
            except asyncio.CancelledError:
                if not running.answer.cancelled():
                    raise  # this call itself was cancelled
                # the first call was cancelled before it answered: look again, and lead if nobody else does


async def _as_is(answer: Answer, response_type: type[ResponseT]) -> list[ResponseT]:
    return unpacked(answer, response_type)
