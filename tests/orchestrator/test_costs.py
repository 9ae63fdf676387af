"""Cost governance through the real mesh on the fake model: the estimate before a study, the usage of every
service in its ledger, its budget during it, and its spend on the watch stream."""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.rpc import error_details_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.orchestrator.study_file import load_experiment_file
from tests.orchestrator.support import EXAMPLES, example, small_study
from tests.rich_errors import error_details

pytestmark = pytest.mark.asyncio(loop_scope="session")

EXAMPLE_STUDIES = ["focus_group.json", "survey.yaml", "interview.json", "custom_personas.yaml"]


def within(figure: orchestrator_pb2.EstimateRange, actual: float) -> bool:
    return figure.low <= actual <= figure.high


def talkative(mesh, names) -> None:
    mesh.fake.script(
        rf"^You are ({'|'.join(names)})\.",
        {
            "actions": [
                {"type": "TALK", "target": "", "content": "I would buy it if it boils fast."},
                {"type": "DONE", "target": "", "content": ""},
            ]
        },
        on="system",
    )


@pytest.mark.parametrize("study_file", EXAMPLE_STUDIES)
async def test_the_estimate_of_each_example_study_holds_its_actual_usage(stubs, mesh, study_file):
    study = example(study_file)
    estimate = await stubs.orchestrator.EstimateStudy(orchestrator_pb2.EstimateStudyRequest(study=study))
    requests_before = mesh.fake.stats.total_requests

    result = await stubs.result((await stubs.orchestrator.RunStudy(study)).name, timeout_s=120)

    usage = result.metadata.token_usage
    requests = mesh.fake.stats.total_requests - requests_before
    assert usage.model_requests == requests, "every request the model got is in the study's usage"
    assert within(estimate.model_calls, usage.calls), (estimate.model_calls, usage.calls)
    assert within(estimate.prompt_tokens, usage.prompt_tokens), (estimate.prompt_tokens, usage.prompt_tokens)
    assert within(estimate.completion_tokens, usage.completion_tokens), (
        estimate.completion_tokens,
        usage.completion_tokens,
    )
    assert estimate.model_calls.low <= estimate.model_calls.expected <= estimate.model_calls.high
    assert not estimate.HasField("cost"), "the fake model has no price: its cost is unknown, not 0"
    assert usage.unpriced_calls == usage.model_requests
    assert estimate.critical_path.ToNanoseconds() == estimate.sequential_calls * 2 * 10**9
    assert result.estimate.model_calls == estimate.model_calls, "the result keeps the estimate it started with"


async def test_usage_counts_every_service_population_and_validation_included(stubs, mesh):
    study = example("survey.yaml")  # generated participants: population's calls
    study.participants.expectations = "A resident of Portside with a view on traffic."
    estimate = await stubs.orchestrator.EstimateStudy(orchestrator_pb2.EstimateStudyRequest(study=study))
    result = await stubs.result((await stubs.orchestrator.RunStudy(study)).name, timeout_s=120)
    assert within(estimate.model_calls, result.metadata.token_usage.calls), estimate.model_calls
    assert within(estimate.prompt_tokens, result.metadata.token_usage.prompt_tokens), estimate.prompt_tokens

    ledger = await stubs.control.GetUsageLedger(control_pb2.GetUsageLedgerRequest(session=result.session_id))
    services = {entry.service for entry in ledger.entries}
    assert {"population", "simulation"} <= services
    phases = {share.key: share.usage for share in result.metadata.usage_by_phase}
    assert phases["creating_agents"].calls >= 5 + 5 * 3, "five generated persons and their validation interviews"
    assert phases["simulating"].calls == 5
    total = result.metadata.token_usage
    assert sum(share.usage.prompt_tokens for share in result.metadata.usage_by_phase) == total.prompt_tokens
    assert sum(share.usage.calls for share in result.metadata.usage_by_model) == total.calls
    assert total.prompt_tokens > phases["simulating"].prompt_tokens > 0
    by_agent = {share.key: share.usage for share in result.metadata.usage_by_agent}
    validated = {validation.agent_name for validation in result.validations}
    assert len(validated) == 5 and validated <= set(by_agent), (validated, set(by_agent))
    # Its turn, and its validation interview: the questions, one answer or more, the judgement.
    assert all(by_agent[name].calls >= 1 + 3 for name in validated), {k: v.calls for k, v in by_agent.items()}


async def test_a_replayed_study_reports_its_cache_hits_apart_with_the_tokens_they_saved(stubs, mesh):
    first = small_study(rounds=1)
    done = await stubs.result((await stubs.orchestrator.RunStudy(first)).name)
    again = small_study(rounds=1)
    again.session_config.cache_file = first.session_config.cache_file
    requests_before = mesh.fake.stats.total_requests
    replayed = await stubs.result((await stubs.orchestrator.RunStudy(again)).name)

    usage = replayed.metadata.token_usage
    assert mesh.fake.stats.total_requests == requests_before, "the replay costs no model call"
    assert (usage.calls, usage.prompt_tokens, usage.completion_tokens) == (0, 0, 0)
    assert usage.cached_calls == done.metadata.token_usage.calls
    assert usage.saved_tokens == done.metadata.token_usage.prompt_tokens + done.metadata.token_usage.completion_tokens


