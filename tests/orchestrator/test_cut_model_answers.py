"""A model endpoint that cuts answers short and throttles: every invalid answer gets a fresh attempt
(a new sample, up to `output_attempts` answers), every 429 and 500 a retry, so a study still completes
with every agent; only valid answers reach the cache, so a replay of the study asks the model nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from tests.fake_llm import FakeLLMServer
from tests.orchestrator.support import Stubs, mesh_on, small_study

AGENTS = ("Ana", "Ben", "Caio", "Dora", "Emil", "Fay", "Gus", "Hana")
ROUNDS = 2
FAULTS = {"rate_truncated": 0.2, "rate_429": 0.3, "rate_500": 0.1}
OUTPUT_ATTEMPTS = 8
"""With 40 % of the requests refused, a cut answer is a third of the answers: 3 attempts (the default)
leave one call in 27 without a valid answer, about one agent lost in two such studies; 8 leave one in
6,561, and the study's 20-odd calls all succeed."""
MAX_RETRIES = 12
"""13 requests in a row refused (0.4 ** 13) happen once in 150,000 attempts."""


@pytest.fixture
async def mesh_on_a_cutting_model(tmp_path) -> AsyncIterator[tuple[FakeLLMServer, Stubs]]:
    async with FakeLLMServer(latency=0.01, seed=7, **FAULTS) as fake:
        async with mesh_on(
            fake, tmp_path, timeout_s=20.0, max_retries=MAX_RETRIES, output_attempts=OUTPUT_ATTEMPTS
        ) as stubs:
            yield fake, stubs


async def run(stubs: Stubs, request: orchestrator_pb2.RunStudyRequest) -> orchestrator_pb2.StudyResult:
    operation = await stubs.orchestrator.RunStudy(request)
    return await stubs.result(operation.name, timeout_s=120)


async def test_a_study_completes_when_the_model_cuts_answers_short(mesh_on_a_cutting_model):
    fake, stubs = mesh_on_a_cutting_model
    study = small_study(AGENTS, rounds=ROUNDS, stimulus="Would you buy a solar kettle?")

    result = await run(stubs, study)

    assert result.status == orchestrator_pb2.STUDY_STATUS_COMPLETED, result.participant_failures
    assert (result.participants.successful, result.participants.failed) == (len(AGENTS), 0)
    assert result.simulation_results.rounds_completed == ROUNDS
    assert len(result.extracted_results.individual_results) == len(AGENTS)
    cut, refused = fake.stats.count("truncated"), fake.stats.count("rate_limited") + fake.stats.count("server_error")
    assert cut >= 4 and refused >= 10, fake.stats.by_outcome

    replay = orchestrator_pb2.RunStudyRequest()
    replay.CopyFrom(study)  # the same cache file: every answer comes from the cache
    replay.request_id = uuid.uuid4().hex
    requests_before = fake.stats.total_requests
    replayed = await run(stubs, replay)

    assert fake.stats.total_requests == requests_before, "no invalid answer was cached: the replay asks nothing"
    assert replayed.status == orchestrator_pb2.STUDY_STATUS_COMPLETED
    assert list(replayed.simulation_results.interactions) == list(result.simulation_results.interactions)
    assert replayed.extracted_results.SerializeToString(
        deterministic=True
    ) == result.extracted_results.SerializeToString(deterministic=True)
    assert replayed.metadata.token_usage.cached_calls == result.metadata.token_usage.calls
