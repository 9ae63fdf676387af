"""The retry policy: which failures are retried, how long each attempt may take, and how long to wait
before the next attempt."""

from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import openai

from services.runtime.config import LLMSettings


@dataclass(frozen=True)
class AttemptFailure:
    """What went wrong with one request attempt, as the retry policy sees it."""

    outcome: str
    """Metric label: `rate_limited`, `server_error`, `timeout`, `connection_error` or `client_error`."""
    retryable: bool
    retry_after_s: float | None
    status_code: int | None
    message: str


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait according to `retry-after-ms`, or `Retry-After` in seconds or as an HTTP date."""
    lowered = {key.lower(): value for key, value in headers.items()}
    milliseconds = lowered.get("retry-after-ms")
    if milliseconds is not None:
        try:
            return max(0.0, float(milliseconds) / 1000.0)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, moment.timestamp() - current)


def attempt_timeout_s(settings: LLMSettings, max_tokens: int) -> float:
    """How long one attempt may take: `attempt_timeout_s` when set, else sized to the answer (time to the
    first token plus `max_tokens` at the slowest expected rate) and at most half the deadline, so that a
    retry fits after a hung attempt; infinite when sizing is off."""
    if settings.attempt_timeout_s > 0:
        return settings.attempt_timeout_s
    if settings.attempt_tokens_per_s <= 0:
        return math.inf
    sized = settings.attempt_first_token_s + max_tokens / settings.attempt_tokens_per_s
    return min(sized, settings.timeout_s / 2)


def attempt_cutoff(now: float, deadline: float, timeout_s: float, last: bool) -> float:
    """When an attempt starting `now` is cut: after its own timeout, or at the call's deadline when it is
    the last attempt or no further attempt would fit after it."""
    if last or now + 2 * timeout_s > deadline:
        return deadline
    return now + timeout_s


class LatencyWindow:
    """Durations of the latest answered attempts, for the hedging delay."""

    def __init__(self, size: int = 256, min_samples: int = 20) -> None:
        self._durations: deque[float] = deque(maxlen=size)
        self._min_samples = min_samples

    def add(self, duration_s: float) -> None:
        self._durations.append(duration_s)

    def quantile(self, q: float) -> float | None:
        """The `q` quantile (nearest rank) of the recent durations; None until there are enough."""
        if len(self._durations) < self._min_samples:
            return None
        ordered = sorted(self._durations)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def backoff_delay(attempt: int, base_s: float, max_s: float, rng: random.Random) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(max_s, base_s * 2**attempt)]."""
    return rng.uniform(0.0, min(max_s, base_s * (2**attempt)))


def classify(error: Exception) -> AttemptFailure:
    """Maps an exception of the openai package to the retry policy's view of it."""
    if isinstance(error, openai.APITimeoutError):
        return AttemptFailure("timeout", True, None, None, str(error))
    if isinstance(error, openai.APIConnectionError):
        return AttemptFailure("connection_error", True, None, None, str(error))
    if isinstance(error, openai.APIStatusError):
        status = error.status_code
        retry_after = parse_retry_after(error.response.headers)
        message = f"HTTP {status}: {error.message}"
        if status == 429:
            return AttemptFailure("rate_limited", True, retry_after, status, message)
        if status >= 500:
            if _is_rejected_response_format(error):
                return AttemptFailure("client_error", False, None, status, _RESPONSE_FORMAT_HINT + message)
            return AttemptFailure("server_error", True, retry_after, status, message)
        if status == 408:
            return AttemptFailure("timeout", True, retry_after, status, message)
        return AttemptFailure("client_error", False, None, status, message)
    raise error


_RESPONSE_FORMAT_HINT = (
    "the endpoint rejected the response_format field; set LLM_RESPONSE_FORMAT to the form it speaks "
    "(json_schema, json_object_schema or json_object): "
)


def _is_rejected_response_format(error: openai.APIStatusError) -> bool:
    """llama-cpp-python's server answers a `json_schema` response format with a 500 validation error:
    a misconfiguration that no retry can fix."""
    text = str(error.body or error.message)
    return "response_format" in text and "validation error" in text
