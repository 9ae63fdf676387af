"""The report as one HTML page: what was asked, charts per field, the tests, and quotes; Chart.js inlined.

The page needs nothing from the network: its styles, its data and the chart library are all inside it.
"""

from __future__ import annotations

import json
from datetime import UTC
from html import escape

from google.protobuf import timestamp_pb2
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.cli.report import charts
from services.cli.report.assets import ChartLibrary
from services.cli.report.content import (
    Arm,
    Request,
    Result,
    arms_of,
    category_counts,
    field_specs,
    numbers,
    participant_summary,
    quotes,
    reported_interval,
    themes,
)
from services.cli.report.plan import flattened, flattened_experiment
from services.common.hints import FieldSpec, ValueKind

DESIGNS = {
    orchestrator_pb2.EXPERIMENT_DESIGN_UNSPECIFIED: "between subjects",
    orchestrator_pb2.EXPERIMENT_DESIGN_BETWEEN_SUBJECTS: "between subjects",
    orchestrator_pb2.EXPERIMENT_DESIGN_WITHIN_SUBJECTS: "within subjects",
}
STATUSES = {
    orchestrator_pb2.STUDY_STATUS_COMPLETED: "completed",
    orchestrator_pb2.STUDY_STATUS_PARTIAL: "partial",
    orchestrator_pb2.STUDY_STATUS_FAILED: "failed",
}
TEST_NAMES = {
    "welch_t": "Welch's t-test",
    "paired_t": "paired t-test",
    "one_way_anova": "one-way ANOVA",
    "friedman": "Friedman test",
    "chi_square": "chi-square test",
    "fisher_exact": "Fisher's exact test",
    "mann_whitney_u": "Mann-Whitney U",
    "wilcoxon": "Wilcoxon signed-rank",
    "kruskal_wallis": "Kruskal-Wallis",
}
EFFECT_NAMES = {
    "hedges_g": "Hedges' g",
    "cohens_dz": "Cohen's d_z",
    "eta_squared": "η²",
    "kendalls_w": "Kendall's W",
    "cramers_v": "Cramér's V",
}
KIND_WORDS = {
    ValueKind.NUMBER: "number",
    ValueKind.CATEGORY: "category",
    ValueKind.BOOLEAN: "yes or no",
    ValueKind.LIST: "list",
    ValueKind.TEXT: "text",
}


class Page:
    """Collects the charts while the sections are written: each chart a canvas and its configuration."""

    def __init__(self) -> None:
        self.charts: dict[str, dict] = {}

    def chart(self, config: dict, label: str, *, tall: bool = False) -> str:
        chart_id = f"chart-{len(self.charts) + 1}"
        self.charts[chart_id] = config
        size = " tall" if tall else ""
        return (
            f'<figure class="chart{size}"><div class="canvas-box"><canvas id="{chart_id}" role="img" '
            f'aria-label="{escape(label)}"></canvas></div><figcaption>{escape(label)}</figcaption></figure>'
        )


