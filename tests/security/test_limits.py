"""The documented maxima on caller text, through the real servers: INVALID_ARGUMENT naming the field."""

from __future__ import annotations

import grpc
import pytest
from tinytroupe_mesh_api.common.v1 import agent_pb2, study_pb2
from tinytroupe_mesh_api.content.v1 import content_pb2, content_pb2_grpc
from tinytroupe_mesh_api.extraction.v1 import extraction_pb2, extraction_pb2_grpc
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2_grpc
from tinytroupe_mesh_api.population.v1 import population_pb2, population_pb2_grpc
from tinytroupe_mesh_api.simulation.v1 import simulation_pb2, simulation_pb2_grpc

from services.common.limits import (
    MAX_DOCUMENT_CHARS,
    MAX_HINT_CHARS,
    MAX_INSTRUCTION_CHARS,
    MAX_SOURCES,
    MAX_STIMULUS_CHARS,
)
from services.runtime.clients import open_channel
from tests.orchestrator.support import agent_spec, small_study
from tests.rich_errors import violations

pytestmark = pytest.mark.asyncio(loop_scope="session")

SESSION = "sessions/limits"
"""Fields are checked before the session's existence, so a well-formed name is enough here."""


async def refused_fields(call) -> list[str]:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT, error.value.details()
    return violations(error.value)


async def test_a_study_with_oversized_text_is_refused_field_by_field(mesh):
    request = small_study()
    request.stimulus.content = "x" * (MAX_STIMULUS_CHARS + 1)
    request.participants.context = "x" * (MAX_INSTRUCTION_CHARS + 1)
    request.extraction_config.fields_hints["rating"] = "integer 1-10 " + "x" * MAX_HINT_CHARS
    request.extraction_config.situation = "x" * (MAX_INSTRUCTION_CHARS + 1)
    async with open_channel(mesh.addresses.orchestrator) as channel:
        fields = await refused_fields(orchestrator_pb2_grpc.OrchestratorServiceStub(channel).RunStudy(request))
    assert set(fields) == {
        "stimulus.content",
        "participants.context",
        "extraction_config.fields_hints[rating]",
        "extraction_config.situation",
    }


async def test_a_study_with_too_many_fields_is_refused(mesh):
    request = small_study()
    del request.extraction_config.fields[:]
    request.extraction_config.fields_hints.clear()
    request.extraction_config.fields.extend(f"field_{index}" for index in range(33))
    async with open_channel(mesh.addresses.orchestrator) as channel:
        fields = await refused_fields(orchestrator_pb2_grpc.OrchestratorServiceStub(channel).RunStudy(request))
    assert fields == ["extraction_config.fields"]


async def test_simulation_and_extraction_refuse_oversized_text(mesh):
    agents = [agent_pb2.Agent(spec_json=agent_spec("Ana"))]
    async with open_channel(mesh.addresses.simulation) as channel:
        stream = simulation_pb2_grpc.SimulationServiceStub(channel).RunSimulation(
            simulation_pb2.RunSimulationRequest(
                session=SESSION,
                agents=agents,
                config=study_pb2.SimulationConfig(environment_type=study_pb2.ENVIRONMENT_TYPE_SURVEY, rounds=1),
                stimulus=study_pb2.Stimulus(content="Price?", context="x" * (MAX_STIMULUS_CHARS + 1)),
            )
        )
        assert await refused_fields(stream.read()) == ["stimulus.context"]
    async with open_channel(mesh.addresses.extraction) as channel:
        request = extraction_pb2.ExtractResultsRequest(
            session=SESSION,
            agents=agents,
            transcript=[study_pb2.Interaction(agent_name="Ana", content="Yes.")],
            config=study_pb2.ExtractionConfig(
                extract_results=True, fields=["rating"], extraction_objective="x" * (MAX_INSTRUCTION_CHARS + 1)
            ),
        )
        fields = await refused_fields(extraction_pb2_grpc.ResultsExtractionServiceStub(channel).ExtractResults(request))
    assert fields == ["config.extraction_objective"]


async def test_content_refuses_oversized_documents_and_too_many_sources(mesh):
    async with open_channel(mesh.addresses.content) as channel:
        content = content_pb2_grpc.ContentServiceStub(channel)
        assert await refused_fields(
            content.EnrichContent(
                content_pb2.EnrichContentRequest(
                    session=SESSION, content="x" * (MAX_DOCUMENT_CHARS + 1), requirements="longer"
                )
            )
        ) == ["content"]
        sources = [
            content_pb2.GroundingSource(name=f"s{index}", text="A nurse in Lyon.", mime_type="text/plain")
            for index in range(MAX_SOURCES + 1)
        ]
        assert await refused_fields(
            content.CreateGroundedPersona(content_pb2.CreateGroundedPersonaRequest(session=SESSION, sources=sources))
        ) == ["sources"]
        big = [content_pb2.GroundingSource(name="big", text="x" * (MAX_DOCUMENT_CHARS + 1), mime_type="text/plain")]
        assert await refused_fields(
            content.CreateGroundedPersona(content_pb2.CreateGroundedPersonaRequest(session=SESSION, sources=big))
        ) == ["sources[0].text"]


async def test_population_refuses_oversized_text(mesh):
    async with open_channel(mesh.addresses.population) as channel:
        population = population_pb2_grpc.PopulationServiceStub(channel)
        stream = population.GeneratePopulation(
            population_pb2.GeneratePopulationRequest(
                session=SESSION,
                demographics_json='{"title": "Lyon", "description": "' + "x" * MAX_DOCUMENT_CHARS + '"}',
                count=2,
                particularities="x" * (MAX_INSTRUCTION_CHARS + 1),
            )
        )
        assert await refused_fields(stream.read()) == ["demographics_json", "particularities"]
        assert await refused_fields(
            population.LoadAgent(
                population_pb2.LoadAgentRequest(
                    session=SESSION, spec_json=agent_spec("Ana"), context="x" * (MAX_INSTRUCTION_CHARS + 1)
                )
            )
        ) == ["context"]


async def test_absurdly_nested_json_is_refused_not_an_internal_error(mesh):
    nested = "[" * 50_000 + "]" * 50_000
    request = small_study()
    request.participants.specifications[0] = nested
    async with open_channel(mesh.addresses.orchestrator) as channel:
        fields = await refused_fields(orchestrator_pb2_grpc.OrchestratorServiceStub(channel).RunStudy(request))
    assert "participants.specifications[0]" in fields
    async with open_channel(mesh.addresses.extraction) as channel:
        request = extraction_pb2.ExtractResultsRequest(
            session=SESSION,
            agents=[agent_pb2.Agent(spec_json=nested)],
            transcript=[study_pb2.Interaction(agent_name="A", content="Hi")],
            config=study_pb2.ExtractionConfig(extract_results=True, fields=["rating"]),
        )
        fields = await refused_fields(extraction_pb2_grpc.ResultsExtractionServiceStub(channel).ExtractResults(request))
    assert fields and all(field.startswith("agents[0]") for field in fields)
