"""What `troupe` prints: live study progress and a readable summary of a finished study."""

from __future__ import annotations

from collections.abc import AsyncIterator

from rich.console import Console
from rich.panel import Panel
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from tinytroupe.common.v1 import study_pb2
from tinytroupe.orchestrator.v1 import orchestrator_pb2

from services.cli.output import WrittenFiles, field_value_text

PHASE_NAMES = {
    orchestrator_pb2.PHASE_QUEUED: "queued",
    orchestrator_pb2.PHASE_CREATING_AGENTS: "creating participants",
    orchestrator_pb2.PHASE_SIMULATING: "simulating",
    orchestrator_pb2.PHASE_EXTRACTING: "extracting results",
    orchestrator_pb2.PHASE_DONE: "done",
}
STATUS_STYLES = {
    orchestrator_pb2.STUDY_STATUS_COMPLETED: ("completed", "green"),
    orchestrator_pb2.STUDY_STATUS_PARTIAL: ("partial", "yellow"),
    orchestrator_pb2.STUDY_STATUS_FAILED: ("failed", "red"),
}


async def show_progress(console: Console, events: AsyncIterator[orchestrator_pb2.StudyProgress]) -> None:
    """A progress bar over the rounds, with the phase and the agents of the current step."""
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rounds"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("queued", total=None)
        async for event in events:
            progress.update(
                task,
                description=describe_progress(event),
                total=event.rounds_total or None,
                completed=_rounds_done(event),
            )


def describe_progress(event: orchestrator_pb2.StudyProgress) -> str:
    phase = PHASE_NAMES.get(event.phase, "working")
    parts = [phase]
    if event.phase == orchestrator_pb2.PHASE_SIMULATING and event.round:
        parts.append(f"round {event.round}")
    if event.agents_total and event.phase in (
        orchestrator_pb2.PHASE_CREATING_AGENTS,
        orchestrator_pb2.PHASE_SIMULATING,
    ):
        parts.append(f"agents {event.agents_done}/{event.agents_total}")
    if event.agents_failed:
        parts.append(f"[red]{event.agents_failed} failed[/red]")
    return " · ".join(parts)


def _rounds_done(event: orchestrator_pb2.StudyProgress) -> int:
    if event.phase in (orchestrator_pb2.PHASE_EXTRACTING, orchestrator_pb2.PHASE_DONE):
        return event.rounds_total
    done = event.round if event.message.endswith("done") else max(event.round - 1, 0)
    return min(done, event.rounds_total)


def print_summary(console: Console, result: orchestrator_pb2.StudyResult, files: WrittenFiles | None) -> None:
    status, style = STATUS_STYLES.get(result.status, ("unknown", "white"))
    metadata = result.metadata
    usage = metadata.token_usage
    overview = Table.grid(padding=(0, 2))
    overview.add_column(style="bold")
    overview.add_column()
    overview.add_row("status", f"[{style}]{status}[/{style}]")
    overview.add_row("operation", result.operation_id)
    overview.add_row("session", result.session_id)
    counts = result.participants
    overview.add_row(
        "participants",
        f"{counts.successful} of {counts.total} took part"
        + (f", [red]{counts.failed} failed[/red]" if counts.failed else ""),
    )
    simulation = result.simulation_results
    overview.add_row(
        "rounds", f"{simulation.rounds_completed} completed, {simulation.total_interactions} interactions"
    )
    overview.add_row("quality score", f"{metadata.quality_score:.2f}")
    if notes := quality_notes(result.extracted_results.statistical_analysis.quality_metrics):
        overview.add_row("lowered by", notes)
    overview.add_row(
        "execution time",
        f"{metadata.execution_time.ToTimedelta().total_seconds():.1f} s"
        + (f" (resumed {metadata.resumed_count}x)" if metadata.resumed_count else ""),
    )
    overview.add_row(
        "model calls",
        f"{usage.calls} ({usage.cached_calls} from cache), "
        f"{usage.prompt_tokens + usage.completion_tokens} tokens",
    )
    overview.add_row("cache namespace", metadata.cache_file)
    console.print(Panel(overview, title="Study result", expand=False))
    if result.extracted_results.aggregate_statistics:
        console.print(statistics_table(result.extracted_results.aggregate_statistics))
    if result.extracted_results.individual_results:
        console.print(answers_table(result.extracted_results))
    for failure in result.participant_failures:
        console.print(
            f"[red]participant failed[/red] {failure.agent_name or f'#{failure.index}'}: {failure.reason}"
        )
    if files is not None:
        console.print(f"results in {files.result_json.parent.resolve()}:")
        console.print("  result.json   the whole result (every field, full precision)")
        if files.results_csv is not None:
            console.print("  results.csv   one row per participant")
        console.print("  transcript.md the conversation")


def quality_notes(quality: study_pb2.QualityMetrics) -> str:
    """What lowered the quality score, one line each: `-0.37 confidence: the values' mean confidence is 0.18`."""
    return "\n".join(f"-{note.score_lost:.2f} {note.metric}: {note.explanation}" for note in quality.notes)


def statistics_table(statistics: list[study_pb2.FieldStatistics]) -> Table:
    table = Table(title="Statistics per field")
    for column in ("field", "kind", "answers", "statistics"):
        table.add_column(column)
    for field in statistics:
        kind = study_pb2.ValueKind.Name(field.kind).removeprefix("VALUE_KIND_").lower()
        if field.HasField("numeric") and field.numeric.count:
            numeric = field.numeric
            summary = (
                f"mean {numeric.mean:.2f} · median {numeric.median:.2f} · sd {numeric.std_dev:.2f} · "
                f"95% CI [{numeric.ci95_low:.2f}, {numeric.ci95_high:.2f}]"
            )
        else:
            summary = ", ".join(f"{count.value} {count.share:.0%}" for count in field.counts[:5]) or "-"
        table.add_row(field.field, kind, f"{field.usable_count}/{field.total_count}", summary)
    return table


def answers_table(results: study_pb2.ExtractedResults) -> Table:
    fields = [statistics.field for statistics in results.aggregate_statistics] or sorted(
        {name for agent in results.individual_results for name in agent.fields}
    )
    table = Table(title="Answers per participant")
    table.add_column("participant")
    for name in fields:
        table.add_column(name, overflow="fold")
    for agent in results.individual_results:
        table.add_row(
            agent.agent_name,
            *(field_value_text(agent.fields[name]) if name in agent.fields else "" for name in fields),
        )
    return table
