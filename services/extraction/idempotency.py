"""Answers remembered by `request_id`, so a retried request gets the first answer, not a second run.

Kept in this replica's memory (bounded): a retry that reaches another replica runs again, and the
LLM cache in control then replays the model's answers for the same session.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from google.protobuf.message import Message

from services.runtime.errors import InvalidArgument

ResponseT = TypeVar("ResponseT", bound=Message)

MAX_REMEMBERED = 256


def fingerprint(request: Message) -> str:
    return hashlib.sha256(request.SerializeToString(deterministic=True)).hexdigest()


class IdempotentCalls(Generic[ResponseT]):
    """Runs a call once per `request_id`; concurrent and later duplicates share its outcome."""

    def __init__(self, max_remembered: int = MAX_REMEMBERED) -> None:
        self._max = max_remembered
        self._calls: OrderedDict[str, tuple[str, asyncio.Future[ResponseT]]] = OrderedDict()

    async def run(self, request_id: str, request: Message, call: Callable[[], Awaitable[ResponseT]]) -> ResponseT:
        if not request_id:
            return await call()
        digest = fingerprint(request)
        remembered = self._calls.get(request_id)
        if remembered is not None:
            if remembered[0] != digest:
                raise InvalidArgument("request_id", "was already used for a different request")
            self._calls.move_to_end(request_id)
            return await asyncio.shield(remembered[1])
        future: asyncio.Future[ResponseT] = asyncio.get_running_loop().create_future()
        self._calls[request_id] = (digest, future)
        while len(self._calls) > self._max:
            self._calls.popitem(last=False)
        try:
            response = await call()
        except BaseException as error:
            if self._calls.get(request_id, (None, None))[1] is future:
                del self._calls[request_id]  # a failed call may be retried
            if isinstance(error, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(error)
                future.exception()  # retrieved: no warning when no duplicate is waiting
            raise
        future.set_result(response)
        return response
