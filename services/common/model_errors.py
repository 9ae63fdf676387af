"""One mapping of a failed model call to the status every service answers with.

A request the model endpoint refused (a 4xx other than 429: a wrong URL, model or key) is
FAILED_PRECONDITION, LLM_REQUEST_REJECTED: retrying will not help until the endpoint's settings are
fixed. An endpoint that is down, slow past the deadline or whose answers stay invalid is UNAVAILABLE,
with the reason saying which.
"""

from __future__ import annotations

from services.llm.errors import (
    LLMBudgetExhaustedError,
    LLMDeadlineError,
    LLMError,
    LLMInvalidOutputError,
    LLMRequestError,
)
from services.runtime.errors import FailedPrecondition, MeshError, ResourceExhausted, Unavailable


def model_failure(what: str, error: LLMError) -> MeshError:
    """The error a service raises when the model call for `what` failed with `error`."""
    if isinstance(error, LLMBudgetExhaustedError):
        return ResourceExhausted("BUDGET_EXHAUSTED", f"{what}: the study's budget is spent: {error}")
    if isinstance(error, LLMRequestError):
        return FailedPrecondition("LLM_REQUEST_REJECTED", f"{what}: the model endpoint rejected the request: {error}")
    if isinstance(error, LLMDeadlineError):
        return Unavailable(f"{what}: the model did not answer in time: {error}", reason="LLM_DEADLINE_EXCEEDED")
    if isinstance(error, LLMInvalidOutputError):
        return Unavailable(f"{what}: the model's answers stayed invalid: {error}", reason="LLM_INVALID_OUTPUT")
    return Unavailable(f"{what}: the model is unavailable: {error}", reason="LLM_UNAVAILABLE")


MODEL_FAILURE_REASONS = frozenset(
    {"LLM_REQUEST_REJECTED", "LLM_DEADLINE_EXCEEDED", "LLM_INVALID_OUTPUT", "LLM_UNAVAILABLE", "BUDGET_EXHAUSTED"}
)


def is_model_failure(reason: str) -> bool:
    """Whether an error's ErrorInfo reason says a model call failed (the request's own agent's failure),
    rather than the service that answered."""
    return reason in MODEL_FAILURE_REASONS
