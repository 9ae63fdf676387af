"""End to end on the embedded local model: typed values with confidences (the values may be poor)."""

from __future__ import annotations

import pytest
from tinytroupe_mesh_api.extraction.v1 import extraction_pb2_grpc

from services.extraction.service import DEFINITION
from services.llm.embedded import EmbeddedModelServer
from services.runtime.clients import open_channel
from services.runtime.config import MeshSettings
from services.runtime.testing import serving
from tests.extraction.conftest import TALK, extraction_request, transcript
from tests.sessions import running_control

pytestmark = [pytest.mark.embedded, pytest.mark.slow]


async def test_three_fields_from_a_short_transcript(tmp_path):
    said = (
        "I like the design a lot. I would rate it 8 out of 10, "
        "but 89 dollars is expensive and it looks noisy. I might buy it on sale."
    )
    lines = [("Lisa", TALK, said)]
    async with EmbeddedModelServer(n_ctx=4096) as model, running_control(tmp_path / "control") as control:
        settings = control.serving(
            MeshSettings(data_dir=tmp_path, metrics_port=0, log_level="WARNING", llm=model.llm_settings())
        )
        assert settings.llm.response_format == ("json_schema" if model.binary else "json_object_schema")
        request = extraction_request(
            ["Lisa"],
            transcript(lines),
            fields=["rating", "purchase_intent", "concerns"],
            session=await control.begin_session("embedded extraction"),
        )
        async with serving(DEFINITION, settings) as address, open_channel(address, settings) as channel:
            response = await extraction_pb2_grpc.ResultsExtractionServiceStub(channel).ExtractResults(
                request, timeout=300
            )

    (lisa,) = response.results.individual_results
    assert lisa.agent_name == "Lisa"
    assert set(lisa.fields) == {"rating", "purchase_intent", "concerns"}
    expected = {"rating": "number_value", "purchase_intent": "string_value", "concerns": "list_value"}
    for name, value in lisa.fields.items():
        if value.WhichOneof("value") is None:  # a small model may fail a field: then it says why
            assert value.problem, name
            continue
        assert value.WhichOneof("value") == expected[name]
        assert 0.0 <= value.confidence <= 1.0
    rating = lisa.fields["rating"]
    if rating.HasField("number_value"):
        assert rating.number_value in set(range(1, 11))
    if lisa.fields["purchase_intent"].HasField("string_value"):
        assert lisa.fields["purchase_intent"].string_value in {"yes", "no", "maybe"}
    assert any(value.WhichOneof("value") is not None for value in lisa.fields.values())
    assert 0.0 <= lisa.confidence_score <= 1.0
    assert response.usage.calls == 1 and response.usage.completion_tokens > 0
