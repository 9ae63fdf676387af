"""`troupe estimate FILE`: what a study or experiment file would cost, before running it; and the spend text of
the progress line."""

from __future__ import annotations

from pathlib import Path

from google.protobuf import duration_pb2
from rich.console import Console
from rich.table import Table
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.cli.connection import MeshConnection
from services.orchestrator.study_file import load_run_file


async def estimate_file(mesh: MeshConnection, console: Console, path: Path, latency_s: float) -> None:
    request = load_run_file(path)
    latency = duration_pb2.Duration()
    latency.FromNanoseconds(int(latency_s * 1e9))
    if isinstance(request, orchestrator_pb2.RunExperimentRequest):
        estimate = await mesh.orchestrator.EstimateExperiment(
            orchestrator_pb2.EstimateExperimentRequest(experiment=request, latency_per_call=latency)
        )
    else:
        estimate = await mesh.orchestrator.EstimateStudy(
            orchestrator_pb2.EstimateStudyRequest(study=request, latency_per_call=latency)
        )
    console.print(estimate_table(estimate, path.name))
    for line in estimate_notes(estimate):
        console.print(line, markup=False)


def estimate_table(estimate: orchestrator_pb2.StudyEstimate, title: str) -> Table:
    table = Table(title=f"{title} on {estimate.model}")
    for column in ("", "low", "expected", "high"):
        table.add_column(column, justify="right" if column else "left")
    rows = [
        ("model calls", estimate.model_calls, _count),
        ("prompt tokens", estimate.prompt_tokens, _count),
        ("completion tokens", estimate.completion_tokens, _count),
    ]
    for name, figure, shown in rows:
        table.add_row(name, shown(figure.low), shown(figure.expected), shown(figure.high))
    if estimate.HasField("cost"):
        table.add_row(
            "cost (USD)",
            *(_dollars(value) for value in (estimate.cost.low, estimate.cost.expected, estimate.cost.high)),
        )
    else:
        table.add_row("cost (USD)", "unknown", "unknown", "unknown")
    return table


def estimate_notes(estimate: orchestrator_pb2.StudyEstimate) -> list[str]:
    seconds = estimate.critical_path.ToNanoseconds() / 1e9
    latency = estimate.latency_per_call.ToNanoseconds() / 1e9
    phases = ", ".join(f"{phase} {count}" for phase, count in sorted(estimate.calls_by_phase.items()))
    return [
        f"critical path: {estimate.sequential_calls} calls one after another, about {_duration(seconds)} "
        f"at {latency:g} s a call",
        f"expected calls by phase: {phases}",
        *(f"assumes: {assumption}" for assumption in estimate.assumptions),
    ]


def spend_text(usage: study_pb2.TokenUsage) -> str:
    """`12.3k tokens · $0.0123` (cost unknown: `cost unknown`); "" before anything was spent."""
    tokens = usage.prompt_tokens + usage.completion_tokens
    if not tokens and not usage.cached_calls:
        return ""
    cost = "cost unknown" if usage.unpriced_calls else _dollars(usage.cost)
    return f"{_count(tokens)} tokens · {cost}"


def _count(value: float) -> str:
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{value:.0f}"


def _dollars(value: float) -> str:
    return f"${value:.2f}" if value >= 1 else f"${value:.4f}"


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.0f} s"


def cost_text(usage: study_pb2.TokenUsage, result: orchestrator_pb2.StudyResult) -> str:
    """`$0.0123 (estimated $0.0080-$0.0210), the budget spent`, or `unknown: the model has no price`."""
    if usage.unpriced_calls:
        text = "unknown: the model has no price (set LLM_PRICES)"
    else:
        text = _dollars(usage.cost)
        if result.estimate.HasField("cost"):
            text += f" (estimated {_dollars(result.estimate.cost.low)}-{_dollars(result.estimate.cost.high)})"
    if usage.saved_cost:
        text += f", {_dollars(usage.saved_cost)} saved by the cache"
    if result.end_reason == orchestrator_pb2.STUDY_END_REASON_BUDGET_EXHAUSTED:
        text += ", [yellow]the budget was spent: the study stopped there[/yellow]"
    return text
