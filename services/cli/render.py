"""What `troupe` prints: live study progress and a readable summary of a finished study or experiment."""

from __future__ import annotations

from rich import box
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, Progress, SpinnerColumn, Task, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.cli.estimates import cost_text, spend_text
from services.cli.output import ExperimentFiles, WrittenFiles, field_value_text

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


def compact_table(title: str) -> Table:
    """A table with one space between columns and none at its edges, to fit 80 columns."""
    return Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)


class StudyProgressDisplay:
    """One live line while a study runs: what it does now, a bar over its rounds, the time it has taken.

    `show` takes each StudyProgress of the watch stream; `finish` puts the outcome in place of the phase
    (`completed`, `cancelled`, `failed`), with the rounds the study actually got through.
    """

    def __init__(self, console: Console):
        self.progress = Progress(
            _StateColumn(),
            TextColumn("{task.description}"),
            BarColumn(bar_width=16),
            TextColumn("{task.fields[rounds]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.rounds_done = 0
        self.rounds_total = 0
        self.task = None

    def __enter__(self) -> StudyProgressDisplay:
        self.progress.start()
        self.task = self.progress.add_task("queued", total=None, rounds="", mark="")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.progress.stop()

    def show(self, event: orchestrator_pb2.StudyProgress) -> None:
        if event.rounds_total:
            self.rounds_total = event.rounds_total
        if event.phase in (orchestrator_pb2.PHASE_SIMULATING, orchestrator_pb2.PHASE_EXTRACTING):
            self.rounds_done = max(self.rounds_done, rounds_done(event))
        self._update(describe_progress(event))

    def note(self, text: str) -> None:
        """A line above the live one (e.g. the orchestrator was lost and is awaited)."""
        self.progress.console.print(text, markup=False, style="yellow")

    def finish(self, label: str, *, ok: bool, rounds_completed: int | None = None) -> None:
        if rounds_completed is not None:
            self.rounds_done = rounds_completed
            if ok and not self.rounds_total:  # a finished study seen only at its end: all its rounds are done
                self.rounds_total = rounds_completed
        self._update(label, mark="✓" if ok else "✗", finished=True)

    def _update(self, description: str, mark: str = "", finished: bool = False) -> None:
        total = self.rounds_total or (1 if finished else None)  # a bar without a total pulses: not at the end
        self.progress.update(
            self.task,
            description=description,
            total=total,
            completed=min(self.rounds_done, total) if self.rounds_total else int(finished and mark == "✓"),
            rounds=f"{self.rounds_done}/{self.rounds_total} rounds" if self.rounds_total else "",
            mark=mark,
        )


class _StateColumn(SpinnerColumn):
    """A spinner while the study runs, then ✓ or ✗."""

    def render(self, task: Task) -> RenderableType:
        return (
            Text(task.fields["mark"], style="green" if task.fields["mark"] == "✓" else "red")
            if task.fields.get("mark")
            else super().render(task)
        )


def describe_progress(event: orchestrator_pb2.StudyProgress) -> str:
    """What the study does now, short enough for one line at 80 columns: `simulating round 3 · agents 2/3`."""
    phase = PHASE_NAMES.get(event.phase, "working")
    if event.phase == orchestrator_pb2.PHASE_DONE:
        return outcome_of_message(event.message)
    if is_experiment_step(event):
        people = (
            f" · {event.agents_total} participants"
            if event.phase == orchestrator_pb2.PHASE_SIMULATING and event.agents_total
            else ""
        )
        return f"{event.message}{people}"
    if event.phase == orchestrator_pb2.PHASE_QUEUED and event.message.startswith("resuming"):
        phase = "resuming"
    parts = [simulating_where(event) if event.phase == orchestrator_pb2.PHASE_SIMULATING and event.round else phase]
    if event.agents_total and event.phase in (
        orchestrator_pb2.PHASE_CREATING_AGENTS,
        orchestrator_pb2.PHASE_SIMULATING,
    ):
        parts.append(f"agents {event.agents_done}/{event.agents_total}")
    if event.agents_failed:
        parts.append(f"[red]{event.agents_failed} failed[/red]")
    if spent := spend_text(event.usage):
        parts.append(f"[yellow]{spent} (budget spent)[/yellow]" if event.budget_exhausted else spent)
    return " · ".join(parts)


def simulating_where(event: orchestrator_pb2.StudyProgress) -> str:
    """`simulating round 3`, or in a study plan `simulating step 2/5 round 1`."""
    if event.step and event.steps_total:
        return f"simulating step {event.step}/{event.steps_total} round {event.step_round or 1}"
    return f"simulating round {event.round}"


EXPERIMENT_STEPS = ("running ", "comparing the arms")
"""How an experiment's progress reads while its arms run as studies of their own, then are compared."""


def is_experiment_step(event: orchestrator_pb2.StudyProgress) -> bool:
    return (
        event.phase in (orchestrator_pb2.PHASE_SIMULATING, orchestrator_pb2.PHASE_EXTRACTING)
        and not event.round
        and event.message.startswith(EXPERIMENT_STEPS)
    )


def outcome_of_message(message: str) -> str:
    """The outcome a finished study's progress message tells: completed, cancelled or failed."""
    text = message.removeprefix("failed: ")
    if message == "completed":
        return "completed"
    if text == "cancelled":
        return "cancelled"
    return "failed"


def rounds_done(event: orchestrator_pb2.StudyProgress) -> int:
    """Rounds the study got through by the time of `event` (a round counts once it is checkpointed)."""
    if event.phase == orchestrator_pb2.PHASE_EXTRACTING:
        return event.rounds_total or event.round
    if event.phase != orchestrator_pb2.PHASE_SIMULATING:
        return 0
    done = event.round if event.message.endswith("done") else max(event.round - 1, 0)
    return min(done, event.rounds_total) if event.rounds_total else done


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
    overview.add_row("rounds", f"{simulation.rounds_completed} completed, {simulation.total_interactions} interactions")
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
        f"{usage.calls} ({usage.cached_calls} from cache), {usage.prompt_tokens + usage.completion_tokens} tokens",
    )
    overview.add_row("cost", cost_text(usage, result))
    overview.add_row("cache namespace", metadata.cache_file)
    if result.panel:
        overview.add_row("saved into", result.panel)
    console.print(Panel(overview, title="Study result", expand=False))
    if result.extracted_results.aggregate_statistics:
        console.print(statistics_table(result.extracted_results.aggregate_statistics))
    if result.extracted_results.individual_results:
        console.print(answers_table(result.extracted_results))
    for step in result.step_results:
        if step.extracted_results.aggregate_statistics:
            table = statistics_table(list(step.extracted_results.aggregate_statistics))
            table.title = f"Step {step.index} of {len(result.step_results)}: {step.step}"
            console.print(table)
    failures = {(failure.agent_name, failure.reason) for failure in result.participant_failures}
    for name, why in silent_participants(result.extracted_results):
        if (name, why) not in failures:
            console.print(Text.assemble(("no answers from ", "yellow"), f"{name}: {why}"))
    for failure in result.participant_failures:
        who = failure.agent_name or f"#{failure.index}"
        console.print(Text.assemble(("participant failed ", "red"), f"{who}: {failure.reason}"))
    if files is not None:
        console.print(f"results in {files.result_json.parent.resolve()}:")
        console.print("  result.json   the whole result (every field, full precision)")
        if files.results_csv is not None:
            console.print(
                "  results.csv   one row per participant"
                + (", a column per step and field" if result.step_results else "")
            )
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
    """One row per participant; one without any answer says so (why: `silent_participants`)."""
    fields = [statistics.field for statistics in results.aggregate_statistics] or sorted(
        {name for agent in results.individual_results for name in agent.fields}
    )
    table = Table(title="Answers per participant")
    table.add_column("participant", overflow="fold")
    for name in fields:
        table.add_column(name, overflow="fold")
    for agent in results.individual_results:
        values = [field_value_text(agent.fields[name]) if name in agent.fields else "" for name in fields]
        if fields and not any(values):
            values = ["[dim]no answers (below)[/dim]", *("-" for _ in fields[1:])]
        table.add_row(agent.agent_name, *values)
    return table


def silent_participants(results: study_pb2.ExtractedResults) -> list[tuple[str, str]]:
    """Participants with no usable answer at all, with why: the extraction's failure, else the fields' problems."""
    silent = []
    for agent in results.individual_results:
        if any(field_value_text(value) for value in agent.fields.values()):
            continue
        problems = dict.fromkeys(value.problem for value in agent.fields.values() if value.problem)
        why = agent.failure_reason or "; ".join(problems) or "the extraction found no value for any field"
        silent.append((agent.agent_name, why))
    return silent


DESIGN_NAMES = {
    orchestrator_pb2.EXPERIMENT_DESIGN_UNSPECIFIED: "between subjects",
    orchestrator_pb2.EXPERIMENT_DESIGN_BETWEEN_SUBJECTS: "between subjects",
    orchestrator_pb2.EXPERIMENT_DESIGN_WITHIN_SUBJECTS: "within subjects",
}
EFFECT_SYMBOLS = {"hedges_g": "g", "cohens_dz": "d_z", "eta_squared": "η²", "kendalls_w": "W", "cramers_v": "V"}
SENTENCE_COLUMNS = 120
"""From this console width on, the comparisons table holds the sentences; below it, they follow the table."""


def print_experiment_summary(
    console: Console, result: orchestrator_pb2.ExperimentResult, files: ExperimentFiles | None
) -> None:
    overview = Table.grid(padding=(0, 2))
    overview.add_column(style="bold")
    overview.add_column()
    overview.add_row("status", "[green]completed[/green]")
    overview.add_row("operation", result.operation)
    overview.add_row("design", f"{DESIGN_NAMES.get(result.design, 'between subjects')}, seed {result.seed}")
    overview.add_row("arms", "\n".join(arm_line(arm) for arm in result.arms))
    if seconds := experiment_seconds(result):
        overview.add_row("execution time", f"{seconds:.1f} s")
    calls = sum(arm.result.metadata.token_usage.calls for arm in result.arms)
    cached = sum(arm.result.metadata.token_usage.cached_calls for arm in result.arms)
    tokens = sum(
        arm.result.metadata.token_usage.prompt_tokens + arm.result.metadata.token_usage.completion_tokens
        for arm in result.arms
    )
    overview.add_row("model calls", f"{calls} ({cached} from cache), {tokens} tokens (the arms' studies)")
    console.print(Panel(overview, title="Experiment result", expand=False))
    if result.comparisons:
        wide = console.width >= SENTENCE_COLUMNS
        console.print(comparisons_table(result.comparisons, wide=wide))
        if not wide:
            for comparison in result.comparisons:
                console.print(Text.assemble((f"{comparison.field}: ", "bold"), comparison_sentence(comparison)))
    for arm in result.arms:
        for failure in arm.result.participant_failures:
            who = failure.agent_name or f"#{failure.index}"
            console.print(Text.assemble(("participant failed ", "red"), f"{who} ({arm.name}): {failure.reason}"))
    if files is not None:
        console.print(f"results in {files.result_json.parent.resolve()}:")
        console.print("  result.json     the whole result (every field, full precision)")
        console.print("  comparisons.csv one row per field compared, one per arm and field")
        if files.results_csv is not None:
            console.print("  results.csv     one row per participant and arm")
        console.print("  transcript.md   the conversations, arm by arm")
    study = result.operation.removeprefix("operations/")
    console.print(f"an HTML report with charts: `troupe report {study}`", markup=False)


def arm_line(arm: orchestrator_pb2.ArmResult) -> str:
    status, style = STATUS_STYLES.get(arm.result.status, ("unknown", "white"))
    counts = arm.result.participants
    failed = f", [red]{counts.failed} failed[/red]" if counts.failed else ""
    return f"{escape(arm.name)}: {len(arm.participants)} participants, [{style}]{status}[/{style}]{failed}"


def experiment_seconds(result: orchestrator_pb2.ExperimentResult) -> float:
    """From the first arm's start to the last arm's end (the participants were made before)."""
    starts = [
        arm.result.metadata.start_time.ToDatetime() for arm in result.arms if arm.result.metadata.start_time.seconds
    ]
    ends = [arm.result.metadata.end_time.ToDatetime() for arm in result.arms if arm.result.metadata.end_time.seconds]
    return (max(ends) - min(starts)).total_seconds() if starts and ends else 0.0


def comparisons_table(comparisons: list[orchestrator_pb2.FieldComparison], *, wide: bool) -> Table:
    """One row per field: the test, each arm's mean or shares, the adjusted p-value, the effect size, and at
    `wide` widths the sentence (below them, the sentences follow the table)."""
    table = compact_table("Comparisons of the arms")
    table.add_column("field", overflow="fold", max_width=22)
    table.add_column("test", overflow="fold")
    table.add_column("arms: mean or shares", overflow="fold", ratio=1 if not wide else None)
    table.add_column("p adj.", justify="right", no_wrap=True)
    table.add_column("effect", justify="right", no_wrap=True)
    if wide:
        table.add_column("result", overflow="fold", ratio=1)
    for comparison in comparisons:
        skipped = bool(comparison.skipped_reason)
        p_value = Text(
            "-" if skipped else format_p(comparison.p_value_adjusted),
            style="bold green" if comparison.significant else "",
        )
        arms = "\n".join(arm_values(arm) for arm in comparison.arms) or ("not compared" if skipped else "-")
        row = [
            Text(comparison.field),
            Text(comparison.test or "-"),
            Text(arms),
            p_value,
            Text("-" if skipped else effect_text(comparison)),
        ]
        if wide:
            row.append(Text(comparison_sentence(comparison)))
        table.add_row(*row, end_section=len(comparison.arms) > 1)
    return table


def arm_values(arm: orchestrator_pb2.ArmSummary) -> str:
    """`49 EUR 7.40 (n 10)` for numbers, `49 EUR yes 80%, no 20%` for categories (those given only)."""
    if arm.categories:
        shares = ", ".join(f"{category.value} {category.share:.0%}" for category in arm.categories if category.count)
        return f"{arm.arm}: {shares or 'no values'}"
    return f"{arm.arm}: {arm.mean:.2f} (n {arm.count})" if arm.count else f"{arm.arm}: no values"


def format_p(value: float) -> str:
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def effect_text(comparison: orchestrator_pb2.FieldComparison) -> str:
    symbol = EFFECT_SYMBOLS.get(comparison.effect_size_name, comparison.effect_size_name)
    return f"{symbol} {comparison.effect_size:.2f}" if symbol else "-"


def comparison_sentence(comparison: orchestrator_pb2.FieldComparison) -> str:
    if comparison.skipped_reason:
        return f"not compared: {comparison.skipped_reason}"
    return comparison.sentence
