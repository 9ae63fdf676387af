"""Token and call accounting per session."""

from __future__ import annotations

from pydantic import BaseModel


class TokenUsage(BaseModel):
    """What one session cost: calls answered (by the model or the cache) and the tokens spent."""

    calls: int = 0
    """Structured calls answered, from the model or from the cache."""
    cached_calls: int = 0
    """Calls answered from the cache, at no model cost."""
    model_requests: int = 0
    """Requests that reached the model, repair retries included (transport retries are not)."""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    """prompt_tokens + completion_tokens: tokens the model really processed for this session."""
    cached_tokens: int = 0
    """Tokens the cached answers cost when they were first made, saved by the cache."""


class UsageLedger:
    """Per-session `TokenUsage`; the session "" collects calls made outside any session."""

    def __init__(self) -> None:
        self._by_session: dict[str, TokenUsage] = {}

    def _usage(self, session: str) -> TokenUsage:
        usage = self._by_session.get(session)
        if usage is None:
            usage = self._by_session[session] = TokenUsage()
        return usage

    def record_model_request(self, session: str, prompt_tokens: int, completion_tokens: int) -> None:
        usage = self._usage(session)
        usage.model_requests += 1
        usage.prompt_tokens += prompt_tokens
        usage.completion_tokens += completion_tokens
        usage.total_tokens += prompt_tokens + completion_tokens

    def record_call(self, session: str, *, cached: bool, cached_tokens: int = 0) -> None:
        usage = self._usage(session)
        usage.calls += 1
        if cached:
            usage.cached_calls += 1
            usage.cached_tokens += cached_tokens

    def snapshot(self, session: str) -> TokenUsage:
        return self._usage(session).model_copy() if session in self._by_session else TokenUsage()

    def pop(self, session: str) -> TokenUsage:
        return self._by_session.pop(session, TokenUsage())
