"""A finished study's files: the result as JSON, the extracted results as CSV, the transcript; an
experiment's: the result as JSON, its comparisons as CSV, every arm's answers as CSV, the arms' transcripts."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from google.protobuf import json_format
from google.protobuf.message import Message
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.cli.report.plan import flattened
from services.extraction.export import cell, column_order, rounded, to_csv

REQUEST_FILE = "request.json"
"""The request as it was sent, beside the results: `troupe report` shows what was asked from it."""


@dataclass(frozen=True)
class WrittenFiles:
    result_json: Path
    results_csv: Path | None
    transcript: Path


def write_study_files(result: orchestrator_pb2.StudyResult, output_dir: Path) -> WrittenFiles:
    output_dir.mkdir(parents=True, exist_ok=True)
    result_json = output_dir / "result.json"
    result_json.write_text(document_json(result))
    transcript = output_dir / "transcript.md"
    transcript.write_text(transcript_markdown(result))
    results_csv = None
    steps = list(result.step_results)
    if result.extracted_results.individual_results or any(s.extracted_results.individual_results for s in steps):
        results_csv = output_dir / "results.csv"
        results_csv.write_bytes(to_csv(result.extracted_results, step_results=steps))
    return WrittenFiles(result_json, results_csv, transcript)


@dataclass(frozen=True)
class ExperimentFiles:
    result_json: Path
    comparisons_csv: Path
    results_csv: Path | None
    transcript: Path


def write_request(request: Message, output_dir: Path) -> Path:
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / REQUEST_FILE
    path.write_text(document_json(request))
    return path


def write_experiment_files(result: orchestrator_pb2.ExperimentResult, output_dir: Path) -> ExperimentFiles:
    output_dir.mkdir(parents=True, exist_ok=True)
    result_json = output_dir / "result.json"
    result_json.write_text(document_json(result))
    comparisons_csv = output_dir / "comparisons.csv"
    comparisons_csv.write_bytes(comparisons_to_csv(result))
    transcript = output_dir / "transcript.md"
    transcript.write_text(experiment_transcript_markdown(result))
    results_csv = None
    if any(arm.result.extracted_results.individual_results or arm.result.step_results for arm in result.arms):
        results_csv = output_dir / "results.csv"
        results_csv.write_bytes(arm_answers_to_csv(result))
    return ExperimentFiles(result_json, comparisons_csv, results_csv, transcript)


COMPARISON_COLUMNS = (
    "row",
    "field",
    "arm",
    "test",
    "statistic",
    "p_value",
    "p_value_adjusted",
    "significant",
    "rank_test",
    "rank_statistic",
    "rank_p_value",
    "effect_size_name",
    "effect_size",
    "difference",
    "ci95_low",
    "ci95_high",
    "sample_size_per_arm_for_80_power",
    "count",
    "mean",
    "std_dev",
    "categories",
    "shares",
    "sentence",
    "skipped_reason",
)
"""`row` is `comparison` (one per field: the tests) or `arm` (one per arm and field: its values)."""
P_DIGITS = 4
"""p-values keep four significant digits in the CSV (rounding them to decimals would make small ones 0)."""


def comparisons_to_csv(result: orchestrator_pb2.ExperimentResult) -> bytes:
    """One row per field comparison, each followed by one row per arm with that arm's values of the field."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, COMPARISON_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for comparison in result.comparisons:
        compared = not comparison.skipped_reason
        writer.writerow(
            {
                "row": "comparison",
                "field": comparison.field,
                "test": comparison.test,
                "statistic": rounded(comparison.statistic) if compared else "",
                "p_value": _p(comparison.p_value) if compared else "",
                "p_value_adjusted": _p(comparison.p_value_adjusted) if compared else "",
                "significant": ("yes" if comparison.significant else "no") if compared else "",
                "rank_test": comparison.rank_test,
                "rank_statistic": rounded(comparison.rank_statistic) if comparison.rank_test else "",
                "rank_p_value": _p(comparison.rank_p_value) if comparison.rank_test else "",
                "effect_size_name": comparison.effect_size_name,
                "effect_size": rounded(comparison.effect_size) if compared else "",
                **_difference(comparison),
                "sample_size_per_arm_for_80_power": comparison.sample_size_per_arm_for_80_power or "",
                "sentence": comparison.sentence,
                "skipped_reason": comparison.skipped_reason,
            }
        )
        for arm in comparison.arms:
            numbers = not arm.categories
            writer.writerow(
                {
                    "row": "arm",
                    "field": comparison.field,
                    "arm": arm.arm,
                    "count": arm.count,
                    "mean": rounded(arm.mean) if numbers and arm.count else "",
                    "std_dev": rounded(arm.std_dev) if numbers and arm.count > 1 else "",
                    "categories": "; ".join(f"{category.value}={category.count}" for category in arm.categories),
                    "shares": "; ".join(f"{category.value}={rounded(category.share)}" for category in arm.categories),
                }
            )
    return buffer.getvalue().encode()


