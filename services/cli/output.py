"""A finished study's files: the result as JSON, the extracted results as CSV, the transcript."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from google.protobuf import json_format
from google.protobuf.message import Message
from tinytroupe.common.v1 import study_pb2
from tinytroupe.orchestrator.v1 import orchestrator_pb2

from services.extraction.export import to_csv


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
    if result.extracted_results.individual_results:
        results_csv = output_dir / "results.csv"
        results_csv.write_bytes(to_csv(result.extracted_results))
    return WrittenFiles(result_json, results_csv, transcript)


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