def render(result: Result, request: Request | None, library: ChartLibrary) -> str:
    """The whole page for a study's or an experiment's result."""
    page = Page()
    experiment = isinstance(result, orchestrator_pb2.ExperimentResult)
    if isinstance(result, orchestrator_pb2.StudyResult):
        result, request = flattened(result, request)
    else:
        result, request = flattened_experiment(result, request)
    arms = arms_of(result, request)
    specs = field_specs(result, request, arms)
    sections = [
        _findings(result, arms) if experiment else _study_overview(result),
        _asked(result, request, arms, specs),
        _fields(page, result, arms, specs),
        _tests(result) if experiment else _statistics(result),
        _quotes(arms),
    ]
    title = _title(result, request)
    charts_json = json.dumps(page.charts, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    return TEMPLATE.format(
        title=escape(title),
        subtitle=_subtitle(result, arms),
        sections="\n".join(section for section in sections if section),
        style=STYLE,
        charts_json=charts_json,
        library=library.source.replace("</script", "<\\/script"),
        draw=DRAW,
        footer=escape(
            f"Written by troupe report from {_operation(result)}. Charts drawn with Chart.js "
            f"{library.version} ({library.licence} licence), inlined in this file."
        ),
    )


def _operation(result: Result) -> str:
    return result.operation if isinstance(result, orchestrator_pb2.ExperimentResult) else result.operation_id


def _title(result: Result, request: Request | None) -> str:
    name = request.session_config.session_name.strip() if request is not None else ""
    kind = "Experiment" if isinstance(result, orchestrator_pb2.ExperimentResult) else "Study"
    return f"{kind}: {name}" if name else f"{kind} {_operation(result).removeprefix('operations/')}"


def _subtitle(result: Result, arms: list[Arm]) -> str:
    parts = [_operation(result)]
    if isinstance(result, orchestrator_pb2.ExperimentResult):
        people = len({name for arm in result.arms for name in arm.participants})
        parts += [
            f"{len(result.arms)} arms",
            DESIGNS.get(result.design, "between subjects"),
            f"{people} participants",
            f"seed {result.seed}",
        ]
    else:
        counts = result.participants
        parts += [
            STATUSES.get(result.status, "unknown"),
            f"{counts.successful} of {counts.total} participants",
            f"{result.simulation_results.rounds_completed} rounds",
        ]
    if when := _started(arms):
        parts.append(when)
    return " · ".join(escape(part) for part in parts)


def _started(arms: list[Arm]) -> str:
    times = [arm.result.metadata.start_time for arm in arms if arm.result.metadata.start_time.seconds]
    if not times:
        return ""
    first = min(times, key=lambda timestamp: (timestamp.seconds, timestamp.nanos))
    return _utc(first)


def _utc(timestamp: timestamp_pb2.Timestamp) -> str:
    return timestamp.ToDatetime(tzinfo=UTC).strftime("%Y-%m-%d %H:%M UTC")


# -- sections ------------------------------------------------------------------------------------------------


def _findings(result: orchestrator_pb2.ExperimentResult, arms: list[Arm]) -> str:
    items = []
    for comparison in result.comparisons:
        if comparison.skipped_reason:
            text, style = f"{comparison.field}: not compared ({comparison.skipped_reason}).", "skipped"
        else:
            text, style = comparison.sentence, "significant" if comparison.significant else "plain"
        items.append(f'<li class="{style}">{escape(text)}</li>')
    rows = "".join(
        f"<tr><td>{_arm_badge(index, arm.name)}</td><td>{len(arm.participants)}</td>"
        f"<td>{escape(STATUSES.get(arm.result.status, 'unknown'))}"
        f"{_failed(arm.result)}</td><td>{arm.result.metadata.quality_score:.2f}</td>"
        f"<td><code>{escape(arm.result.operation_id)}</code></td></tr>"
        for index, arm in enumerate(arms)
    )
    orders = ""
    if result.arm_orders:
        counted: dict[str, int] = {}
        for order in result.arm_orders.values():
            counted[order] = counted.get(order, 0) + 1
        orders = (
            '<p class="note">Every participant took every arm, in these orders: '
            + "; ".join(f"{escape(order)} ({count})" for order, count in sorted(counted.items()))
            + ".</p>"
        )
    return (
        '<section id="findings"><h2>Findings</h2>'
        f'<ul class="findings">{"".join(items) or "<li>No field was compared.</li>"}</ul>'
        '<p class="note">p-values are adjusted across the fields (Holm); a difference counts as significant '
        f"below 0.05.</p>{orders}"
        '<table class="arms"><thead><tr><th>arm</th><th>participants</th><th>status</th><th>quality</th>'
        f"<th>arm study</th></tr></thead><tbody>{rows}</tbody></table></section>"
    )


def _failed(result: orchestrator_pb2.StudyResult) -> str:
    failed = result.participants.failed
    return f' <span class="warn">({failed} failed)</span>' if failed else ""


def _study_overview(result: orchestrator_pb2.StudyResult) -> str:
    quality = result.extracted_results.statistical_analysis.quality_metrics
    notes = "".join(
        f"<li>−{note.score_lost:.2f} {escape(note.metric)}: {escape(note.explanation)}</li>" for note in quality.notes
    )
    failures = "".join(
        f"<li>{escape(failure.agent_name or f'#{failure.index}')}: {escape(failure.reason)}</li>"
        for failure in result.participant_failures
    )
    usage = result.metadata.token_usage
    rows = [
        (
            "status",
            STATUSES.get(result.status, "unknown")
            + (f" ({result.participants.failed} failed)" if result.participants.failed else ""),
        ),
        ("participants", f"{result.participants.successful} of {result.participants.total} took part"),
        (
            "rounds",
            f"{result.simulation_results.rounds_completed}, "
            f"{result.simulation_results.total_interactions} interactions",
        ),
        ("quality score", f"{result.metadata.quality_score:.2f}"),
        ("model calls", f"{usage.calls} ({usage.cached_calls} from cache)"),
    ]
    return (
        '<section id="overview"><h2>Overview</h2>'
        + _definitions(rows)
        + (f"<p>What lowered the quality score:</p><ul>{notes}</ul>" if notes else "")
        + (f'<p class="warn">Participants that failed:</p><ul>{failures}</ul>' if failures else "")
        + "</section>"
    )


def _asked(result: Result, request: Request | None, arms: list[Arm], specs: list[FieldSpec]) -> str:
    parts = ['<section id="asked"><h2>What was asked</h2>']
    if request is None:
        parts.append(
            '<p class="note">The request itself was not found (it is kept in the results folder by '
            "`troupe run`): what follows is read from the result.</p>"
        )
    else:
        config = request.session_config
        rows = [("name", config.session_name), ("description", config.description)]
        if isinstance(request, orchestrator_pb2.RunExperimentRequest):
            rows.append(("design", DESIGNS.get(request.design, "between subjects")))
        simulation = request.simulation_config
        environment = (
            study_pb2.EnvironmentType.Name(simulation.environment_type)
            .removeprefix("ENVIRONMENT_TYPE_")
            .lower()
            .replace("_", " ")
        )
        rows.append(("world", f"{environment}, {simulation.rounds} round{'s' if simulation.rounds != 1 else ''}"))
        if request.extraction_config.extraction_objective:
            rows.append(("objective", request.extraction_config.extraction_objective))
        parts.append(_definitions([(label, text) for label, text in rows if text]))
        if summary := participant_summary(request):
            parts.append("<h3>Participants</h3>" + _definitions(summary))
    if isinstance(result, orchestrator_pb2.ExperimentResult):
        rows = "".join(
            f"<tr><td>{_arm_badge(index, arm.name)}</td><td>{len(arm.participants)}</td>"
            f"<td>{_plan(arm.steps) if arm.steps else _stimulus(arm.stimulus)}</td>"
            f"<td>{escape(', '.join(arm.fragments)) or '–'}</td></tr>"
            for index, arm in enumerate(arms)
        )
        parts.append(
            '<h3>Arms</h3><table class="asked-arms"><thead><tr><th>arm</th><th>participants</th>'
            f"<th>stimulus</th><th>fragments</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    else:
        parts.append(f"<h3>Stimulus</h3>{_stimulus(arms[0].stimulus)}")
    field_rows = "".join(
        f"<tr><td><code>{escape(spec.name)}</code></td><td>{escape(spec.hint)}</td>"
        f"<td>{escape(KIND_WORDS[spec.kind])}</td></tr>"
        for spec in specs
    )
    parts.append(
        "<h3>Fields</h3><table><thead><tr><th>field</th><th>hint</th><th>kind</th></tr></thead>"
        f"<tbody>{field_rows}</tbody></table></section>"
    )
    return "".join(parts)


def _plan(steps: list[tuple[str, str]]) -> str:
    items = "".join(f"<li><code>{escape(name)}</code> {escape(content)}</li>" for name, content in steps)
    return f'<ol class="plan">{items}</ol>'


def _stimulus(stimulus: study_pb2.Stimulus | None) -> str:
    if stimulus is None or not stimulus.content:
        return '<span class="note">not known</span>'
    kind = f'<span class="tag">{escape(stimulus.type.replace("_", " "))}</span> ' if stimulus.type else ""
    context = f'<div class="note">{escape(stimulus.context)}</div>' if stimulus.context else ""
    return f'<div class="stimulus">{kind}{escape(stimulus.content)}{context}</div>'


def _fields(page: Page, result: Result, arms: list[Arm], specs: list[FieldSpec]) -> str:
    comparisons = (
        {comparison.field: comparison for comparison in result.comparisons}
        if isinstance(result, orchestrator_pb2.ExperimentResult)
        else {}
    )
    parts = ['<section id="fields"><h2>Results by field</h2>']
    for spec in specs:
        parts.append(
            f'<article class="field" id="field-{escape(spec.name)}"><h3><code>{escape(spec.name)}</code> '
            f'<span class="hint">{escape(spec.hint)}</span></h3>'
        )
        comparison = comparisons.get(spec.name)
        if comparison is not None:
            text = comparison.sentence or f"Not compared: {comparison.skipped_reason}."
            parts.append(f'<p class="sentence{" significant" if comparison.significant else ""}">{escape(text)}</p>')
        parts.append('<div class="charts">' + _field_charts(page, arms, spec) + "</div></article>")
    parts.append("</section>")
    return "".join(parts)


def _field_charts(page: Page, arms: list[Arm], spec: FieldSpec) -> str:
    study = len(arms) == 1 and not arms[0].name
    names = [arm.name or "answers" for arm in arms]
    if spec.kind is ValueKind.NUMBER:
        series = [(name, numbers(arm, spec.name)) for name, arm in zip(names, arms, strict=True)]
        if not any(values for _, values in series):
            return '<p class="note">No usable values.</p>'
        number_range = charts.NumberRange(spec.integer, spec.minimum, spec.maximum)
        distribution = page.chart(
            charts.distribution_chart(series, number_range, spec.name),
            f"Distribution of {spec.name}" + ("" if study else " per arm"),
        )
        intervals = [
            (f"{name} (n {len(values)})", reported_interval(arm, spec.name) or charts.mean_interval(values))
            for (name, values), arm in zip(series, arms, strict=True)
        ]
        means = page.chart(
            charts.means_chart(intervals, spec.name, number_range),
            f"Mean of {spec.name} with its 95 % confidence interval" + ("" if study else " per arm"),
        )
        return distribution + means
    if spec.kind in (ValueKind.CATEGORY, ValueKind.BOOLEAN):
        counts = [(name, category_counts(arm, spec)) for name, arm in zip(names, arms, strict=True)]
        if not any(count for _, rows in counts for _, count, _ in rows):
            return '<p class="note">No usable values.</p>'
        categories = [category for category, _, _ in counts[0][1]]
        if study:
            return page.chart(charts.category_chart(counts[0][1], spec.name), f"Answers to {spec.name} (%)")
        labelled = [(f"{name} (n {sum(count for _, count, _ in rows)})", rows) for name, rows in counts]
        return page.chart(
            charts.shares_chart(labelled, categories),
            f"Shares of each answer to {spec.name} per arm",
            tall=len(arms) > 3,
        )
    blocks = []
    for name, arm in zip(names, arms, strict=True):
        found = themes(arm, spec.name)
        if found:
            rows = "".join(f"<tr><td>{escape(text)}</td><td>{count}</td></tr>" for text, count in found)
            caption = "Most frequent answers" + ("" if study else f" in {escape(name)}")
            blocks.append(
                f'<table class="themes"><caption>{caption}</caption><thead><tr><th>answer</th>'
                f"<th>participants</th></tr></thead><tbody>{rows}</tbody></table>"
            )
    return "".join(blocks) or '<p class="note">No usable values.</p>'


def _tests(result: orchestrator_pb2.ExperimentResult) -> str:
    rows = []
    for comparison in result.comparisons:
        if comparison.skipped_reason:
            rows.append(
                f'<tr class="skipped"><td><code>{escape(comparison.field)}</code></td>'
                f'<td colspan="8">not compared: {escape(comparison.skipped_reason)}</td></tr>'
            )
            continue
        rank = (
            (f"{escape(TEST_NAMES.get(comparison.rank_test, comparison.rank_test))}, p = {_p(comparison.rank_p_value)}")
            if comparison.rank_test
            else "–"
        )
        difference = "–"
        if comparison.difference or comparison.ci95_low or comparison.ci95_high:
            difference = f"{comparison.difference:+.2f} [{comparison.ci95_low:.2f}, {comparison.ci95_high:.2f}]"
        significant = ' class="significant"' if comparison.significant else ""
        rows.append(
            f"<tr{significant}><td><code>{escape(comparison.field)}</code></td>"
            f"<td>{escape(TEST_NAMES.get(comparison.test, comparison.test))}</td>"
            f"<td>{comparison.statistic:.3g}</td><td>{_p(comparison.p_value)}</td>"
            f"<td><strong>{_p(comparison.p_value_adjusted)}</strong></td><td>{rank}</td>"
            f"<td>{escape(EFFECT_NAMES.get(comparison.effect_size_name, comparison.effect_size_name))} = "
            f"{comparison.effect_size:.2f}</td><td>{escape(difference)}</td>"
            f"<td>{comparison.sample_size_per_arm_for_80_power or '–'}</td></tr>"
        )
    arms = [arm.name for arm in result.arms]
    difference_note = (
        f"Difference: {arms[1]} minus {arms[0]}, with its 95 % confidence interval." if len(arms) == 2 else ""
    )
    return (
        '<section id="tests"><h2>Tests</h2><table class="tests"><thead><tr><th>field</th><th>test</th>'
        "<th>statistic</th><th>p</th><th>p adjusted</th><th>rank-based check</th><th>effect size</th>"
        "<th>difference</th><th>n per arm for 80 % power</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        f'<p class="note">{escape(difference_note)} n per arm for 80 % power: participants each arm would need '
        "to detect the observed effect at alpha 0.05.</p></section>"
    )


def _statistics(result: orchestrator_pb2.StudyResult) -> str:
    rows = []
    for statistics in result.extracted_results.aggregate_statistics:
        if statistics.HasField("numeric") and statistics.numeric.count:
            numeric = statistics.numeric
            summary = (
                f"mean {numeric.mean:.2f} · median {numeric.median:.2f} · sd {numeric.std_dev:.2f} · "
                f"95 % CI [{numeric.ci95_low:.2f}, {numeric.ci95_high:.2f}] · range {numeric.min:g}–"
                f"{numeric.max:g}"
            )
        else:
            summary = ", ".join(f"{count.value} {count.share:.0%}" for count in statistics.counts[:6]) or "–"
        kind = study_pb2.ValueKind.Name(statistics.kind).removeprefix("VALUE_KIND_").lower()
        rows.append(
            f"<tr><td><code>{escape(statistics.field)}</code></td><td>{escape(kind)}</td>"
            f"<td>{statistics.usable_count}/{statistics.total_count}</td><td>{escape(summary)}</td></tr>"
        )
    if not rows:
        return ""
    return (
        '<section id="tests"><h2>Statistics</h2><table><thead><tr><th>field</th><th>kind</th><th>answers</th>'
        f"<th>statistics</th></tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _quotes(arms: list[Arm]) -> str:
    parts = ['<section id="quotes"><h2>What participants said</h2>']
    for index, arm in enumerate(arms):
        if arm.name:
            parts.append(f"<h3>{_arm_badge(index, arm.name)}</h3>")
        found = quotes(arm.result, arm.stimulus)
        if not found:
            parts.append('<p class="note">Nobody said anything to quote.</p>')
        for quote in found:
            parts.append(
                f"<blockquote><p>{escape(quote.text)}</p><cite>{escape(quote.agent)}, "
                f"round {quote.round}</cite></blockquote>"
            )
    parts.append("</section>")
    return "".join(parts)


def _definitions(rows: list[tuple[str, str]]) -> str:
    items = "".join(f"<dt>{escape(label)}</dt><dd>{escape(text)}</dd>" for label, text in rows)
    return f'<dl class="definitions">{items}</dl>'


def _arm_badge(index: int, name: str) -> str:
    return f'<span class="arm" style="--arm: {charts.arm_colour(index)}">{escape(name)}</span>'


def _p(value: float) -> str:
    """A p-value as HTML."""
    return "&lt;&nbsp;0.001" if value < 0.001 else f"{value:.3f}"


TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<header><h1>{title}</h1><p class="subtitle">{subtitle}</p></header>
<main>
{sections}
</main>
<footer>{footer}</footer>
<script type="application/json" id="report-charts">{charts_json}</script>
<script>{library}</script>
<script>{draw}</script>
</body>
</html>
"""

DRAW = """
(function () {
  var configs = JSON.parse(document.getElementById("report-charts").textContent);
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#333";
  var drawn = 0;
  Object.keys(configs).forEach(function (id) {
    new Chart(document.getElementById(id), configs[id]);
    drawn += 1;
  });
  document.documentElement.setAttribute("data-charts-drawn", String(drawn));
})();
"""

STYLE = """
:root { color-scheme: light; --ink: #1f2328; --muted: #5c6670; --line: #d8dde3; --soft: #f5f7f9;
        --good: #1f7a45; --warn: #a4481b; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: var(--ink); background: #fff; }
header { padding: 28px 40px 18px; border-bottom: 1px solid var(--line); background: var(--soft); }
h1 { margin: 0 0 4px; font-size: 26px; }
.subtitle { margin: 0; color: var(--muted); }
main { max-width: 1180px; margin: 0 auto; padding: 8px 40px 32px; }
section { margin-top: 28px; }
h2 { font-size: 20px; border-bottom: 2px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 16px; margin: 20px 0 8px; }
code { font: 13px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; background: var(--soft); padding: 1px 4px;
       border-radius: 3px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-size: 14px; }
th, td { border-bottom: 1px solid var(--line); padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
tr.significant td { background: #eef8f1; }
tr.skipped td { color: var(--muted); }
.findings { padding-left: 20px; }
.findings li { margin: 4px 0; }
.findings li.significant { font-weight: 600; color: var(--good); }
.findings li.skipped, .note { color: var(--muted); }
.note { font-size: 13px; }
.warn { color: var(--warn); }
dl.definitions { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 8px 0; }
dl.definitions dt { color: var(--muted); }
dl.definitions dd { margin: 0; }
.stimulus { white-space: pre-wrap; }
.tag { display: inline-block; font-size: 12px; background: #e8eef6; color: #29476b; border-radius: 10px;
       padding: 0 8px; margin-right: 4px; }
.arm { display: inline-block; white-space: nowrap; font-weight: 600; border-left: 6px solid var(--arm);
       padding-left: 6px; }
.field { border: 1px solid var(--line); border-radius: 8px; padding: 4px 18px 12px; margin: 16px 0;
         break-inside: avoid; }
.hint { font-weight: normal; color: var(--muted); font-size: 14px; margin-left: 6px; }
.sentence { margin: 4px 0 8px; }
.sentence.significant { color: var(--good); font-weight: 600; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 16px; }
figure.chart { margin: 0; }
.canvas-box { position: relative; height: 260px; }
figure.tall .canvas-box { height: 340px; }
table.themes { margin: 0; align-self: start; }
table.themes caption { caption-side: bottom; font-size: 13px; color: var(--muted); padding-top: 4px; }
table.themes td:last-child, table.themes th:last-child { text-align: right; width: 1%; white-space: nowrap; }
figcaption { font-size: 13px; color: var(--muted); text-align: center; margin-top: 4px; }
blockquote { margin: 10px 0; padding: 8px 14px; border-left: 4px solid var(--line); background: var(--soft);
             border-radius: 0 6px 6px 0; }
blockquote p { margin: 0 0 4px; }
cite { color: var(--muted); font-size: 13px; font-style: normal; }
footer { color: var(--muted); font-size: 12px; padding: 16px 40px 28px; border-top: 1px solid var(--line); }
@media print { header { background: none; } .field { page-break-inside: avoid; } }
"""
