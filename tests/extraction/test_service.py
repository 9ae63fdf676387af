"""The extraction service over real gRPC, against the fake model server and control (SQLite)."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from collections.abc import AsyncIterator

import grpc
import pytest
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2, control_pb2_grpc
from tinytroupe_mesh_api.extraction.v1 import extraction_pb2, extraction_pb2_grpc

from services.common.extracted_values import python_value
from services.control.service import DEFINITION as CONTROL
from services.extraction.export import from_json
from services.extraction.service import DEFINITION
from services.runtime.clients import open_channel
from services.runtime.testing import serving
from tests.extraction.conftest import (
    TALK,
    agent,
    answer_per_agent,
    extraction_request,
    said,
    transcript,
)
from tests.rich_errors import violations
from tests.sessions import Control, refusal, running_control

FIELDS = ["rating", "purchase_intent", "concerns"]
RATINGS = {"Ana": 8, "Ben": 4, "Cleo": 6, "Dan": 9}
INTENTS = {"Ana": "yes", "Ben": "No.", "Cleo": "maybe", "Dan": "yes"}


def scripted_answers(name: str) -> dict:
    return {
        "rating": {"evidence": f"I would rate it {RATINGS[name]} out of 10", "value": RATINGS[name], "confidence": 0.9},
        "purchase_intent": {"evidence": "", "value": INTENTS[name], "confidence": 0.6},
        "concerns": {"evidence": "My worry is the high price", "value": ["high price"], "confidence": 0.8},
    }


@pytest.fixture
async def control(tmp_path) -> AsyncIterator[Control]:
    async with running_control(tmp_path / "control") as running:
        yield running


@pytest.fixture
async def stub(mesh_settings, control):
    served = control.serving(mesh_settings)
    async with serving(DEFINITION, served) as address, open_channel(address, served) as channel:
        yield extraction_pb2_grpc.ResultsExtractionServiceStub(channel)


@pytest.fixture
async def session(control) -> str:
    return await control.begin_session("extraction test")


async def test_extracts_typed_values_with_statistics(stub, session, fake_llm):
    fake_llm.script(r"Extract the fields for", answer_per_agent(scripted_answers), merge=False)
    request = extraction_request(list(RATINGS), transcript(ratings=RATINGS), fields=FIELDS, session=session)
    response = await stub.ExtractResults(request, timeout=10)

    results = response.results
    assert [result.agent_name for result in results.individual_results] == list(RATINGS)
    for result in results.individual_results:
        name = result.agent_name
        assert python_value(result.fields["rating"]) == RATINGS[name]
        assert result.fields["rating"].confidence == pytest.approx(0.9)
        assert python_value(result.fields["purchase_intent"]) == INTENTS[name].rstrip(".").lower()
        assert result.fields["purchase_intent"].confidence == pytest.approx(0.3)  # no evidence: halved
        assert python_value(result.fields["concerns"]) == ["high price"]
    by_field = {statistics.field: statistics for statistics in results.aggregate_statistics}
    rating = by_field["rating"]
    # 8 4 6 9: mean 6.75, median 7, s = sqrt(14.75/3) = 2.2173558; t(0.975, 3) = 3.182446; half width = 3.182446 * s / 2 = 3.5283075
    assert (rating.numeric.count, rating.numeric.mean, rating.numeric.median) == (4, 6.75, 7.0)
    assert rating.numeric.std_dev == pytest.approx(2.2173558, abs=1e-6)
    assert rating.numeric.ci95_low == pytest.approx(6.75 - 3.5283075, abs=1e-6)
    assert [(c.value, c.count, c.share) for c in by_field["purchase_intent"].counts] == [
        ("yes", 2, 0.5),
        ("no", 1, 0.25),
        ("maybe", 1, 0.25),
    ]
    assert [(c.value, c.count) for c in by_field["concerns"].counts] == [("high price", 4)]
    assert (by_field["concerns"].usable_count, by_field["concerns"].total_count) == (4, 4)

    quality = results.statistical_analysis.quality_metrics
    # coverage 1; confidence (0.9 + 0.3 + 0.8) / 3 = 0.6667; agreement weighed by confidence: the two "yes"
    # of confidence 0.3 of four answers -> 0.15; score 0.45 + 0.3 + 0.015 = 0.765
    assert quality.coverage == 1.0
    assert quality.confidence == pytest.approx(2 / 3)
    assert quality.agreement == pytest.approx(0.15)
    assert quality.score == pytest.approx(0.765)
    assert [note.metric for note in quality.notes] == ["confidence", "agreement"]
    assert "they disagree on purchase_intent" in quality.notes[1].explanation
    assert response.usage.calls == 4
    assert response.usage.prompt_tokens > 0 and response.usage.completion_tokens > 0
    assert fake_llm.stats.total_requests == 4


async def test_arbitrary_schema_valid_answers_come_back_typed(stub, session, fake_llm):
    """Unscripted, the fake answers with random instances of the schema: every value must be typed."""
    hints = {
        "rating": "integer 1-5",
        "mood": "one of happy/sad/neutral",
        "would_buy": "yes/no",
        "share": "number 0-1",
        "notes": "text",
    }
    names = [f"Agent{index}" for index in range(6)]
    request = extraction_request(
        names,
        transcript([(name, TALK, said(name, 5)) for name in names]),
        fields=list(hints),
        hints=hints,
        session=session,
    )
    response = await stub.ExtractResults(request, timeout=10)
    kinds = {
        "rating": "number_value",
        "mood": "string_value",
        "would_buy": "bool_value",
        "share": "number_value",
        "notes": "string_value",
    }
    for result in response.results.individual_results:
        for name, value in result.fields.items():
            if value.WhichOneof("value") is None:
                assert value.problem
                continue
            assert value.WhichOneof("value") == kinds[name]
            assert 0.0 <= value.confidence <= 1.0
        if result.fields["rating"].HasField("number_value"):
            assert result.fields["rating"].number_value in {1, 2, 3, 4, 5}
        if result.fields["mood"].HasField("string_value"):
            assert result.fields["mood"].string_value in {"happy", "sad", "neutral"}
        if result.fields["share"].HasField("number_value"):
            assert 0 <= result.fields["share"].number_value <= 1


@pytest.mark.parametrize(
    ("change", "expected_fields"),
    [
        (lambda r: r.config.ClearField("fields"), ["config.fields"]),
        (
            lambda r: (r.config.ClearField("fields"), r.config.fields.extend(["rating", " ", "Rating"])),
            ["config.fields[1]", "config.fields[2]"],
        ),
        (
            lambda r: r.config.fields_hints.__setitem__("rating", "how much they liked it"),
            ["config.fields_hints[rating]"],
        ),
        (lambda r: r.config.fields_hints.__setitem__("colour", "text"), ["config.fields_hints[colour]"]),
        (lambda r: r.ClearField("transcript"), ["transcript"]),
        (lambda r: r.ClearField("agents"), ["agents"]),
        (lambda r: r.agents.append(agent("Ana")), ["agents[2].name"]),
        (lambda r: r.ClearField("config"), ["config"]),
        (lambda r: setattr(r, "session", "abc"), ["session"]),
    ],
)
async def test_bad_requests_name_the_field(stub, session, fake_llm, change, expected_fields):
    request = extraction_request(
        ["Ana", "Ben"], transcript(ratings={"Ana": 8, "Ben": 4}), fields=FIELDS, session=session
    )
    change(request)
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.ExtractResults(request, timeout=10)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(error.value) == expected_fields
    assert fake_llm.stats.total_requests == 0


async def test_unknown_speakers_in_the_transcript_are_fine(stub, session, fake_llm):
    lines = [("Ana", TALK, said("Ana", 8)), ("Stranger", TALK, "Nobody asked me, but it is ugly.")]
    response = await stub.ExtractResults(
        extraction_request(["Ana"], transcript(lines), fields=["rating"], session=session), timeout=10
    )
    assert [result.agent_name for result in response.results.individual_results] == ["Ana"]


async def test_fifty_agents_are_extracted_concurrently(stub, session, fake_llm):
    latency = 0.2
    fake_llm.configure(latency_s=latency)
    names = [f"Agent{index:02d}" for index in range(50)]
    ratings = {name: 1 + index % 10 for index, name in enumerate(names)}
    request = extraction_request(names, transcript(ratings=ratings), fields=FIELDS, session=session)
    started = time.monotonic()
    response = await stub.ExtractResults(request, timeout=30)
    elapsed = time.monotonic() - started
    assert len(response.results.individual_results) == 50
    assert fake_llm.stats.total_requests == 50
    assert fake_llm.stats.peak_in_flight > 1
    assert elapsed < 5 * latency + 1.0, f"50 agents took {elapsed:.2f}s at {latency}s per call"


async def test_a_retried_request_id_is_answered_once_also_after_restarts(mesh_settings, tmp_path, fake_llm):
    async with running_control(tmp_path / "control") as control:
        session = await control.begin_session("extraction test")
        request = extraction_request(
            ["Ana", "Ben"],
            transcript(ratings={"Ana": 8, "Ben": 4}),
            fields=FIELDS,
            request_id="extract-1",
            session=session,
        )
        served = control.serving(mesh_settings)
        async with serving(DEFINITION, served) as address, open_channel(address, served) as channel:
            stub = extraction_pb2_grpc.ResultsExtractionServiceStub(channel)
            first, duplicate = await asyncio.gather(
                stub.ExtractResults(request, timeout=10), stub.ExtractResults(request, timeout=10)
            )
            second = await stub.ExtractResults(request, timeout=10)
        assert first == duplicate == second and fake_llm.stats.total_requests == 2

    # Control and extraction both restarted: the answer comes from control's database, not the model.
    async with running_control(tmp_path / "control") as control:
        served = control.serving(mesh_settings)
        async with serving(DEFINITION, served) as address, open_channel(address, served) as channel:
            stub = extraction_pb2_grpc.ResultsExtractionServiceStub(channel)
            assert await stub.ExtractResults(request, timeout=10) == first
            assert fake_llm.stats.total_requests == 2

            request.config.fields.append("reasoning")
            error = await refusal(stub.ExtractResults(request, timeout=10))
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and violations(error) == ["request_id"]
            request.request_id = "x" * 129
            assert violations(await refusal(stub.ExtractResults(request, timeout=10))) == ["request_id"]


async def test_an_unreachable_model_is_unavailable(stub, session, fake_llm):
    fake_llm.configure(rate_500=1.0)
    request = extraction_request(
        ["Ana", "Ben"], transcript(ratings={"Ana": 8, "Ben": 4}), fields=FIELDS, session=session
    )
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.ExtractResults(request, timeout=10)
    assert error.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_rapporteur_and_world_modes_over_grpc(stub, session, fake_llm):
    request = extraction_request(
        list(RATINGS),
        transcript(ratings=RATINGS),
        fields=FIELDS,
        mode=study_pb2.ExtractionConfig.MODE_RAPPORTEUR,
        session=session,
    )
    rapporteur = await stub.ExtractResults(request, timeout=10)
    assert [r.agent_name for r in rapporteur.results.individual_results] == ["rapporteur"]
    request.config.mode = study_pb2.ExtractionConfig.MODE_WORLD
    world = await stub.ExtractResults(request, timeout=10)
    assert [r.agent_name for r in world.results.individual_results] == list(RATINGS)
    assert fake_llm.stats.total_requests == 2


async def test_exports_inline(stub, session, fake_llm):
    fake_llm.script(r"Extract the fields for", answer_per_agent(scripted_answers), merge=False)
    extracted = await stub.ExtractResults(
        extraction_request(list(RATINGS), transcript(ratings=RATINGS), fields=FIELDS, session=session), timeout=10
    )
    as_json = await stub.ExportResults(
        extraction_pb2.ExportResultsRequest(results=extracted.results, format=extraction_pb2.EXPORT_FORMAT_JSON),
        timeout=10,
    )
    assert as_json.content_type == "application/json" and not as_json.checkpoint
    assert from_json(as_json.content) == extracted.results
    as_csv = await stub.ExportResults(
        extraction_pb2.ExportResultsRequest(
            results=extracted.results, format=extraction_pb2.EXPORT_FORMAT_CSV, fields=FIELDS
        ),
        timeout=10,
    )
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode(), newline="")))
    assert [(row["agent_name"], int(row["rating"]), row["concerns"]) for row in rows] == [
        (name, rating, "high price") for name, rating in RATINGS.items()
    ]
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.ExportResults(
            extraction_pb2.ExportResultsRequest(
                results=extracted.results, format=extraction_pb2.EXPORT_FORMAT_CSV, store=True
            ),
            timeout=10,
        )
    assert violations(error.value) == ["session"]


async def test_a_session_is_required(stub, fake_llm):
    request = extraction_request(["Ana"], transcript(ratings={"Ana": 8}), fields=["rating"])
    assert violations(await refusal(stub.ExtractResults(request, timeout=10))) == ["session"]
    request.ClearField("transcript")
    assert violations(await refusal(stub.ExtractResults(request, timeout=10))) == ["session", "transcript"]
    assert fake_llm.stats.total_requests == 0


async def test_stored_exports_become_session_checkpoints_and_answers_are_cached(fake_llm, mesh_settings, tmp_path):
    control_settings = mesh_settings.model_copy(update={"data_dir": tmp_path / "control"})
    async with serving(CONTROL, control_settings) as control_address:
        settings = mesh_settings.model_copy(update={"control_address": control_address})
        async with open_channel(control_address, settings) as control_channel:
            control = control_pb2_grpc.SimulationControlServiceStub(control_channel)
            session = await control.BeginSession(
                control_pb2.BeginSessionRequest(session=control_pb2.Session(display_name="export test")), timeout=10
            )
            request = extraction_request(
                list(RATINGS), transcript(ratings=RATINGS), fields=FIELDS, session=session.name
            )
            async with serving(DEFINITION, settings) as address, open_channel(address, settings) as channel:
                stub = extraction_pb2_grpc.ResultsExtractionServiceStub(channel)
                extracted = await stub.ExtractResults(request, timeout=10)
                assert (extracted.usage.calls, extracted.usage.cached_calls) == (4, 0)
                for export_format, checkpoint_id in (
                    (extraction_pb2.EXPORT_FORMAT_JSON, "export_json"),
                    (extraction_pb2.EXPORT_FORMAT_CSV, "export_csv"),
                ):
                    exported = await stub.ExportResults(
                        extraction_pb2.ExportResultsRequest(
                            session=session.name, results=extracted.results, format=export_format, store=True
                        ),
                        timeout=10,
                    )
                    assert exported.checkpoint == f"{session.name}/checkpoints/{checkpoint_id}"
                    stored = await control.GetCheckpoint(
                        control_pb2.GetCheckpointRequest(name=exported.checkpoint), timeout=10
                    )
                    assert stored.payload == exported.content
                    assert stored.content_type == exported.content_type
                assert stored.payload.decode().startswith("agent_name,rating,purchase_intent,concerns,")

            # a replica replaying the same extraction in the session gets the model's answers from the cache
            async with serving(DEFINITION, settings) as address, open_channel(address, settings) as channel:
                replayed = await extraction_pb2_grpc.ResultsExtractionServiceStub(channel).ExtractResults(
                    request, timeout=10
                )
            assert (replayed.usage.calls, replayed.usage.cached_calls) == (0, 4)
            assert replayed.results == extracted.results
            assert fake_llm.stats.total_requests == 4
