"""Token-usage arithmetic on `tinytroupe.common.v1.TokenUsage`, the one way every service sums and diffs it.

`calls` counts the calls a model answered; `cached_calls` those answered from the session's cache.
"""

from __future__ import annotations

from tinytroupe_mesh_api.common.v1 import study_pb2

from services.llm import TokenUsage


def sum_usage(*usages: study_pb2.TokenUsage) -> study_pb2.TokenUsage:
    total = study_pb2.TokenUsage()
    for usage in usages:
        total.calls += usage.calls
        total.cached_calls += usage.cached_calls
        total.prompt_tokens += usage.prompt_tokens
        total.completion_tokens += usage.completion_tokens
    return total


def usage_between(before: TokenUsage, after: TokenUsage) -> study_pb2.TokenUsage:
    """What a session spent between two snapshots of the LLM client's accounting."""
    cached = after.cached_calls - before.cached_calls
    return study_pb2.TokenUsage(
        calls=after.calls - before.calls - cached,
        cached_calls=cached,
        prompt_tokens=after.prompt_tokens - before.prompt_tokens,
        completion_tokens=after.completion_tokens - before.completion_tokens,
    )