def _p(value: float) -> str:
    return f"{value:.{P_DIGITS}g}"


def _difference(comparison: orchestrator_pb2.FieldComparison) -> dict[str, str]:
    """The difference of two arms' means with its interval, where the test gave one."""
    if comparison.skipped_reason or not (comparison.difference or comparison.ci95_low or comparison.ci95_high):
        return {}
    return {
        "difference": rounded(comparison.difference),
        "ci95_low": rounded(comparison.ci95_low),
        "ci95_high": rounded(comparison.ci95_high),
    }


def arm_answers_to_csv(result: orchestrator_pb2.ExperimentResult) -> bytes:
    """One row per participant and arm: `arm`, `agent_name`, one column per field (a plan's step fields as
    `{step}.{field}`), `confidence_score`."""
    answers = [flattened(arm.result, None)[0].extracted_results for arm in result.arms]
    merged = study_pb2.ExtractedResults()
    for extracted in answers:
        merged.individual_results.extend(extracted.individual_results)
    columns = column_order(merged, [comparison.field for comparison in result.comparisons])
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["arm", "agent_name", *columns, "confidence_score"])
    for arm, extracted in zip(result.arms, answers, strict=True):
        for agent in extracted.individual_results:
            cells = [cell(agent.fields[name]) if name in agent.fields else "" for name in columns]
            writer.writerow([arm.name, agent.agent_name, *cells, rounded(agent.confidence_score)])
    return buffer.getvalue().encode()


def document_dict(message: Message) -> dict:
    """A message as a file for people and scripts: protobuf's JSON mapping with the proto field names, every
    field present (zeros, empty texts and lists included) and 64-bit integers as numbers, not strings
    (below 2**53, where every JSON reader keeps them exact; protobuf decides by each field's type).

    It still parses back with `json_format.Parse`. RPC answers keep the standard mapping; this is for files.
    """
    return json_format.MessageToDict(
        message,
        preserving_proto_field_name=True,
        always_print_fields_with_no_presence=True,
        unquote_int64_if_possible=True,
    )


def document_json(message: Message) -> str:
    return json.dumps(document_dict(message), indent=2, ensure_ascii=False) + "\n"


def field_value_text(value: study_pb2.FieldValue) -> str:
    kind = value.WhichOneof("value")
    if kind == "number_value":
        return f"{value.number_value:g}"
    if kind == "list_value":
        return "; ".join(value.list_value.values)
    if kind == "bool_value":
        return "yes" if value.bool_value else "no"
    if kind == "string_value":
        return value.string_value
    return ""


def transcript_markdown(result: orchestrator_pb2.StudyResult) -> str:
    lines = [f"# Transcript of {result.operation_id}", "", *_transcript_lines(result, "##")]
    return "\n".join(lines).strip() + "\n"


def experiment_transcript_markdown(result: orchestrator_pb2.ExperimentResult) -> str:
    """Each arm's conversation under its own heading, in the arms' order."""
    lines = [f"# Transcript of {result.operation}", ""]
    for arm in result.arms:
        lines += ["", f"## Arm {arm.name} ({arm.study_operation})", "", *_transcript_lines(arm.result, "###")]
    return "\n".join(lines).strip() + "\n"


def _transcript_lines(result: orchestrator_pb2.StudyResult, heading: str) -> list[str]:
    lines: list[str] = []
    current_round = None
    current_step = 0
    step_names = {step.index: step.step for step in result.step_results}
    for interaction in result.simulation_results.interactions:
        if interaction.action == study_pb2.ACTION_TYPE_DONE and not interaction.content:
            continue
        if interaction.step != current_step:
            current_step, current_round = interaction.step, None
            name = step_names.get(current_step, "")
            lines += ["", f"{heading} Step {current_step}{f': {name}' if name else ''}"]
        if interaction.round != current_round:
            current_round = interaction.round
            if current_step:
                title = "Opening" if interaction.action == study_pb2.ACTION_TYPE_STIMULUS else f"Round {current_round}"
            else:
                title = "Stimulus" if current_round == 0 else f"Round {current_round}"
            lines += ["", f"{heading}{'#' if current_step else ''} {title}", ""]
        action = study_pb2.ActionType.Name(interaction.action).removeprefix("ACTION_TYPE_").lower()
        target = f" → {interaction.target}" if interaction.target else ""
        lines.append(f"- **{interaction.agent_name}** ({action}{target}): {interaction.content}")
    return lines
