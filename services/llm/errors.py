"""Errors raised by the LLM client; every one derives from `LLMError`."""

from __future__ import annotations


class LLMError(Exception):
    """Base class of every failure of an LLM call."""


class LLMUnavailableError(LLMError):
    """The endpoint could not be reached or kept failing (retries exhausted, connection refused)."""


class LLMDeadlineError(LLMError):
    """The call did not finish within its deadline (`LLMSettings.timeout_s`)."""


class LLMRequestError(LLMError):
    """The endpoint rejected the request (a 4xx other than 429, or a misconfiguration); never retried."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class LLMInvalidOutputError(LLMError):
    """The answer still did not match the output schema after the lenient parse and one repair retry."""

    def __init__(self, message: str, *, raw_text: str, validation_error: str = "") -> None:
        super().__init__(message)
        self.raw_text = raw_text
        self.validation_error = validation_error
