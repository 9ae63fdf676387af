"""A large survey fanned out: population, simulation (and its resumption) in parts, merged as one study."""

from __future__ import annotations

import json
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator

import grpc
import pytest
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.engine.demographics import Demographics
from services.engine.names import normalize_name
from services.engine.population_plan import plan_population
from services.extraction.servicer import ExtractionServicer
from services.population.servicer import PopulationServicer
from services.simulation.servicer import SimulationServicer
from tests.fake_llm import FakeLLMServer
from tests.orchestrator.support import EXAMPLES, Stubs, mesh_on, small_study

AGENTS = 7
CHUNK = 3
DEMOGRAPHICS = (EXAMPLES / "populations" / "portside.json").read_text()
CONTEXT = "a city survey on bike lanes"


def survey(rounds: int = 1, cache_file: str | None = None) -> orchestrator_pb2.RunStudyRequest:
    study = small_study(rounds=rounds, environment=study_pb2.ENVIRONMENT_TYPE_SURVEY)
    study.simulation_config.broadcast_mode = False
    study.participants.mode = orchestrator_pb2.Participants.MODE_FROM_DEMOGRAPHICS
    study.participants.specifications[:] = [DEMOGRAPHICS]
    study.participants.count = AGENTS
    study.participants.context = CONTEXT
    if cache_file:
        study.session_config.cache_file = cache_file
    return study


class Calls:
    """The requests the in-process servers received, by method."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.requests: dict[str, list] = defaultdict(list)
        self.cut_after_round: set[str] = set()
        """Ends of RunSimulation request ids whose stream is cut (UNAVAILABLE) after their first round, once."""
        for servicer, method in (
            (PopulationServicer, "GeneratePopulation"),
            (SimulationServicer, "RunSimulation"),
            (SimulationServicer, "ResumeSimulation"),
        ):
            monkeypatch.setattr(servicer, method, self._counted(method, getattr(servicer, method)))
        original_extract = ExtractionServicer.ExtractResults

        async def extract(servicer, request, context):
            self.requests["ExtractResults"].append(request)
            return await original_extract(servicer, request, context)

        monkeypatch.setattr(ExtractionServicer, "ExtractResults", extract)

    def _counted(self, method: str, original):
        calls = self

        async def counted(servicer, request, context):
            calls.requests[method].append(request)
            request_id = getattr(request, "request_id", "")
            cut = next((end for end in calls.cut_after_round if request_id.endswith(end)), None)
            async for message in original(servicer, request, context):
                yield message
                if cut and message.WhichOneof("event") == "round_checkpointed":
                    calls.cut_after_round.discard(cut)
                    await context.abort(grpc.StatusCode.UNAVAILABLE, "the replica went away")

        return counted


@pytest.fixture
async def fanned_out(tmp_path, monkeypatch) -> AsyncIterator[tuple[Calls, Stubs]]:
    monkeypatch.setenv("STUDY_FAN_OUT_CHUNK", str(CHUNK))
    calls = Calls(monkeypatch)
    async with FakeLLMServer(latency=0.01, seed=3) as fake, mesh_on(fake, tmp_path) as stubs:
        yield calls, stubs


async def run(stubs: Stubs, study: orchestrator_pb2.RunStudyRequest) -> orchestrator_pb2.StudyResult:
    operation = await stubs.orchestrator.RunStudy(study)
    return await stubs.result(operation.name, timeout_s=120)


def simulations_agents(simulations: list) -> list:
    """The agents of the parts' RunSimulation requests, in part order."""
    ordered = sorted(simulations, key=lambda request: request.checkpoint_suffix)
    return [agent for request in ordered for agent in request.agents]


def characteristics(agent) -> tuple:
    return tuple(sorted(json.loads(agent.provenance.plan_entry_json)["characteristics"].items()))


async def test_a_large_survey_runs_in_parts_and_merges_as_one_study(fanned_out):
    calls, stubs = fanned_out
    result = await run(stubs, survey())

    assert result.status == orchestrator_pb2.STUDY_STATUS_COMPLETED, result.participant_failures
    population = calls.requests["GeneratePopulation"]
    assert [request.plan_only for request in population] == [True, False, False, False]
    parts = sorted((request.first_member, request.member_count) for request in population[1:])
    assert parts == [(0, 3), (3, 2), (5, 2)]
    assert all(len(request.plan.entries) == len(population[1].plan.entries) for request in population[1:])
    simulations = calls.requests["RunSimulation"]
    assert sorted(request.checkpoint_suffix for request in simulations) == ["_part_1", "_part_2", "_part_3"]
    assert sorted(len(request.agents) for request in simulations) == [2, 2, 3]

    names = [interaction.agent_name for interaction in result.simulation_results.interactions]
    agents = sorted({name for name in names if name != "moderator"})
    assert len(agents) == AGENTS
    assert len({normalize_name(name) for name in agents}) == AGENTS, "names are unique across the parts"
    assert [i.sequence for i in result.simulation_results.interactions] == list(range(len(names)))
    stimuli = [i for i in result.simulation_results.interactions if i.action == study_pb2.ACTION_TYPE_STIMULUS]
    assert len(stimuli) == 1 and stimuli[0].sequence == 0, "every part's stimulus is shown once"
    acting = list(dict.fromkeys(name for name in names if name != "moderator"))
    assert acting == sorted(acting), "the agents act in the study's order, part after part"
    assert result.participants.successful == AGENTS

    extractions = calls.requests["ExtractResults"]
    assert sorted(len(request.agents) for request in extractions) == [2, 2, 3]
    assert not any(request.config.statistical_analysis for request in extractions), "statistics come once"
    extracted = result.extracted_results
    assert [r.agent_name for r in extracted.individual_results] == [a.name for a in simulations_agents(simulations)]
    assert [s.field for s in extracted.aggregate_statistics] == ["would_buy", "rating"]
    assert all(s.total_count == AGENTS for s in extracted.aggregate_statistics)
    assert extracted.statistical_analysis.HasField("quality_metrics")
    assert result.metadata.quality_score == extracted.statistical_analysis.quality_metrics.score > 0

    session = result.session_id
    ids = await stubs.checkpoint_ids(session.replace("sessions/", "operations/"))
    assert {"simulation_complete", "simulation_complete_part_1", "round_1_part_3"} <= set(ids)

    plan = await plan_population(None, Demographics.model_validate_json(DEMOGRAPHICS), AGENTS, CONTEXT)
    quotas = Counter({tuple(sorted(entry.characteristics.items())): entry.quantity for entry in plan.entries})
    checkpoint = await stubs.control_client.load_message(session, "agents_created", orchestrator_pb2.AgentsCreated)
    assert Counter(characteristics(agent) for agent in checkpoint.agents) == quotas, "the demographics' quotas"


