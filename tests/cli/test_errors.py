"""The CLI's reading of the mesh's errors: rich details through the runtime's readers, and what to do next."""

from __future__ import annotations

import json
from types import SimpleNamespace

import grpc
import pytest
from google.rpc import code_pb2, status_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2

from services.cli.connection import FinishedCall, MeshConnection, describe_error
from services.common.model_errors import model_failure
from services.llm.errors import LLMRequestError
from services.orchestrator.quotas import QuotaExceeded, StudyQuotas
from services.orchestrator.settings import StudySettings
from services.runtime.config import MeshSettings
from services.runtime.errors import InvalidArgument
from tests.cli.support import rpc_error


def test_a_rejected_model_call_reads_as_what_it_is():
    rejected = model_failure("turn of Ana", LLMRequestError("HTTP 404: Not Found", status_code=404))
    for failure in (rpc_error(grpc.StatusCode.FAILED_PRECONDITION, error=rejected), FinishedCall(rejected.to_status())):
        text = describe_error(failure)
        assert text.startswith("FAILED_PRECONDITION: turn of Ana: the model endpoint rejected the request")
        assert "check LLM_BASE_URL" in text and "/v1" in text


def test_field_violations_are_listed_one_a_line():
    invalid = InvalidArgument(
        "simulation_config.rounds", "must be 1 to 50, not 0", more=[("participants.mode", "must be set")]
    )
    text = describe_error(rpc_error(grpc.StatusCode.INVALID_ARGUMENT, error=invalid))
    assert text.splitlines() == [
        "INVALID_ARGUMENT: the request has invalid fields",
        "  simulation_config.rounds: must be 1 to 50, not 0",
        "  participants.mode: must be set",
    ]


def test_a_finished_operations_error_without_details_keeps_its_code_and_message():
    text = describe_error(FinishedCall(status_pb2.Status(code=code_pb2.ABORTED, message="simulation aborted")))
    assert text == "ABORTED: simulation aborted"


async def test_quota_refusals_count_in_words_and_say_when_to_retry():
    quotas = StudyQuotas(None, StudySettings(creation_rate_per_minute=1, creation_burst=1, max_running_per_tenant=1))
    quotas.take_creation_token("alpha")
    with pytest.raises(QuotaExceeded) as rate:
        quotas.take_creation_token("alpha")
    assert rate.value.message.startswith("at most 1 new study a minute (bursts of 1); retry in ")
    text = describe_error(rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED, error=rate.value))
    assert text.splitlines()[-1].startswith("retry in ")

    async def list_sessions(request, **options):
        return control_pb2.ListSessionsResponse(sessions=[control_pb2.Session(name="sessions/other")])

    quotas.control = SimpleNamespace(stub=SimpleNamespace(ListSessions=list_sessions))
    with pytest.raises(QuotaExceeded) as running:
        await quotas.check_running("alpha", control_pb2.Session(name="sessions/new"))
    assert "this tenant already runs 1 study, the most at once" in running.value.message


def test_the_connection_knows_a_stopped_local_mesh(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    settings = MeshSettings(data_dir=data_dir)
    state = {"launcher_pid": 2**22 + 1, "services": {"orchestrator": {"address": "127.0.0.1:50050"}}}
    (data_dir / "mesh.json").write_text(json.dumps(state))
    connection = MeshConnection.from_settings(settings, "127.0.0.1:50050")
    assert connection.launcher_pid == state["launcher_pid"] and connection.local_mesh_stopped()
    elsewhere = MeshConnection.from_settings(settings, "mesh.example.com:443")
    assert elsewhere.launcher_pid is None and not elsewhere.local_mesh_stopped()
