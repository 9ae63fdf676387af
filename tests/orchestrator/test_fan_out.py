"""Splitting a study into parts and merging the parts: ranges, transcripts, worlds, populations."""

from __future__ import annotations

import json

from tinytroupe_mesh_api.common.v1 import agent_pb2, study_pb2
from tinytroupe_mesh_api.extraction.v1 import extraction_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2
from tinytroupe_mesh_api.simulation.v1 import simulation_pb2

from services.orchestrator.fan_out import (
    merge_created,
    merge_transcripts,
    merge_worlds,
    part_ranges,
    splits_simulation,
)
from services.orchestrator.fan_out_extraction import extraction_part, merge_extractions
from services.orchestrator.fan_out_simulation import latest_part_round
from tests.orchestrator.support import agent_spec, small_study

STIMULUS = study_pb2.ACTION_TYPE_STIMULUS
TALK = study_pb2.ACTION_TYPE_TALK


def said(round_: int, name: str, content: str, sequence: int, step: int = 0) -> study_pb2.Interaction:
    return study_pb2.Interaction(
        round=round_, agent_name=name, action=TALK, content=content, sequence=sequence, step=step
    )


def shown(round_: int, content: str, sequence: int, step: int = 0) -> study_pb2.Interaction:
    return study_pb2.Interaction(
        round=round_, agent_name="moderator", action=STIMULUS, content=content, sequence=sequence, step=step
    )


def test_part_ranges_are_even_and_cover_everything_once():
    assert part_ranges(10, 0) == [(0, 10)]
    assert part_ranges(10, 10) == [(0, 10)]
    assert part_ranges(10, 4) == [(0, 4), (4, 3), (7, 3)]
    assert part_ranges(1000, 100) == [(index * 100, 100) for index in range(10)]
    ranges = part_ranges(101, 50)
    assert ranges == [(0, 34), (34, 34), (68, 33)]
    assert sum(count for _, count in ranges) == 101


def test_transcripts_merge_round_by_round_with_the_stimulus_once_and_sequence_renumbered():
    first = [shown(0, "Do you like tea?", 0), said(1, "Ana", "yes", 1), said(2, "Ana", "still yes", 2)]
    second = [
        shown(0, "Do you like tea?", 0),
        said(1, "Ben", "no", 1),
        said(1, "Cy", "maybe", 2),
        said(2, "Ben", "still no", 3),
    ]
    merged = merge_transcripts([first, second])
    assert [(i.round, i.agent_name, i.content) for i in merged] == [
        (0, "moderator", "Do you like tea?"),
        (1, "Ana", "yes"),
        (1, "Ben", "no"),
        (1, "Cy", "maybe"),
        (2, "Ana", "still yes"),
        (2, "Ben", "still no"),
    ]
    assert [i.sequence for i in merged] == list(range(6))
    assert first[1].sequence == 1, "the parts' interactions are left as they were"


def test_transcripts_of_a_plan_keep_the_steps_in_order_and_each_distinct_follow_up():
    first = [shown(0, "Q1", 0, step=1), said(1, "Ana", "a1", 1, step=1), shown(2, "Q2", 2, step=2)]
    second = [shown(0, "Q1", 0, step=1), said(1, "Ben", "b1", 1, step=1), shown(2, "Q2", 2, step=2)]
    second.append(shown(2, "Ben, why?", 3, step=2))
    merged = merge_transcripts([first, second])
    assert [(i.step, i.agent_name, i.content) for i in merged] == [
        (1, "moderator", "Q1"),
        (1, "Ana", "a1"),
        (1, "Ben", "b1"),
        (2, "moderator", "Q2"),
        (2, "moderator", "Ben, why?"),
    ]


