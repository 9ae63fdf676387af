"""Prometheus metrics of the LLM client, registered once per process and metric prefix."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120)


@dataclass(frozen=True)
class LLMMetrics:
    requests: Counter
    """`<prefix>_requests_total{outcome}`: one per request attempt sent to the model."""
    tokens: Counter
    """`<prefix>_tokens_total{kind}`: kind is `prompt` or `completion`."""
    duration: Histogram
    """`<prefix>_request_duration_seconds`: time of each request attempt."""
    cache_hits: Counter
    """`<prefix>_cache_hits_total`: structured calls answered from the cache."""
    attempt_timeouts: Counter
    """`<prefix>_attempt_timeouts_total{limit}`: request attempts cut before an answer came, by the
    limit that cut them: `attempt` (the attempt's own timeout; retried) or `deadline` (the call's)."""
    hedges: Counter
    """`<prefix>_hedges_total{outcome}`: second attempts of slow requests: `won` (answered first),
    `lost` (cancelled when the first attempt answered) or `skipped` (no room in the cap or budget)."""


_lock = threading.Lock()
_by_prefix: dict[tuple[int, str], LLMMetrics] = {}


def llm_metrics(prefix: str = "llm", registry: CollectorRegistry = REGISTRY) -> LLMMetrics:
    """The metrics for `prefix`, created on first use; later clients share them."""
    key = (id(registry), prefix)
    with _lock:
        metrics = _by_prefix.get(key)
        if metrics is None:
            metrics = _by_prefix[key] = LLMMetrics(
                requests=Counter(
                    f"{prefix}_requests", "LLM request attempts by outcome.", ["outcome"], registry=registry
                ),
                tokens=Counter(f"{prefix}_tokens", "LLM tokens by kind.", ["kind"], registry=registry),
                duration=Histogram(
                    f"{prefix}_request_duration_seconds",
                    "Duration of LLM request attempts.",
                    buckets=_DURATION_BUCKETS,
                    registry=registry,
                ),
                cache_hits=Counter(
                    f"{prefix}_cache_hits", "Structured LLM calls answered from the cache.", registry=registry
                ),
                attempt_timeouts=Counter(
                    f"{prefix}_attempt_timeouts",
                    "LLM request attempts cut before an answer, by the limit that cut them.",
                    ["limit"],
                    registry=registry,
                ),
                hedges=Counter(
                    f"{prefix}_hedges",
                    "Second attempts of slow LLM requests by outcome.",
                    ["outcome"],
                    registry=registry,
                ),
            )
        return metrics


@dataclass(frozen=True)
class UsageMetrics:
    tokens: Counter
    """`llm_usage_tokens_total{tenant,model,service,kind}`: tokens spent by model calls; kind `prompt` or
    `completion` (reasoning included)."""
    cost: Counter
    """`llm_cost_dollars_total{tenant,model,service}`: US dollars of the priced model calls."""
    saved_cost: Counter
    """`llm_cache_saved_dollars_total{tenant,model,service}`: US dollars the mesh's cache saved."""


_usage: dict[int, UsageMetrics] = {}


def usage_metrics(registry: CollectorRegistry = REGISTRY) -> UsageMetrics:
    """The usage counters of the process, created on first use."""
    with _lock:
        metrics = _usage.get(id(registry))
        if metrics is None:
            labels = ["tenant", "model", "service"]
            metrics = _usage[id(registry)] = UsageMetrics(
                tokens=Counter(
                    "llm_usage_tokens", "Tokens spent by model calls.", [*labels, "kind"], registry=registry
                ),
                cost=Counter("llm_cost_dollars", "US dollars of priced model calls.", labels, registry=registry),
                saved_cost=Counter(
                    "llm_cache_saved_dollars", "US dollars the response cache saved.", labels, registry=registry
                ),
            )
        return metrics
