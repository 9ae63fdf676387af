"""The one LLM client of the mesh: structured chat completions over the OpenAI-compatible API.

`LLMClient.structured` sends one chat completion whose answer is validated into a pydantic model. On
the way it consults the session's cache, waits for a concurrency slot and for the rate budget,
retries what is worth retrying within the call's deadline, asks again after an invalid answer (up to
`output_attempts` answers, each a new sample), and accounts tokens per session.
"""

from __future__ import annotations

import asyncio
import functools
import random
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, TypeVar

import openai
import structlog
from pydantic import BaseModel, ValidationError

from services.llm.accounting import TokenUsage, UsageLedger, UsageSink, acting_agent
from services.llm.budget import Budget, BudgetGrant, RateBudget
from services.llm.cache import CachedAnswer, CoalescingCache, ResponseCache, cache_key, request_fingerprint
from services.llm.errors import (
    LLMBudgetExhaustedError,
    LLMDeadlineError,
    LLMInvalidOutputError,
    LLMRequestError,
    LLMUnavailableError,
)
from services.llm.metrics import llm_metrics, usage_metrics
from services.llm.pricing import PriceTable
from services.llm.retry import (
    AttemptFailure,
    LatencyWindow,
    attempt_cutoff,
    attempt_timeout_s,
    backoff_delay,
    classify,
)
from services.llm.structured import (
    ResponseFormatMode,
    build_response_format,
    prepare_messages,
    repair_messages,
    schema_name,
    validate_answer,
)
from services.llm.tracing import record_answer, record_cache_hit, traced_model_call
from services.runtime.config import LLMSettings
from services.runtime.context import current_tenant

T = TypeVar("T", bound=BaseModel)

log = structlog.get_logger(__name__)

_CHARS_PER_TOKEN = 4


def estimate_tokens(messages: list[dict[str, str]], max_tokens: int) -> int:
    """A pre-call estimate for the token budget: prompt characters / 4 plus the completion limit."""
    prompt_chars = sum(len(message.get("content") or "") for message in messages)
    return prompt_chars // _CHARS_PER_TOKEN + max_tokens


@functools.lru_cache(maxsize=256)
def output_schema(output_model: type[BaseModel]) -> dict[str, Any]:
    """`output_model.model_json_schema()`, computed once per model class (it costs ~0.5 ms). Callers
    must not modify the returned dict."""
    return output_model.model_json_schema()


@dataclass
class _Deadline:
    """When one call's time runs out: set as its first request attempt starts, and shared by every
    answer the call asks for."""

    at: float | None = None


def fresh_sample(request: dict[str, Any], attempt: int) -> dict[str, Any]:
    """The request of the `attempt`-th answer (1 for the first): with a seed, one of its own, so an
    endpoint that answers a seeded request the same way each time draws a new sample."""
    if attempt <= 1 or request.get("seed") is None:
        return request
    return {**request, "seed": request["seed"] + attempt - 1}


@dataclass(frozen=True)
class _Answer:
    """One model answer and what it cost."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    truncated: bool
    reasoning_tokens: int = 0
    cached_prompt_tokens: int = 0


def _http_client(settings: LLMSettings) -> openai.DefaultAioHttpClient:
    """aiohttp under the openai client: its connection pool stays cheap with thousands of requests in
    flight, where httpx's rescans every connection on each request."""
    return openai.DefaultAioHttpClient(timeout=settings.timeout_s)


def _make_openai_client(settings: LLMSettings) -> openai.AsyncOpenAI | None:
    """The openai package's client with its own retries off (the retry policy is ours)."""
    common: dict[str, Any] = {
        "api_key": settings.api_key.get_secret_value(),
        "max_retries": 0,
        "timeout": settings.timeout_s,
    }
    if settings.provider == "azure":
        endpoint = settings.azure_endpoint or settings.base_url
        if not endpoint:
            return None
        location = {"azure_endpoint": endpoint} if settings.azure_endpoint else {"base_url": endpoint}
        return openai.AsyncAzureOpenAI(
            api_version=settings.api_version, **location, http_client=_http_client(settings), **common
        )
    if settings.provider != "openai":
        raise ValueError(f"unknown LLM provider {settings.provider!r}: expected 'openai' or 'azure'")
    if not settings.base_url:
        return None
    return openai.AsyncOpenAI(base_url=settings.base_url, http_client=_http_client(settings), **common)