def world(names: list[str], failed: dict[str, int], calls: int, transcript: list) -> simulation_pb2.WorldState:
    return simulation_pb2.WorldState(
        agents=[agent_pb2.Agent(name=name) for name in names],
        config=study_pb2.SimulationConfig(environment_type=study_pb2.ENVIRONMENT_TYPE_SURVEY, rounds=1),
        stimulus=study_pb2.Stimulus(content="Do you like tea?"),
        rounds_completed=1,
        transcript=transcript,
        failed_agents=failed,
        usage=study_pb2.TokenUsage(calls=calls, prompt_tokens=10 * calls, cost=0.5 * calls),
        checkpoint_suffix="_part_1",
    )


def test_worlds_merge_agents_in_part_order_failures_joined_usage_summed():
    merged = merge_worlds(
        [
            world(["Ana", "Ben"], {"Ben": 1}, 2, [shown(0, "Do you like tea?", 0), said(1, "Ana", "yes", 1)]),
            world(["Cy", "Dee"], {}, 3, [shown(0, "Do you like tea?", 0), said(1, "Cy", "no", 1)]),
        ]
    )
    assert [agent.name for agent in merged.agents] == ["Ana", "Ben", "Cy", "Dee"]
    assert dict(merged.failed_agents) == {"Ben": 1}
    assert (merged.usage.calls, merged.usage.prompt_tokens, merged.usage.cost) == (5, 50, 2.5)
    assert [i.content for i in merged.transcript] == ["Do you like tea?", "yes", "no"]
    assert merged.stimulus.content == "Do you like tea?" and merged.rounds_completed == 1
    assert merged.checkpoint_suffix == ""


def person(name: str) -> agent_pb2.Agent:
    return agent_pb2.Agent(name=name, spec_json=agent_spec(name))


def test_created_parts_merge_with_names_told_apart_failures_in_order_usage_summed():
    first = orchestrator_pb2.AgentsCreated(
        requested=2,
        agents=[person("Ana Souza"), person("Ben Lee")],
        failures=[orchestrator_pb2.ParticipantFailure(index=0, reason="first")],
        usage=study_pb2.TokenUsage(calls=3),
    )
    second = orchestrator_pb2.AgentsCreated(
        requested=2,
        agents=[person("ana souza"), person("Cy Ode")],
        validations=[orchestrator_pb2.AgentValidation(agent_name="ana souza", score=0.9)],
        failures=[orchestrator_pb2.ParticipantFailure(index=3, reason="second")],
        usage=study_pb2.TokenUsage(calls=4),
    )
    merged = merge_created([first, second], 5)
    names = [agent.name for agent in merged.agents]
    assert names == ["Ana Souza", "Ben Lee", "ana souza II", "Cy Ode"]
    assert json.loads(merged.agents[2].spec_json)["persona"]["name"] == "ana souza II"
    assert merged.validations[0].agent_name == "ana souza II"
    assert [failure.reason for failure in merged.failures] == ["first", "second"]
    assert merged.usage.calls == 7 and merged.requested == 5


def test_only_large_worlds_of_independent_agents_split():
    survey = small_study(environment=study_pb2.ENVIRONMENT_TYPE_SURVEY)
    assert splits_simulation(survey, 10, 4)
    assert not splits_simulation(survey, 4, 4), "a study that fits in one part runs as one"
    assert not splits_simulation(survey, 10, 0), "0 never splits"
    assert not splits_simulation(small_study(environment=study_pb2.ENVIRONMENT_TYPE_FOCUS_GROUP), 10, 4)
    assert splits_simulation(small_study(environment=study_pb2.ENVIRONMENT_TYPE_INTERVIEW), 10, 4)
    targeted = small_study(environment=study_pb2.ENVIRONMENT_TYPE_SURVEY)
    targeted.stimulus.target_agents.append("Ana")
    assert not splits_simulation(targeted, 10, 4)
    checked = small_study(environment=study_pb2.ENVIRONMENT_TYPE_SURVEY)
    checked.simulation_config.quality_checks.enabled = True
    assert not splits_simulation(checked, 10, 4)
    plan = small_study(environment=study_pb2.ENVIRONMENT_TYPE_INTERVIEW)
    plan.steps.add(name="q1", stimulus=study_pb2.Stimulus(content="Why?"))
    assert splits_simulation(plan, 10, 4)
    plan.steps.add(name="q2", stimulus=study_pb2.Stimulus(content="How?"))
    plan.steps[1].intervention.target_agents.append("Ben")
    assert not splits_simulation(plan, 10, 4)


