"""One line per scenario: what each benchmark script reports, and the combined table `make bench` prints.

A script appends its results as JSON lines to the file named by `BENCH_RESULTS` (the runner sets it);
run alone, it only prints its own table. The critical-path limit of a scenario is the least number of
sequential model latencies it needs times the latency, plus the rate budget's bound (total calls ÷
requests per minute); the ratio is the wall time over that limit.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

RESULTS_VARIABLE = "BENCH_RESULTS"


@dataclass
class Result:
    """One scenario's figures. `target` says what it is held to; `met` whether it was."""

    scenario: str
    wall_s: float
    model_calls: int | None = None
    tokens: int | None = None
    sequential_latencies: int | None = None
    latency_s: float | None = None
    requests_per_minute: float | None = None
    target: str = ""
    met: bool | None = None

    @property
    def limit_s(self) -> float | None:
        if self.sequential_latencies is None or self.latency_s is None:
            return None
        rate_bound = (self.model_calls or 0) / self.requests_per_minute * 60 if self.requests_per_minute else 0.0
        return self.sequential_latencies * self.latency_s + rate_bound

    @property
    def ratio(self) -> float | None:
        limit = self.limit_s
        return self.wall_s / limit if limit else None

    def within(self, most: float) -> Result:
        """Holds the ratio to at most `most`."""
        self.target = f"ratio <= {most:g}"
        self.met = self.ratio is not None and self.ratio <= most
        return self


def emit(*items: Result | str) -> None:
    """Prints each item and appends it to the results file, if the runner named one."""
    for item in items:
        print(f"  result: {describe(item)}" if isinstance(item, Result) else f"  note: {item}", flush=True)
    path = os.environ.get(RESULTS_VARIABLE)
    if not path:
        return
    with Path(path).open("a") as output:
        for item in items:
            record = asdict(item) if isinstance(item, Result) else {"note": item}
            output.write(json.dumps(record) + "\n")


def read(path: Path) -> tuple[list[Result], list[str]]:
    """The results and notes in a results file."""
    results, notes = [], []
    names = {item.name for item in fields(Result)}
    if not path.exists():
        return results, notes
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if "note" in record:
            notes.append(record["note"])
        else:
            results.append(Result(**{key: value for key, value in record.items() if key in names}))
    return results, notes


def describe(result: Result) -> str:
    limit, ratio = result.limit_s, result.ratio
    parts = [f"{result.scenario}: wall {result.wall_s:.3f} s"]
    if result.model_calls is not None:
        parts.append(f"{result.model_calls} model calls")
    if result.tokens is not None:
        parts.append(f"{result.tokens} tokens")
    if limit is not None:
        parts.append(f"limit {limit:.3f} s, ratio {ratio:.2f}")
    if result.target:
        parts.append(f"{result.target}: {'met' if result.met else 'NOT met'}")
    return "; ".join(parts)


def table(results: list[Result]) -> str:
    """The combined table, aligned for a terminal."""
    header = ["scenario", "wall", "calls", "tokens", "critical-path limit", "ratio", "target", "verdict"]
    rows = [header]
    for result in results:
        limit = result.limit_s
        limit_text = "-"
        if limit is not None:
            limit_text = f"{limit:.2f} s ({result.sequential_latencies} x {result.latency_s:g} s"
            if result.requests_per_minute:
                limit_text += f" + {result.model_calls or 0}/{result.requests_per_minute:g} rpm"
            limit_text += ")"
        rows.append(
            [
                result.scenario,
                _seconds(result.wall_s),
                "-" if result.model_calls is None else str(result.model_calls),
                "-" if result.tokens is None else str(result.tokens),
                limit_text,
                "-" if result.ratio is None else f"{result.ratio:.2f}",
                result.target or "-",
                "-" if result.met is None else ("met" if result.met else "NOT met"),
            ]
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _seconds(value: float) -> str:
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