async def test_a_part_cut_off_resumes_from_its_own_round_checkpoint(fanned_out):
    calls, stubs = fanned_out
    study = survey(rounds=2)
    session_request_ids = "-simulation_part_2"
    operation = await stubs.orchestrator.RunStudy(study)
    calls.cut_after_round.add(operation.name.removeprefix("operations/") + session_request_ids)
    result = await stubs.result(operation.name, timeout_s=120)

    assert result.status == orchestrator_pb2.STUDY_STATUS_COMPLETED, result.participant_failures
    resumed = calls.requests["ResumeSimulation"]
    assert [request.checkpoint.rsplit("/", 1)[-1] for request in resumed] == ["round_1_part_2"]
    assert result.simulation_results.rounds_completed == 2
    assert result.participants.successful == AGENTS
    rounds = Counter(i.round for i in result.simulation_results.interactions if i.agent_name != "moderator")
    assert set(rounds) == {1, 2} and rounds[1] >= AGENTS and rounds[2] >= AGENTS, rounds
    assert len(calls.requests["RunSimulation"]) == 3, "the cut part is resumed, not run again"


async def test_a_study_within_one_part_is_not_split(fanned_out):
    calls, stubs = fanned_out
    study = survey()
    study.participants.count = CHUNK
    result = await run(stubs, study)
    assert result.status == orchestrator_pb2.STUDY_STATUS_COMPLETED
    assert [request.plan_only for request in calls.requests["GeneratePopulation"]] == [False]
    assert [request.checkpoint_suffix for request in calls.requests["RunSimulation"]] == [""]
    assert len(calls.requests["ExtractResults"]) == 1


async def test_a_survey_in_parts_gives_the_study_it_gives_in_one_call(tmp_path, monkeypatch):
    cache_file = f"fan-out-{uuid.uuid4().hex[:8]}"
    results, requests = {}, {}
    for chunk in ("0", str(CHUNK)):
        monkeypatch.setenv("STUDY_FAN_OUT_CHUNK", chunk)
        async with FakeLLMServer(latency=0.01, seed=3) as fake, mesh_on(fake, tmp_path / chunk) as stubs:
            results[chunk] = await run(stubs, survey(cache_file=cache_file))
            requests[chunk] = fake.stats.total_requests
    whole, parted = results["0"], results[str(CHUNK)]
    assert parted.participants == whole.participants
    assert len(parted.extracted_results.individual_results) == len(whole.extracted_results.individual_results)

    def shape(result: orchestrator_pb2.StudyResult) -> tuple:
        interactions = result.simulation_results.interactions
        return (
            [i.sequence for i in interactions] == list(range(len(interactions))),
            [(i.round, i.agent_name) for i in interactions if i.action == study_pb2.ACTION_TYPE_STIMULUS],
            len({i.agent_name for i in interactions if i.action != study_pb2.ACTION_TYPE_STIMULUS}),
            result.simulation_results.rounds_completed,
        )

    assert shape(parted) == shape(whole) == (True, [(0, "moderator")], AGENTS, 1)
    assert [(s.field, s.total_count) for s in parted.extracted_results.aggregate_statistics] == [
        (s.field, s.total_count) for s in whole.extracted_results.aggregate_statistics
    ]
    usage = {chunk: result.metadata.token_usage.calls for chunk, result in results.items()}
    assert usage == requests, "the study's usage counts each model call once, also over parts"


async def test_a_spent_budget_stops_every_part_after_the_round_it_was_spent_in(fanned_out):
    calls, stubs = fanned_out
    names = tuple(f"Person {letter}" for letter in "ABCDEFG")
    study = small_study(names, rounds=3, environment=study_pb2.ENVIRONMENT_TYPE_SURVEY)
    study.simulation_config.broadcast_mode = False
    study.max_tokens = 500  # one round of seven turns spends more

    result = await run(stubs, study)

    assert result.status == orchestrator_pb2.STUDY_STATUS_PARTIAL
    assert result.end_reason == orchestrator_pb2.STUDY_END_REASON_BUDGET_EXHAUSTED
    assert len(calls.requests["RunSimulation"]) == 3
    assert result.simulation_results.rounds_completed == 1
    assert {i.round for i in result.simulation_results.interactions} <= {0, 1}
    assert len({i.agent_name for i in result.simulation_results.interactions if i.round == 1}) == len(names)
    assert not calls.requests["ExtractResults"], "no extraction once the budget is spent"