def test_a_parts_latest_round_reads_only_its_own_checkpoints():
    ids = ["round_1", "round_1_part_1", "round_2_part_1", "round_1_part_2", "round_3", "round_1_part_12"]
    assert latest_part_round(ids, "_part_1") == 2
    assert latest_part_round(ids, "_part_2") == 1
    assert latest_part_round(ids, "_part_3") == 0


def extraction_request() -> extraction_pb2.ExtractResultsRequest:
    names = ["Ana", "Ben", "Cy", "Dee", "Eve"]
    return extraction_pb2.ExtractResultsRequest(
        session="sessions/s",
        agents=[agent_pb2.Agent(name=name) for name in names],
        transcript=[
            shown(0, "Do you like tea?", 0),
            *[said(1, name, f"{name} likes tea", index + 1) for index, name in enumerate(names)],
            study_pb2.Interaction(round=2, agent_name="moderator", action=STIMULUS, content="Why, Ben?", target="Ben"),
        ],
        config=small_study().extraction_config,
        failed_agents=["Dee"],
        request_id="study-extraction",
    )


def test_an_extraction_part_reads_its_agents_words_and_what_they_were_shown():
    request = extraction_request()
    first = extraction_part(request, 0, 0, 2)
    assert [agent.name for agent in first.agents] == ["Ana", "Ben"]
    assert [i.content for i in first.transcript] == ["Do you like tea?", "Ana likes tea", "Ben likes tea", "Why, Ben?"]
    assert not first.config.statistical_analysis and request.config.statistical_analysis
    assert first.request_id == "study-extraction_part_1" and not first.failed_agents
    second = extraction_part(request, 1, 2, 3)
    assert [i.content for i in second.transcript] == [
        "Do you like tea?",
        "Cy likes tea",
        "Dee likes tea",
        "Eve likes tea",
    ]
    assert list(second.failed_agents) == ["Dee"]


def agent_result(name: str, would_buy: bool | None, rating: float, failure: str = "") -> study_pb2.AgentResult:
    result = study_pb2.AgentResult(agent_name=name, failure_reason=failure)
    if would_buy is not None:
        result.fields["would_buy"].CopyFrom(study_pb2.FieldValue(bool_value=would_buy, confidence=0.8))
    result.fields["rating"].CopyFrom(study_pb2.FieldValue(number_value=rating, confidence=0.6))
    return result


def test_extraction_parts_merge_in_order_with_statistics_once_over_all_results():
    request = extraction_request()
    first = extraction_pb2.ExtractResultsResponse(
        results=study_pb2.ExtractedResults(
            individual_results=[agent_result("Ana", True, 8), agent_result("Ben", True, 6)]
        ),
        usage=study_pb2.TokenUsage(calls=2, prompt_tokens=100),
    )
    second = extraction_pb2.ExtractResultsResponse(
        results=study_pb2.ExtractedResults(
            individual_results=[agent_result("Cy", False, 4), agent_result("Eve", None, 2, failure="no answer")]
        ),
        usage=study_pb2.TokenUsage(calls=2, prompt_tokens=120),
    )
    merged = merge_extractions(request, [first, second])
    assert [r.agent_name for r in merged.results.individual_results] == ["Ana", "Ben", "Cy", "Eve"]
    assert (merged.usage.calls, merged.usage.prompt_tokens) == (4, 220)
    statistics = {s.field: s for s in merged.results.aggregate_statistics}
    assert statistics["rating"].numeric.mean == 5.0 and statistics["rating"].numeric.count == 4
    assert {c.value: c.count for c in statistics["would_buy"].counts} == {"yes": 2, "no": 1}
    analysis = merged.results.statistical_analysis
    assert analysis.sample_size == 4
    assert analysis.quality_metrics.failure_rate == 2 / 5, "Dee failed in the simulation, Eve in extraction"
