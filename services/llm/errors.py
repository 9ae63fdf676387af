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
    """No answer matched the output schema, lenient parse included, within `LLMSettings.output_attempts`."""

    def __init__(self, message: str, *, raw_text: str, validation_error: str = "", attempts: int = 1) -> None:
        super().__init__(message)
        self.raw_text = raw_text
        """The latest invalid answer."""
        self.validation_error = validation_error
        self.attempts = attempts
        """How many answers the call asked for."""


class LLMBudgetExhaustedError(LLMError):
    """The session's budget (its most cost or tokens) is spent: no new model call is made for it."""