def session_scope(llm: object, session: str) -> AbstractContextManager[None]:
    """`llm.session_scope(session)`, or no scope for a model access without one (a test double)."""
    scope = getattr(llm, "session_scope", None)
    return scope(session) if scope is not None else nullcontext()


class LLMClient:
    """Structured chat completions with retries, deadlines, budgets, accounting and a session cache.

    One per service process (`services.common.model_access.ModelAccess`): the concurrency cap and the rate
    budget are shared by every call made through it.
    """

    def __init__(
        self,
        settings: LLMSettings,
        cache: ResponseCache | None = None,
        metrics_prefix: str = "llm",
        *,
        usage_sink: UsageSink | None = None,
        service: str = "",
        prices: PriceTable | None = None,
        budget: Budget | None = None,
    ) -> None:
        self.settings = settings
        self.service = service
        self.prices = prices if prices is not None else PriceTable.from_settings(settings)
        self._usage_sink = usage_sink
        self._usage_metrics = usage_metrics()
        self.response_format_mode = ResponseFormatMode(settings.response_format)
        self._openai = _make_openai_client(settings)
        self._cache: ResponseCache | None = (
            cache if cache is None or isinstance(cache, CoalescingCache) else CoalescingCache(cache)
        )
        self._slots = asyncio.Semaphore(settings.max_concurrency) if settings.max_concurrency > 0 else None
        self._budget: Budget = budget or RateBudget(
            settings.requests_per_minute, settings.tokens_per_minute, settings.budget_window_s
        )
        self._ledger = UsageLedger()
        self._iterations: dict[str, dict[str, int]] = {}
        self._scopes: Counter[str] = Counter()
        self._metrics = llm_metrics(metrics_prefix)
        self._jitter = random.Random()
        self._latencies = LatencyWindow()

    @traced_model_call
    async def structured(
        self,
        messages: list[dict[str, str]],
        output_model: type[T],
        *,
        session: str = "",
        label: str = "",
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> T:
        """One chat completion whose answer is validated into `output_model` (a pydantic BaseModel)."""
        max_tokens = self.settings.max_tokens if max_tokens is None else max_tokens
        temperature = self.settings.temperature if temperature is None else temperature
        schema = output_schema(output_model)

        numbered = self._next_cache_key(session, messages, schema, temperature, max_tokens)
        try:
            return await self._answer(messages, output_model, schema, session, label, max_tokens, temperature, numbered)
        except BaseException:
            if numbered is not None:
                self._give_back_iteration(session, *numbered)
            raise

    async def _answer(
        self, messages, output_model, schema, session, label, max_tokens, temperature, numbered: tuple[str, int] | None
    ):
        key = cache_key(*numbered) if numbered is not None else None
        if key is not None:
            cached = await self._cached_instance(session, key, output_model)
            if cached is not None:
                return cached

        if session and self._usage_sink is not None and await self._usage_sink.exhausted(session):
            raise LLMBudgetExhaustedError(f"{label or 'LLM call'}: no new model call: the session's budget is spent")
        sent_messages = prepare_messages(messages, self.response_format_mode, schema)
        request: dict[str, Any] = {
            "model": self.settings.model,
            "response_format": build_response_format(self.response_format_mode, schema_name(output_model), schema),
            "temperature": temperature,
            "max_tokens": max_tokens,
        }
        if self.settings.seed is not None:
            request["seed"] = self.settings.seed

        instance, answer = await self._valid_answer(sent_messages, request, output_model, session, label)
        record_answer(answer.prompt_tokens, answer.completion_tokens)
        self._metrics.requests.labels(outcome="ok").inc()
        await self._report(session, self._ledger.record_call(session, cached=False))
        if key is not None:
            await self._store(session, key, CachedAnswer(answer.text, answer.prompt_tokens, answer.completion_tokens))
        return instance

    async def _valid_answer(
        self,
        sent_messages: list[dict[str, str]],
        request: dict[str, Any],
        output_model: type[T],
        session: str,
        label: str,
    ) -> tuple[T, _Answer]:
        """Asks until an answer validates, at most `output_attempts` answers within the call's deadline.
        Each answer after an invalid one is a new sample: the model sees its latest invalid answer and
        the error, under a seed of its own. Returns the instance and the JSON text that validated, with
        the tokens of every answer."""
        loop = asyncio.get_running_loop()
        deadline = _Deadline()
        attempt_messages, attempt_request = sent_messages, request
        prompt_tokens = completion_tokens = 0
        attempt = 1
        while True:
            answer = await self._complete(attempt_messages, attempt_request, session, label, deadline)
            prompt_tokens += answer.prompt_tokens
            completion_tokens += answer.completion_tokens
            try:
                instance, valid_text = validate_answer(answer.text, output_model)
            except ValueError as error:
                self._metrics.requests.labels(outcome="invalid_output").inc()
                out_of_time = deadline.at is not None and loop.time() >= deadline.at
                if attempt >= self.settings.output_attempts or out_of_time:
                    ended = "the deadline passed after" if attempt < self.settings.output_attempts else "after"
                    raise LLMInvalidOutputError(
                        f"{label or 'LLM call'}: no answer matches {output_model.__name__}: {ended} "
                        f"{attempt} of {self.settings.output_attempts} attempts: {error}",
                        raw_text=answer.text,
                        validation_error=str(error),
                        attempts=attempt,
                    ) from None
                log.info(
                    "llm_answer_invalid_retrying",
                    session=session,
                    label=label,
                    attempt=attempt,
                    truncated=answer.truncated,
                    error=str(error),
                )
                attempt += 1
                attempt_messages = repair_messages(sent_messages, answer.text, str(error), answer.truncated)
                attempt_request = fresh_sample(request, attempt)
                continue
            return instance, _Answer(valid_text, prompt_tokens, completion_tokens, answer.truncated)

    def usage(self, session: str) -> TokenUsage:
        """Calls and tokens of `session` so far ("" for calls made outside any session)."""
        return self._ledger.snapshot(session)

    @contextmanager
    def session_scope(self, session: str) -> Iterator[None]:
        """One request working for `session` (a simulation stream, an extraction, ...).

        The first open scope of a session numbers its identical calls from the start, so a retried or
        resumed request meets its earlier answers in the cache under the same keys; the last one to
        close forgets the session's counters and accounting, so a long-running server keeps nothing
        of finished work."""
        if not self._scopes[session]:
            self._iterations.pop(session, None)
        self._scopes[session] += 1
        try:
            yield
        finally:
            self._scopes[session] -= 1
            if not self._scopes[session]:
                del self._scopes[session]
                self.end_session(session)

    def end_session(self, session: str) -> TokenUsage:
        """Forgets a finished session's accounting and cache iteration counters; returns its usage."""
        self._iterations.pop(session, None)
        return self._ledger.pop(session)

    async def aclose(self) -> None:
        await self._budget.aclose()
        if self._openai is not None:
            await self._openai.close()

    # -- the cache -----------------------------------------------------------------------------

    def _next_cache_key(
        self,
        session: str,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        temperature: float,
        max_tokens: int,
    ) -> tuple[str, int] | None:
        """The fingerprint and iteration of this call, counting identical calls so each repetition has
        its own cache entry. Counted before any await, so concurrent calls number in issue order."""
        if self._cache is None or not session:
            return None
        fingerprint = request_fingerprint(
            model=self.settings.model,
            messages=messages,
            schema=schema,
            temperature=temperature,
            max_tokens=max_tokens,
            seed=self.settings.seed,
            response_format=self.response_format_mode.value,
        )
        counters = self._iterations.setdefault(session, {})
        iteration = counters.get(fingerprint, 0)
        counters[fingerprint] = iteration + 1
        return fingerprint, iteration

    def _give_back_iteration(self, session: str, fingerprint: str, iteration: int) -> None:
        """A call that ended without an answer (failed, cancelled) frees its number for the retry, so
        a resumed study finds the answers under the same keys as an uninterrupted one."""
        counters = self._iterations.get(session, {})
        if counters.get(fingerprint) == iteration + 1:
            counters[fingerprint] = iteration

    async def _cached_instance(self, session: str, key: str, output_model: type[T]) -> T | None:
        assert self._cache is not None
        try:
            found = await self._cache.lookup(session, [key])
        except Exception as error:  # noqa: BLE001  (a cache outage costs a model call, never the call)
            log.warning("llm_cache_lookup_failed", session=session, error=repr(error))
            return None
        value = found.get(key)
        if value is None:
            return None
        try:
            cached = CachedAnswer.decode(value)
            instance = output_model.model_validate_json(cached.text)
        except (ValueError, KeyError, ValidationError) as error:
            log.warning("llm_cache_entry_unusable", session=session, error=str(error))
            return None
        self._metrics.cache_hits.inc()
        record_cache_hit(cached.prompt_tokens, cached.completion_tokens)
        saved_cost = self.prices.cost(self.settings.model, cached.prompt_tokens, cached.completion_tokens) or 0.0
        call = self._ledger.record_call(
            session, cached=True, cached_tokens=cached.prompt_tokens + cached.completion_tokens, saved_cost=saved_cost
        )
        await self._report(session, call)
        return instance

    async def _report(self, session: str, usage: TokenUsage) -> None:
        """Counts `usage` in the metrics and reports it to the ledger (a failure to report costs nothing)."""
        labels = {"tenant": current_tenant.get(), "model": self.settings.model, "service": self.service}
        if usage.prompt_tokens:
            self._usage_metrics.tokens.labels(kind="prompt", **labels).inc(usage.prompt_tokens)
        if usage.completion_tokens:
            self._usage_metrics.tokens.labels(kind="completion", **labels).inc(usage.completion_tokens)
        if usage.cost:
            self._usage_metrics.cost.labels(**labels).inc(usage.cost)
        if usage.cached_calls:
            self._usage_metrics.saved_cost.labels(**labels).inc(usage.saved_cost)
        if self._usage_sink is None or not session:
            return
        try:
            await self._usage_sink.record(session, self.settings.model, acting_agent.get(), usage)
        except Exception as error:  # noqa: BLE001  (the answer stands; only its ledger entry is lost)
            log.warning("llm_usage_not_recorded", session=session, error=repr(error))

    async def _store(self, session: str, key: str, answer: CachedAnswer) -> None:
        assert self._cache is not None
        try:
            await self._cache.store(session, {key: answer.encode()})
        except Exception as error:  # noqa: BLE001  (the answer stands; only its replay is lost)
            log.warning("llm_cache_store_failed", session=session, error=repr(error))

    # -- one model request with retries --------------------------------------------------------

    @asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        async with self._slots if self._slots is not None else nullcontext():
            yield

    async def _complete(
        self,
        messages: list[dict[str, str]],
        request: dict[str, Any],
        session: str,
        label: str,
        call_deadline: _Deadline,
    ) -> _Answer:
        """Sends one request, retrying 429s, 5xx, timed-out attempts and connection errors with backoff
        until `max_retries` or the call's deadline (`timeout_s`, counted from the call's first attempt)
        runs out. Each attempt is cut after its own timeout (`attempt_timeout_s`), except the last, which
        may use what is left of the deadline."""
        if self._openai is None:
            raise LLMUnavailableError(
                "no LLM endpoint configured: set LLM_BASE_URL (or LLM_AZURE_ENDPOINT with "
                "LLM_PROVIDER=azure), or start the embedded model with `python -m services.llm.embedded`"
            )
        loop = asyncio.get_running_loop()
        estimate = estimate_tokens(messages, request["max_tokens"])
        estimated_prompt_tokens = estimate - request["max_tokens"]
        timeout_s = attempt_timeout_s(self.settings, request["max_tokens"])
        body = {**request, "messages": messages}
        deadline = call_deadline.at
        attempt = 0
        while True:
            async with self._slot():
                grant = await self._budget.acquire(estimate)
                try:
                    now = loop.time()
                    if deadline is None:
                        deadline = call_deadline.at = now + self.settings.timeout_s
                    cutoff = attempt_cutoff(now, deadline, timeout_s, last=attempt >= self.settings.max_retries)
                    outcome = await self._hedged_attempt(
                        body, cutoff, deadline, estimate, estimated_prompt_tokens, grant
                    )
                finally:
                    grant.settle()  # a no-op where the attempt settled it with the real usage
            if isinstance(outcome, _Answer):
                request_usage = self._ledger.record_model_request(
                    session,
                    outcome.prompt_tokens,
                    outcome.completion_tokens,
                    reasoning_tokens=outcome.reasoning_tokens,
                    cached_prompt_tokens=outcome.cached_prompt_tokens,
                    cost=self.prices.cost(
                        self.settings.model,
                        outcome.prompt_tokens,
                        outcome.completion_tokens,
                        outcome.cached_prompt_tokens,
                    ),
                )
                await self._report(session, request_usage)
                return outcome
            failure = outcome
            if failure.outcome == "rate_limited" and failure.retry_after_s is not None:
                self._budget.pause(failure.retry_after_s)  # every call of the budget waits, not only this one
            what = label or "LLM call"
            if not failure.retryable:
                raise LLMRequestError(f"{what}: {failure.message}", status_code=failure.status_code)
            if loop.time() >= deadline:
                raise LLMDeadlineError(f"{what}: deadline of {self.settings.timeout_s}s passed ({failure.message})")
            if attempt >= self.settings.max_retries:
                raise LLMUnavailableError(f"{what}: failed after {attempt + 1} attempts: {failure.message}")
            delay = (
                failure.retry_after_s
                if failure.retry_after_s is not None
                else backoff_delay(attempt, self.settings.backoff_base_s, self.settings.backoff_max_s, self._jitter)
            )
            if loop.time() + delay >= deadline:
                raise LLMDeadlineError(
                    f"{what}: deadline of {self.settings.timeout_s}s passed (attempt {attempt + 1}: {failure.message})"
                )
            log.info(
                "llm_request_retry",
                session=session,
                label=label,
                attempt=attempt + 1,
                outcome=failure.outcome,
                delay_s=round(delay, 3),
            )
            attempt += 1
            await asyncio.sleep(delay)

    async def _hedged_attempt(
        self,
        body: dict[str, Any],
        cutoff: float,
        deadline: float,
        estimate: int,
        estimated_prompt_tokens: int,
        grant: BudgetGrant,
    ) -> _Answer | AttemptFailure:
        """One attempt; with hedging on, a second one joins it once it has run longer than the hedge
        quantile of recent answers, and the first answer wins (the other attempt is cancelled)."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        hedge_after = (
            self._latencies.quantile(self.settings.hedge_quantile) if self.settings.hedge_quantile > 0 else None
        )
        if hedge_after is None or started + hedge_after >= cutoff:
            return await self._attempt(body, cutoff, deadline, estimated_prompt_tokens, grant)
        first = asyncio.create_task(self._attempt(body, cutoff, deadline, estimated_prompt_tokens, grant))
        hedge: asyncio.Task[_Answer | AttemptFailure] | None = None
        hedge_grant: BudgetGrant | None = None
        try:
            done, _ = await asyncio.wait({first}, timeout=hedge_after)
            if done:
                return first.result()
            hedge_grant = await self._reserve_hedge(estimate)
            if hedge_grant is None:
                self._metrics.hedges.labels(outcome="skipped").inc()
                return await first
            hedge_cutoff = min(deadline, loop.time() + (cutoff - started))
            hedge = asyncio.create_task(
                self._attempt(body, hedge_cutoff, deadline, estimated_prompt_tokens, hedge_grant)
            )
            pending: set[asyncio.Task[_Answer | AttemptFailure]] = {first, hedge}
            failure: AttemptFailure | None = None
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in sorted(done, key=lambda task: task is hedge):  # the first attempt on a tie
                    outcome = task.result()
                    if isinstance(outcome, _Answer):
                        self._metrics.hedges.labels(outcome="won" if task is hedge else "lost").inc()
                        return outcome
                    failure = outcome
            self._metrics.hedges.labels(outcome="lost").inc()
            assert failure is not None
            return failure
        finally:
            try:
                await _cancel_and_wait(first, hedge)
            finally:
                if hedge_grant is not None:
                    hedge_grant.settle()
                    if self._slots is not None:
                        self._slots.release()

    async def _reserve_hedge(self, estimate: int) -> BudgetGrant | None:
        """A concurrency slot and a place in the rate budget for a hedge, only if both are free now."""
        if self._slots is not None and self._slots.locked():
            return None
        grant = self._budget.try_acquire(estimate)
        if grant is not None and self._slots is not None:
            await self._slots.acquire()  # free (checked above, nothing awaited since): returns at once
        return grant

    async def _attempt(
        self,
        body: dict[str, Any],
        cutoff: float,
        deadline: float,
        estimated_prompt_tokens: int,
        grant: BudgetGrant,
    ) -> _Answer | AttemptFailure:
        """One request attempt, cut at `cutoff` (its own timeout, or the call's deadline); a cut attempt
        is cancelled and its connection dropped."""
        assert self._openai is not None
        loop = asyncio.get_running_loop()
        started = loop.time()
        remaining = cutoff - started
        if remaining <= 0:
            return AttemptFailure("timeout", True, None, None, "no time left before the deadline")
        try:
            async with asyncio.timeout(remaining):
                completion = await self._openai.post(
                    "/chat/completions", cast_to=object, body=body, options={"timeout": remaining}
                )
        except TimeoutError:
            failure = self._timed_out(remaining, cutoff < deadline)
        except openai.APIError as error:
            failure = classify(error)
            if isinstance(error, openai.APITimeoutError):
                failure = self._timed_out(remaining, cutoff < deadline)
        else:
            duration = loop.time() - started
            self._metrics.duration.observe(duration)
            self._latencies.add(duration)
            answer = self._read_answer(completion, estimated_prompt_tokens)
            grant.settle(answer.prompt_tokens + answer.completion_tokens)
            self._metrics.tokens.labels(kind="prompt").inc(answer.prompt_tokens)
            self._metrics.tokens.labels(kind="completion").inc(answer.completion_tokens)
            return answer
        self._metrics.duration.observe(loop.time() - started)
        self._metrics.requests.labels(outcome=failure.outcome).inc()
        if failure.outcome != "timeout":
            grant.settle(0)
        return failure

    def _timed_out(self, timeout_s: float, by_attempt_timeout: bool) -> AttemptFailure:
        """The failure of an attempt cut without an answer, counted by the limit that cut it."""
        if by_attempt_timeout:
            self._metrics.attempt_timeouts.labels(limit="attempt").inc()
            return AttemptFailure(
                "timeout", True, None, None, f"no answer within the attempt timeout of {timeout_s:.3g}s"
            )
        self._metrics.attempt_timeouts.labels(limit="deadline").inc()
        return AttemptFailure("timeout", True, None, None, "no answer before the deadline")

    @staticmethod
    def _read_answer(completion: Any, estimated_prompt_tokens: int) -> _Answer:
        """Reads the chat completion's JSON (kept as plain data: no per-call model construction)."""
        choices = completion.get("choices") if isinstance(completion, dict) else None
        choice = choices[0] if choices else {}
        text = (choice.get("message") or {}).get("content") or ""
        usage = completion.get("usage") if isinstance(completion, dict) else None
        reasoning_tokens = cached_prompt_tokens = 0
        if usage:
            prompt_tokens = int(usage.get("prompt_tokens") or 0)
            completion_tokens = int(usage.get("completion_tokens") or 0)
            reasoning_tokens = int((usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0)
            cached_prompt_tokens = int((usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
        else:
            prompt_tokens, completion_tokens = estimated_prompt_tokens, len(text) // _CHARS_PER_TOKEN
        return _Answer(
            text,
            prompt_tokens,
            completion_tokens,
            choice.get("finish_reason") == "length",
            reasoning_tokens=reasoning_tokens,
            cached_prompt_tokens=cached_prompt_tokens,
        )


async def _cancel_and_wait(*tasks: asyncio.Task[Any] | None) -> None:
    """Cancels the tasks still running and waits until they have ended; leaves no failure unread."""
    started = [task for task in tasks if task is not None]
    for task in started:
        task.cancel()
    if started:
        await asyncio.wait(started)
    for task in started:
        if not task.cancelled():
            task.exception()