async def test_a_study_over_max_tokens_ends_partial_keeping_its_rounds_and_calls_no_model_after(stubs, mesh):
    names = tuple(f"{name}{uuid.uuid4().hex[:6]}" for name in ("Ana", "Ben", "Cyd"))
    talkative(mesh, names)
    study = small_study(names, rounds=4)
    study.max_tokens = 500  # one round of three turns spends more
    requests_before = mesh.fake.stats.total_requests

    result = await stubs.result((await stubs.orchestrator.RunStudy(study)).name, timeout_s=120)

    assert result.status == orchestrator_pb2.STUDY_STATUS_PARTIAL
    assert result.end_reason == orchestrator_pb2.STUDY_END_REASON_BUDGET_EXHAUSTED
    assert result.simulation_results.rounds_completed == 1
    assert len(result.simulation_results.interactions) >= 3, "the round's transcript is kept"
    assert not result.participant_failures, "refused calls are the budget's, not the agents' failures"
    usage = result.metadata.token_usage
    assert usage.calls == 3 and usage.prompt_tokens + usage.completion_tokens >= 500, usage
    assert mesh.fake.stats.total_requests - requests_before == usage.model_requests == 3, (
        "no model call after the budget was spent: no second round, no extraction"
    )


async def test_an_invalid_budget_is_refused_naming_its_field(stubs, mesh):
    study = small_study()
    study.max_tokens = -1
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stubs.orchestrator.RunStudy(study)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    [bad] = error_details(refused.value, error_details_pb2.BadRequest)
    assert [violation.field for violation in bad.field_violations] == ["max_tokens"]

    priced = small_study()
    priced.max_cost = 1.0
    with pytest.raises(grpc.aio.AioRpcError) as unpriced:
        await stubs.orchestrator.RunStudy(priced)
    assert unpriced.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "has no price" in unpriced.value.details()


async def test_watch_study_carries_the_tokens_spent_so_far(stubs, mesh):
    study = small_study(rounds=2)
    operation = await stubs.orchestrator.RunStudy(study)
    seen = [
        progress
        async for progress in stubs.orchestrator.WatchStudy(orchestrator_pb2.WatchStudyRequest(name=operation.name))
    ]
    result = await stubs.result(operation.name)
    spent = [progress.usage.prompt_tokens + progress.usage.completion_tokens for progress in seen]
    assert spent == sorted(spent), "the spend never goes back"
    assert seen[-1].phase == orchestrator_pb2.PHASE_DONE
    final = result.metadata.token_usage
    assert spent[-1] == final.prompt_tokens + final.completion_tokens > 0
    assert seen[-1].usage.calls == final.calls


async def test_the_estimate_of_an_example_experiment_holds_its_actual_usage(stubs, mesh):
    experiment = load_experiment_file(EXAMPLES / "experiments" / "price_ab.yaml")
    experiment.request_id = uuid.uuid4().hex
    experiment.session_config.cache_file = f"test-{uuid.uuid4().hex[:12]}"
    estimate = await stubs.orchestrator.EstimateExperiment(
        orchestrator_pb2.EstimateExperimentRequest(experiment=experiment)
    )
    requests_before = mesh.fake.stats.total_requests

    operation = await stubs.orchestrator.RunExperiment(experiment)
    done = await stubs.wait(operation.name, timeout_s=180)
    result = orchestrator_pb2.ExperimentResult()
    assert done.response.Unpack(result)

    usage = result.token_usage
    assert usage.model_requests == mesh.fake.stats.total_requests - requests_before
    assert within(estimate.model_calls, usage.calls), (estimate.model_calls, usage.calls)
    assert within(estimate.prompt_tokens, usage.prompt_tokens), (estimate.prompt_tokens, usage.prompt_tokens)
    assert within(estimate.completion_tokens, usage.completion_tokens), (
        estimate.completion_tokens,
        usage.completion_tokens,
    )
    assert result.estimate.model_calls == estimate.model_calls


async def test_a_budget_spent_while_making_participants_ends_the_study_before_its_simulation(stubs, mesh):
    study = example("survey.yaml")
    study.max_tokens = 100  # less than one generated person
    requests_before = mesh.fake.stats.total_requests

    result = await stubs.result((await stubs.orchestrator.RunStudy(study)).name, timeout_s=120)

    assert result.status == orchestrator_pb2.STUDY_STATUS_PARTIAL
    assert result.end_reason == orchestrator_pb2.STUDY_END_REASON_BUDGET_EXHAUSTED
    assert result.simulation_results.rounds_completed == 0 and not result.simulation_results.interactions
    phases = {share.key for share in result.metadata.usage_by_phase}
    assert phases == {"creating_agents"}, "no turn and no extraction once the budget was spent"
    assert mesh.fake.stats.total_requests - requests_before == result.metadata.token_usage.model_requests
