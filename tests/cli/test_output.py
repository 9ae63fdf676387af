"""The files `troupe run` writes: where they go, result.json for people and scripts, results.csv rounded."""

from __future__ import annotations

import csv
import json

from google.protobuf import json_format
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.cli.main import parser, results_root
from services.cli.output import document_dict, document_json, write_study_files
from services.cli.render import quality_notes
from services.runtime.config import MeshSettings


def study_result() -> orchestrator_pb2.StudyResult:
    result = orchestrator_pb2.StudyResult(
        operation_id="operations/s1", session_id="sessions/s1", status=orchestrator_pb2.STUDY_STATUS_COMPLETED
    )
    result.participants.total = result.participants.successful = 2
    result.metadata.token_usage.calls = 9
    result.metadata.token_usage.prompt_tokens = 2**40
    result.metadata.execution_time.FromSeconds(74)
    extracted = result.extracted_results
    for name, confidence in (("Ana", 0.1 + 0.1 + 0.1 - 0.1), ("Ben", 0.25)):
        agent = extracted.individual_results.add(agent_name=name, confidence_score=confidence)
        agent.fields["purchase_intent"].CopyFrom(
            study_pb2.FieldValue(kind=study_pb2.VALUE_KIND_CATEGORY, string_value="maybe", confidence=confidence)
        )
        agent.fields["price"].CopyFrom(
            study_pb2.FieldValue(kind=study_pb2.VALUE_KIND_NUMBER, number_value=10 / 3, confidence=confidence)
        )
    extracted.aggregate_statistics.add(
        field="purchase_intent",
        kind=study_pb2.VALUE_KIND_CATEGORY,
        usable_count=2,
        total_count=2,
        counts=[study_pb2.CategoryCount(value="maybe", count=2, share=1.0), study_pb2.CategoryCount(value="no")],
    )
    extracted.aggregate_statistics.add(
        field="price",
        kind=study_pb2.VALUE_KIND_NUMBER,
        usable_count=2,
        total_count=2,
        numeric=study_pb2.NumericStatistics(count=2, mean=10 / 3, median=10 / 3, std_dev=0.0),
    )
    quality = extracted.statistical_analysis.quality_metrics
    quality.score = 0.54
    quality.notes.add(metric="confidence", score_lost=0.37, explanation="the usable values' mean confidence is 0.18")
    return result


def test_result_json_carries_every_field_with_numbers_as_numbers():
    document = document_dict(study_result())
    usage = document["metadata"]["token_usage"]
    assert {"calls": 9, "cached_calls": 0, "prompt_tokens": 2**40, "completion_tokens": 0}.items() <= usage.items()
    assert usage["cost"] == 0.0 and usage["unpriced_calls"] == 0
    purchase, price = document["extracted_results"]["aggregate_statistics"]
    assert purchase["counts"][1] == {"value": "no", "count": 0, "share": 0.0}
    assert price["numeric"]["std_dev"] == 0.0 and price["numeric"]["min"] == 0.0
    assert {"total": 2, "successful": 2, "failed": 0}.items() <= document["participants"].items()
    assert "numeric" not in purchase, "a message that is not set (numbers only for numeric fields) stays out"
    assert document["participant_failures"] == [] and document["metadata"]["resumed_count"] == 0
    assert document["extracted_results"]["individual_results"][0]["confidence_score"] == 0.20000000000000004
    assert document["extracted_results"]["statistical_analysis"]["quality_metrics"]["notes"] == [
        {"metric": "confidence", "score_lost": 0.37, "explanation": "the usable values' mean confidence is 0.18"}
    ]
    assert document["metadata"]["execution_time"] == "74s"  # well-known types keep their JSON form


def test_result_json_parses_back_and_rpc_json_keeps_the_standard_mapping():
    result = study_result()
    assert json_format.Parse(document_json(result), orchestrator_pb2.StudyResult()) == result
    standard = json.loads(json_format.MessageToJson(result, preserving_proto_field_name=True))
    assert standard["metadata"]["token_usage"]["calls"] == "9"


def test_the_files_of_a_study(tmp_path):
    files = write_study_files(study_result(), tmp_path / "s1")
    assert json.loads(files.result_json.read_text())["metadata"]["token_usage"]["calls"] == 9
    rows = list(csv.DictReader(files.results_csv.open(newline="")))
    assert rows[0] == {"agent_name": "Ana", "purchase_intent": "maybe", "price": "3.333", "confidence_score": "0.2"}
    assert files.transcript.read_text().startswith("# Transcript of operations/s1")


def test_results_go_under_the_data_directory_unless_output_says_otherwise(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = MeshSettings(data_dir=tmp_path / "data")
    arguments = parser().parse_args(["run", "study.json"])
    assert results_root(arguments, settings) == tmp_path / "data" / "results"
    arguments = parser().parse_args(["run", "study.json", "--output", "out"])
    assert results_root(arguments, settings) == tmp_path / "out"
    assert parser().parse_args(["demo"]).output is None


def test_the_summary_says_what_lowered_the_quality_score():
    quality = study_result().extracted_results.statistical_analysis.quality_metrics
    assert quality_notes(quality) == "-0.37 confidence: the usable values' mean confidence is 0.18"
    assert quality_notes(study_pb2.QualityMetrics(score=1.0)) == ""
