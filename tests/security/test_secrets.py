"""The model key and the database URL never reach logs, metrics, answers or stored checkpoints."""

from __future__ import annotations

import grpc
import pytest
from prometheus_client import generate_latest
from pydantic import SecretStr
from tinytroupe_mesh_api.control.v1 import control_pb2, control_pb2_grpc
from tinytroupe_mesh_api.extraction.v1 import extraction_pb2_grpc

from services.control.service import DEFINITION as CONTROL
from services.extraction.service import DEFINITION as EXTRACTION
from services.runtime.clients import open_channel
from services.runtime.config import LLMSettings, MeshSettings
from services.runtime.testing import serving
from tests.extraction.conftest import extraction_request, transcript
from tests.fake_llm import FakeLLMServer

LLM_KEY = "sk-canary-7f3a9c2e41d8"
DB_PASSWORD = "canary-pw-5b71e0"


async def test_the_model_key_stays_out_of_logs_metrics_answers_and_checkpoints(tmp_path, capfd):
    async with FakeLLMServer() as fake, serving(CONTROL, MeshSettings(data_dir=tmp_path)) as control_address:
        settings = MeshSettings(
            data_dir=tmp_path,
            control_address=control_address,
            llm=LLMSettings(
                base_url=fake.base_url, api_key=SecretStr(LLM_KEY), timeout_s=2, max_retries=1, backoff_base_s=0.01
            ),
        )
        async with (
            serving(EXTRACTION, settings) as address,
            open_channel(address, settings) as channel,
            open_channel(control_address, settings) as control_channel,
        ):
            control = control_pb2_grpc.SimulationControlServiceStub(control_channel)
            session = await control.BeginSession(
                control_pb2.BeginSessionRequest(session=control_pb2.Session(display_name="secrets")), timeout=5
            )
            stub = extraction_pb2_grpc.ResultsExtractionServiceStub(channel)
            request = extraction_request(["Ana", "Ben"], transcript(ratings={"Ana": 7, "Ben": 3}), fields=["rating"])
            request.session = session.name
            await stub.ExtractResults(request, timeout=20)
            assert fake.stats.requests, "the model was called"

            fake.configure(rate_500=1.0)
            request.config.fields[:] = ["satisfaction"]
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                await stub.ExtractResults(request, timeout=20)
            answer_text = f"{failure.value.details()} {failure.value.trailing_metadata()}"

            checkpoints = await control.ListCheckpoints(
                control_pb2.ListCheckpointsRequest(parent=session.name), timeout=5
            )
            stored = [
                (await control.GetCheckpoint(control_pb2.GetCheckpointRequest(name=c.name), timeout=5)).payload
                for c in checkpoints.checkpoints
            ]

    logs = "".join(capfd.readouterr())
    assert "rpc" in logs, "the logs were captured"
    assert LLM_KEY not in logs
    assert LLM_KEY not in answer_text
    assert LLM_KEY.encode() not in generate_latest()
    assert all(LLM_KEY.encode() not in payload for payload in stored)
    assert LLM_KEY not in repr(settings) and LLM_KEY not in str(settings.model_dump())


@pytest.mark.slow
async def test_a_database_url_with_a_password_stays_out_of_start_up_errors(tmp_path, capfd):
    url = f"postgresql://postgres:{DB_PASSWORD}@127.0.0.1:1/test"
    settings = MeshSettings(data_dir=tmp_path, database_url=SecretStr(url))
    with pytest.raises(Exception) as failure:  # noqa: B017  (whatever the driver raises, it must not leak)
        async with serving(CONTROL, settings):
            pass
    logs = "".join(capfd.readouterr())
    assert DB_PASSWORD not in str(failure.value) and DB_PASSWORD not in repr(failure.value)
    assert DB_PASSWORD not in logs
    assert DB_PASSWORD not in repr(settings)
