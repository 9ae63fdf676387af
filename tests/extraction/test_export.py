"""JSON exports round-trip; CSV exports parse back to the same values."""

from __future__ import annotations

import csv
import io
import json

from tinytroupe_mesh_api.common.v1 import study_pb2

from services.extraction.export import column_order, from_json, to_csv, to_json


def value(kind, confidence=0.9, **content):
    field_value = study_pb2.FieldValue(kind=kind, confidence=confidence, **content)
    return field_value


def sample_results() -> study_pb2.ExtractedResults:
    number, category, listing, text, boolean = (
        study_pb2.VALUE_KIND_NUMBER,
        study_pb2.VALUE_KIND_CATEGORY,
        study_pb2.VALUE_KIND_LIST,
        study_pb2.VALUE_KIND_TEXT,
        study_pb2.VALUE_KIND_BOOLEAN,
    )
    results = study_pb2.ExtractedResults()
    ana = results.individual_results.add(agent_name="Ana", confidence_score=0.9)
    ana.fields["rating"].CopyFrom(value(number, number_value=8))
    ana.fields["purchase_intent"].CopyFrom(value(category, string_value="yes"))
    ana.fields["concerns"].CopyFrom(value(listing, list_value=study_pb2.StringList(values=["noise", "size; weight"])))
    ana.fields["reasoning"].CopyFrom(value(text, string_value='Looks great, "modern" design,\nfair price'))
    ana.fields["would_buy"].CopyFrom(value(boolean, bool_value=True))
    ben = results.individual_results.add(agent_name="Ben, Jr.", confidence_score=0.45)
    ben.fields["rating"].CopyFrom(value(number, number_value=4.5, confidence=0.45))
    ben.fields["purchase_intent"].CopyFrom(value(category, confidence=0, problem="missing: no value", raw="null"))
    ben.fields["concerns"].CopyFrom(value(listing, list_value=study_pb2.StringList(values=[])))
    ben.fields["would_buy"].CopyFrom(value(boolean, bool_value=False))
    results.aggregate_statistics.add(
        field="rating",
        kind=number,
        usable_count=2,
        total_count=2,
        numeric=study_pb2.NumericStatistics(count=2, mean=6.25),
    )
    results.aggregate_statistics.add(
        field="purchase_intent",
        kind=category,
        usable_count=1,
        total_count=2,
        counts=[study_pb2.CategoryCount(value="yes", count=1, share=1.0)],
    )
    results.statistical_analysis.quality_metrics.score = 0.7
    return results


def test_json_round_trip():
    results = sample_results()
    document = to_json(results)
    assert from_json(document) == results
    parsed = json.loads(document)
    assert parsed["individual_results"][0]["fields"]["rating"]["number_value"] == 8
    assert parsed["individual_results"][1]["fields"]["purchase_intent"]["problem"] == "missing: no value"
    assert parsed["statistical_analysis"]["quality_metrics"]["score"] == 0.7


def test_csv_parses_back_to_the_same_values():
    results = sample_results()
    rows = list(csv.DictReader(io.StringIO(to_csv(results).decode(), newline="")))
    assert list(rows[0]) == [
        "agent_name",
        "rating",
        "purchase_intent",
        "concerns",
        "reasoning",
        "would_buy",
        "confidence_score",
    ]
    ana, ben = rows
    assert ana == {
        "agent_name": "Ana",
        "rating": "8",
        "purchase_intent": "yes",
        "concerns": "noise; size; weight",
        "reasoning": 'Looks great, "modern" design,\nfair price',
        "would_buy": "yes",
        "confidence_score": "0.9",
    }
    assert ben == {
        "agent_name": "Ben, Jr.",
        "rating": "4.5",
        "purchase_intent": "",
        "concerns": "",
        "reasoning": "",
        "would_buy": "no",
        "confidence_score": "0.45",
    }
    assert float(ben["rating"]) == results.individual_results[1].fields["rating"].number_value


def test_csv_columns_follow_the_requested_order():
    results = sample_results()
    assert column_order(results, ["would_buy"]) == ["would_buy", "rating", "purchase_intent", "concerns", "reasoning"]
    del results.aggregate_statistics[:]
    assert column_order(results) == ["concerns", "purchase_intent", "rating", "reasoning", "would_buy"]
    header = to_csv(results, ["rating", "unknown"]).decode().splitlines()[0]
    assert header == "agent_name,rating,concerns,purchase_intent,reasoning,would_buy,confidence_score"


def test_csv_rounds_numbers_for_people_and_json_keeps_full_precision():
    results = study_pb2.ExtractedResults()
    cleo = results.individual_results.add(agent_name="Cleo", confidence_score=0.1 + 0.1 + 0.1 - 0.1)
    cleo.fields["share"].CopyFrom(value(study_pb2.VALUE_KIND_NUMBER, number_value=2 / 3))
    cleo.fields["price"].CopyFrom(value(study_pb2.VALUE_KIND_NUMBER, number_value=12.5))
    assert cleo.confidence_score == 0.20000000000000004
    [row] = csv.DictReader(io.StringIO(to_csv(results).decode(), newline=""))
    assert row == {"agent_name": "Cleo", "price": "12.5", "share": "0.667", "confidence_score": "0.2"}
    document = json.loads(to_json(results))
    assert document["individual_results"][0]["confidence_score"] == 0.20000000000000004
    assert document["individual_results"][0]["fields"]["share"]["number_value"] == 2 / 3
