"""A finished study's files: the result as JSON, the extracted results as CSV, the transcript."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import grpc
from google.protobuf import json_format
from tinytroupe.common.v1 import study_pb2
from tinytroupe.extraction.v1 import extraction_pb2, extraction_pb2_grpc
from tinytroupe.orchestrator.v1 import orchestrator_pb2


@dataclass(frozen=True)
class WrittenFiles:
    result_json: Path
    results_csv: Path | None
    transcript: Path
    csv_from_service: bool


async def write_study_files(
    result: orchestrator_pb2.StudyResult,
    output_dir: Path,
    extraction: extraction_pb2_grpc.ResultsExtractionServiceStub,
) -> WrittenFiles:
    output_dir.mkdir(parents=True, exist_ok=True)
    result_json = output_dir / "result.json"
    result_json.write_text(json_format.MessageToJson(result, preserving_proto_field_name=True) + "\n")
    transcript = output_dir / "transcript.md"
    transcript.write_text(transcript_markdown(result))
    results_csv, from_service = None, False
    if result.extracted_results.individual_results:
        results_csv = output_dir / "results.csv"
        content, from_service = await _csv(result, extraction)
        results_csv.write_bytes(content)
    return WrittenFiles(result_json, results_csv, transcript, from_service)


async def _csv(
    result: orchestrator_pb2.StudyResult, extraction: extraction_pb2_grpc.ResultsExtractionServiceStub
) -> tuple[bytes, bool]:
    """CSV from the extraction service's export; written here when that service cannot be reached."""
    try:
        exported = await extraction.ExportResults(
            extraction_pb2.ExportResultsRequest(
                session=result.session_id,
                results=result.extracted_results,
                format=extraction_pb2.EXPORT_FORMAT_CSV,
            ),
            timeout=30,
        )
        return exported.content, True
    except grpc.aio.AioRpcError as error:
        if error.code() not in (
            grpc.StatusCode.UNAVAILABLE,
            grpc.StatusCode.UNIMPLEMENTED,
            grpc.StatusCode.DEADLINE_EXCEEDED,
        ):
            raise
    return local_csv(result.extracted_results).encode(), False


def local_csv(results: study_pb2.ExtractedResults) -> str:
    """One row per agent: its name, then each field's value and confidence."""
    fields = sorted({name for agent in results.individual_results for name in agent.fields})
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "agent_name",
            *(column for name in fields for column in (name, f"{name}_confidence")),
            "confidence_score",
        ]
    )
    for agent in results.individual_results:
        row = [agent.agent_name]
        for name in fields:
            value = agent.fields.get(name)
            row += [field_value_text(value), f"{value.confidence:.3f}"] if value is not None else ["", ""]
        writer.writerow([*row, f"{agent.confidence_score:.3f}"])
    return buffer.getvalue()


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
    lines = [f"# Transcript of {result.operation_id}", ""]
    current_round = None
    for interaction in result.simulation_results.interactions:
        if interaction.action == study_pb2.ACTION_TYPE_DONE and not interaction.content:
            continue
        if interaction.round != current_round:
            current_round = interaction.round
            lines += ["", f"## {'Stimulus' if current_round == 0 else f'Round {current_round}'}", ""]
        action = study_pb2.ActionType.Name(interaction.action).removeprefix("ACTION_TYPE_").lower()
        target = f" → {interaction.target}" if interaction.target else ""
        lines.append(f"- **{interaction.agent_name}** ({action}{target}): {interaction.content}")
    return "\n".join(lines).strip() + "\n"
