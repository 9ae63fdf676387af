"""Every call of the inner services that names a session checks it through control, before any model call:
an unknown session and another tenant's are NOT_FOUND, an ended one FAILED_PRECONDITION (SESSION_NOT_ACTIVE),
each naming the field `session`; a missing or malformed one is INVALID_ARGUMENT naming it.

The servers run as in a deployment: they accept only the mesh's internal token, and the caller's tenant
travels in `x-tenant` (set here from `current_tenant`, as the orchestrator passes its caller's on).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import AsyncIterable, Callable
from typing import Any

import grpc
import pytest
from pydantic import SecretStr
from tinytroupe_mesh_api.common.v1 import agent_pb2, study_pb2
from tinytroupe_mesh_api.content.v1 import content_pb2, content_pb2_grpc
from tinytroupe_mesh_api.extraction.v1 import extraction_pb2, extraction_pb2_grpc
from tinytroupe_mesh_api.population.v1 import population_pb2, population_pb2_grpc
from tinytroupe_mesh_api.simulation.v1 import simulation_pb2_grpc

from services.runtime.clients import open_channel
from services.runtime.testing import serving
from tests.control.helpers import acting_for
from tests.extraction.conftest import extraction_request, transcript
from tests.fixtures import TINYTROUPE_FIXTURES
from tests.rich_errors import violations
from tests.sessions import assert_session_not_active, assert_session_not_found, refusal, running_control
from tests.simulation.mesh import run_request

INTERNAL_TOKEN = SecretStr("mesh-internal-token")
SPEC = json.dumps({"type": "TinyPerson", "persona": {"name": "Ana Souza", "age": 34}})
DEMOGRAPHICS = (TINYTROUPE_FIXTURES / "populations" / "usa.json").read_text(encoding="utf-8")

Call = Callable[[Any, str], Any]
"""A call of a stub naming a session."""

CALLS: dict[str, tuple[Any, dict[str, Call]]] = {
    "population": (
        population_pb2_grpc.PopulationServiceStub,
        {
            "LoadAgent": lambda stub, session: stub.LoadAgent(
                population_pb2.LoadAgentRequest(session=session, spec_json=SPEC), timeout=10
            ),
            "GeneratePopulation": lambda stub, session: stub.GeneratePopulation(
                population_pb2.GeneratePopulationRequest(
                    session=session, demographics_json=DEMOGRAPHICS, count=2, request_id="population-1"
                ),
                timeout=10,
            ),
            "ValidateAgent": lambda stub, session: stub.ValidateAgent(
                population_pb2.ValidateAgentRequest(
                    session=session, agent=agent_pb2.Agent(spec_json=SPEC), expectations="a nurse"
                ),
                timeout=10,
            ),
        },
    ),
    "content": (
        content_pb2_grpc.ContentServiceStub,
        {
            "CreateGroundedPersona": lambda stub, session: stub.CreateGroundedPersona(
                content_pb2.CreateGroundedPersonaRequest(
                    session=session,
                    sources=[content_pb2.GroundingSource(name="notes.md", text="Ana is a nurse in Recife.")],
                ),
                timeout=10,
            ),
            "EnrichContent": lambda stub, session: stub.EnrichContent(
                content_pb2.EnrichContentRequest(session=session, content="A kettle.", requirements="a product page"),
                timeout=10,
            ),
            "GenerateDocument": lambda stub, session: stub.GenerateDocument(
                content_pb2.GenerateDocumentRequest(
                    session=session, agent=agent_pb2.Agent(spec_json=SPEC), instructions="a review"
                ),
                timeout=10,
            ),
        },
    ),
    "simulation": (
        simulation_pb2_grpc.SimulationServiceStub,
        {
            "RunSimulation": lambda stub, session: stub.RunSimulation(
                run_request(session, ["Lisa Carter"], rounds=1), timeout=10
            ),
        },
    ),
    "extraction": (
        extraction_pb2_grpc.ResultsExtractionServiceStub,
        {
            "ExtractResults": lambda stub, session: stub.ExtractResults(
                extraction_request(["Ana"], transcript(ratings={"Ana": 7}), fields=["rating"], session=session),
                timeout=10,
            ),
            "ExportResults": lambda stub, session: stub.ExportResults(
                extraction_pb2.ExportResultsRequest(
                    session=session,
                    results=study_pb2.ExtractedResults(),
                    format=extraction_pb2.EXPORT_FORMAT_JSON,
                    store=True,
                ),
                timeout=10,
            ),
        },
    ),
}


@pytest.mark.parametrize("service", sorted(CALLS))
async def test_calls_naming_a_session_check_it(service: str, settings, fake_llm, tmp_path) -> None:
    stub_type, calls = CALLS[service]
    secured = settings.model_copy(update={"internal_token": INTERNAL_TOKEN})
    definition = importlib.import_module(f"services.{service}.service").DEFINITION
    async with running_control(tmp_path / "control", secured) as control:
        served = control.serving(secured)
        async with serving(definition, served) as address, open_channel(address, served) as channel:
            stub = stub_type(channel)
            with acting_for("acme"):
                ended = await control.begin_session("acme's ended session")
                await control.end_session(ended)
                acmes = await control.begin_session("acme's session")
            for method, call in calls.items():
                with acting_for("acme"):
                    assert_session_not_found(await refusal(call(stub, "sessions/no-such-session")))
                    assert_session_not_active(await refusal(call(stub, ended)))
                    for missing_or_malformed in ("", "no-such-session", "sessions/"):
                        error = await refusal(call(stub, missing_or_malformed))
                        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (method, error.details())
                        assert violations(error) == ["session"], method
                with acting_for("globex"):
                    assert_session_not_found(await refusal(call(stub, acmes)))
            assert fake_llm.stats.total_requests == 0, "a refused session made no model call"

            # The tenant's own active session passes the check (the first call of each service).
            method, call = next(iter(calls.items()))
            with acting_for("acme"):
                answer = call(stub, acmes)
                if isinstance(answer, AsyncIterable):
                    assert [event async for event in answer], method
                else:
                    assert await answer, method
