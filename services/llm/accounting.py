"""Token, call and cost accounting per session, and where each model call's usage is reported."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Protocol

from pydantic import BaseModel


class TokenUsage(BaseModel):
    """What one session cost: calls answered (by the model or the cache), the tokens spent and their price."""

    calls: int = 0
    """Structured calls answered, from the model or from the cache."""
    cached_calls: int = 0
    """Calls answered from the cache, at no model cost."""
    model_requests: int = 0
    """Requests that reached the model, repair retries included (transport retries are not)."""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    """Reasoning tokens included: they are billed as output."""
    total_tokens: int = 0
    """prompt_tokens + completion_tokens: tokens the model really processed for this session."""
    cached_tokens: int = 0
    """Tokens the cached answers cost when they were first made, saved by the cache."""
    reasoning_tokens: int = 0
    cached_prompt_tokens: int = 0
    """Prompt tokens the endpoint served from its own prompt cache."""
    cost: float = 0.0
    """US dollars of the priced model requests."""
    unpriced_requests: int = 0
    """Model requests of a model without a price: while above 0 the cost is unknown."""
    saved_cost: float = 0.0
    """US dollars the cached answers saved."""

    @property
    def cost_known(self) -> bool:
        return self.unpriced_requests == 0


class UsageSink(Protocol):
    """Where each model call's usage goes beyond the process (the ledger in control), and what it says
    back: whether a session's budget is spent."""

    async def exhausted(self, session: str) -> bool: ...

    async def record(self, session: str, model: str, agent: str, usage: TokenUsage) -> None: ...


acting_agent: ContextVar[str] = ContextVar("acting_agent", default="")
"""The agent the model calls made now are for ("" for none): the ledger attributes their usage to it."""


@contextlib.contextmanager
def acting_for(agent: str) -> Iterator[None]:
    """Attributes the model calls made inside to `agent`."""
    token = acting_agent.set(agent)
    try:
        yield
    finally:
        acting_agent.reset(token)


class UsageLedger:
    """Per-session `TokenUsage`; the session "" collects calls made outside any session."""

    def __init__(self) -> None:
        self._by_session: dict[str, TokenUsage] = {}

    def _usage(self, session: str) -> TokenUsage:
        usage = self._by_session.get(session)
        if usage is None:
            usage = self._by_session[session] = TokenUsage()
        return usage

    def record_model_request(
        self,
        session: str,
        prompt_tokens: int,
        completion_tokens: int,
        *,
        reasoning_tokens: int = 0,
        cached_prompt_tokens: int = 0,
        cost: float | None = 0.0,
    ) -> TokenUsage:
        """Adds one model request; returns it alone, as a usage to report."""
        request = TokenUsage(
            model_requests=1,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
            reasoning_tokens=reasoning_tokens,
            cached_prompt_tokens=cached_prompt_tokens,
            cost=cost or 0.0,
            unpriced_requests=int(cost is None),
        )
        add_usage(self._usage(session), request)
        return request

    def record_call(self, session: str, *, cached: bool, cached_tokens: int = 0, saved_cost: float = 0.0) -> TokenUsage:
        """Adds one answered call; returns it alone, as a usage to report."""
        call = TokenUsage(
            calls=1,
            cached_calls=int(cached),
            cached_tokens=cached_tokens if cached else 0,
            saved_cost=saved_cost if cached else 0.0,
        )
        add_usage(self._usage(session), call)
        return call

    def snapshot(self, session: str) -> TokenUsage:
        return self._usage(session).model_copy() if session in self._by_session else TokenUsage()

    def pop(self, session: str) -> TokenUsage:
        return self._by_session.pop(session, TokenUsage())


def add_usage(total: TokenUsage, more: TokenUsage) -> TokenUsage:
    """Adds `more` into `total` in place; returns `total`."""
    for name in TokenUsage.model_fields:
        setattr(total, name, getattr(total, name) + getattr(more, name))
    return total
