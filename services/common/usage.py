"""Token-usage arithmetic on `tinytroupe.common.v1.TokenUsage`, the one way every service sums and diffs it.

`calls` counts the calls a model answered; `cached_calls` those answered from the session's cache.
"""

from __future__ import annotations

from tinytroupe_mesh_api.common.v1 import study_pb2

from services.llm import TokenUsage

_SUMMED = tuple(field.name for field in study_pb2.TokenUsage.DESCRIPTOR.fields)
"""Every figure of a TokenUsage: all of them add up."""


def sum_usage(*usages: study_pb2.TokenUsage) -> study_pb2.TokenUsage:
    total = study_pb2.TokenUsage()
    for usage in usages:
        for name in _SUMMED:
            setattr(total, name, getattr(total, name) + getattr(usage, name))
    return total


def usage_message(usage: TokenUsage) -> study_pb2.TokenUsage:
    """The LLM client's accounting as a TokenUsage message (`calls` are those the model answered)."""
    return study_pb2.TokenUsage(
        calls=usage.calls - usage.cached_calls,
        cached_calls=usage.cached_calls,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cost=usage.cost,
        unpriced_calls=usage.unpriced_requests,
        reasoning_tokens=usage.reasoning_tokens,
        cached_prompt_tokens=usage.cached_prompt_tokens,
        saved_tokens=usage.cached_tokens,
        saved_cost=usage.saved_cost,
        model_requests=usage.model_requests,
    )


def usage_between(before: TokenUsage, after: TokenUsage) -> study_pb2.TokenUsage:
    """What a session spent between two snapshots of the LLM client's accounting."""
    spent = TokenUsage()
    for name in TokenUsage.model_fields:
        setattr(spent, name, getattr(after, name) - getattr(before, name))
    return usage_message(spent)


def total_tokens(usage: study_pb2.TokenUsage) -> int:
    return usage.prompt_tokens + usage.completion_tokens


def cost_known(usage: study_pb2.TokenUsage) -> bool:
    """Whether `usage.cost` is the whole cost: no call of an unpriced model is in it."""
    return usage.unpriced_calls == 0
