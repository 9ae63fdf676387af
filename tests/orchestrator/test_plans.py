"""Study plans through the mesh: a questionnaire with typed results per question, an interview guide with
the interviewer's follow-ups, a focus group's agenda opened by the moderator with an intervention, resumption
at its step, replay from the cache, CSV export per step, and the plan's checks at RunStudy."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid

import grpc
import pytest
from tinytroupe_mesh_api.common.v1 import agent_pb2, study_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2
from tinytroupe_mesh_api.extraction.v1 import extraction_pb2, extraction_pb2_grpc
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2
from tinytroupe_mesh_api.simulation.v1 import simulation_pb2

from services.common.names import checkpoint_name
from services.common.plan_checks import step_name, steps_extract
from services.extraction.validation import plan_step_extraction
from services.orchestrator.checkpoints import StudyCheckpoints
from services.orchestrator.plan import step_extraction_config
from services.runtime.clients import open_channel
from services.runtime.errors import InvalidArgument
from services.simulation.validation import validate_run
from tests.orchestrator.support import agent_spec
from tests.orchestrator.support_plans import QUESTIONS, plan_study, survey_study, talk
from tests.orchestrator.test_recovery import orphaned_study
from tests.rich_errors import field_violations

pytestmark = pytest.mark.asyncio(loop_scope="session")

KINDS = {
    "satisfaction": study_pb2.VALUE_KIND_NUMBER,
    "mode": study_pb2.VALUE_KIND_CATEGORY,
    "minutes": study_pb2.VALUE_KIND_NUMBER,
    "would_switch": study_pb2.VALUE_KIND_BOOLEAN,
    "wish": study_pb2.VALUE_KIND_TEXT,
}


def names_with(suffix: str, *names: str) -> list[str]:
    return [f"{name}{suffix}" for name in names]


async def test_a_five_question_survey_gives_typed_results_per_question_and_replays_for_free(stubs, mesh):
    suffix = uuid.uuid4().hex[:6]
    names = names_with(suffix, "Sue", "Sam", "Sia")
    mesh.fake.script(rf"^You are S\w\w{suffix}\.", talk("My honest answer."), on="system")
    study = survey_study(names)
    operation = await stubs.orchestrator.RunStudy(study)
    watched = [
        event
        async for event in stubs.orchestrator.WatchStudy(
            orchestrator_pb2.WatchStudyRequest(name=operation.name), timeout=60
        )
    ]
    result = await stubs.result(operation.name, timeout_s=120)

    assert result.status == orchestrator_pb2.STUDY_STATUS_COMPLETED
    assert [step.step for step in result.step_results] == [name for name, *_ in QUESTIONS]
    assert [step.index for step in result.step_results] == [1, 2, 3, 4, 5]
    for step, (_, _, field, _) in zip(result.step_results, QUESTIONS, strict=True):
        assert step.rounds_completed == 1
        answers = step.extracted_results.individual_results
        assert sorted(answer.agent_name for answer in answers) == sorted(names)
        for answer in answers:
            value = answer.fields[field]
            assert value.kind == KINDS[field]
            if field == "satisfaction":
                assert value.WhichOneof("value") == "number_value" and 1 <= value.number_value <= 5
            if field == "mode":
                assert value.string_value in {"car", "bike", "transit", "walk"}
        statistics = {item.field: item for item in step.extracted_results.aggregate_statistics}
        assert statistics[field].total_count == 3
    steps_seen = {(event.step, event.steps_total, event.step_round) for event in watched if event.step}
    assert steps_seen >= {(index, 5, 1) for index in range(1, 6)}
    by_step = {}
    for interaction in result.simulation_results.interactions:
        by_step.setdefault(interaction.step, set()).add(interaction.round)
    assert by_step == {1: {0, 1}, 2: {1, 2}, 3: {2, 3}, 4: {3, 4}, 5: {4, 5}}, "questions asked at the round before"
    assert result.simulation_results.rounds_completed == 5
    extraction_prompts = [
        record.body["messages"][-1]["content"]
        for record in mesh.fake.stats.requests
        if record.body and re.search(rf"Extract the fields for S\w\w{suffix}\.", json.dumps(record.body))
    ]
    assert len(extraction_prompts) == 3, "one extraction call per participant for the five questions"
    assert all(f"- {name}.{field}:" in extraction_prompts[0] for name, _, field, _ in QUESTIONS)
    assert extraction_prompts[0].index("Step satisfaction:") < extraction_prompts[0].index("Step wish:")

    replay = survey_study(names)
    replay.session_config.cache_file = study.session_config.cache_file
    before = mesh.fake.stats.total_requests
    again = await stubs.result((await stubs.orchestrator.RunStudy(replay)).name, timeout_s=120)
    assert mesh.fake.stats.total_requests == before, "the same cache namespace answers every call"
    assert list(again.simulation_results.interactions) == list(result.simulation_results.interactions)
    assert list(again.step_results) == list(result.step_results)
    assert again.metadata.token_usage.calls == 0 and again.metadata.token_usage.cached_calls > 0

    channel = open_channel(mesh.addresses.extraction)
    try:
        exported = await extraction_pb2_grpc.ResultsExtractionServiceStub(channel).ExportResults(
            extraction_pb2.ExportResultsRequest(
                results=result.extracted_results,
                step_results=result.step_results,
                format=extraction_pb2.EXPORT_FORMAT_CSV,
            )
        )
    finally:
        await channel.close()
    rows = list(csv.reader(io.StringIO(exported.content.decode())))
    assert rows[0] == ["agent_name", *(f"{name}.{field}" for name, _, field, _ in QUESTIONS), "confidence_score"]
    assert sorted(row[0] for row in rows[1:]) == sorted(names), "one row per participant"
    first = next(row for row in rows[1:] if row[0] == names[0])
    satisfaction = next(
        answer.fields["satisfaction"]
        for answer in result.step_results[0].extracted_results.individual_results
        if answer.agent_name == names[0]
    )
    assert float(first[1]) == satisfaction.number_value


async def test_interview_follow_ups_come_from_the_interviewer_and_stop_at_max_follow_ups(stubs, mesh):
    suffix = uuid.uuid4().hex[:6]
    ivy, ira = names_with(suffix, "Ivy", "Ira")
    mesh.fake.script(rf"^You are I\w\w{suffix}\.", talk("I stopped because of the hills."), on="system")
    mesh.fake.script(rf"You are the interviewer(?s:.*)Interviewee: {ivy}\.", {"follow_up": "Which hills, exactly?"})
    mesh.fake.script(rf"You are the interviewer(?s:.*)Interviewee: {ira}\.", {"follow_up": ""})
    steps = [
        study_pb2.StudyStep(
            name="why_stopped",
            stimulus=study_pb2.Stimulus(type="question", content="Why did you stop cycling to work?"),
            max_follow_ups=2,
            extraction_config=study_pb2.ExtractionConfig(fields=["reason"], fields_hints={"reason": "short text"}),
        ),
        study_pb2.StudyStep(
            name="come_back",
            stimulus=study_pb2.Stimulus(type="question", content="What would bring you back to cycling?"),
        ),
    ]
    study = plan_study([ivy, ira], steps, environment=study_pb2.ENVIRONMENT_TYPE_INTERVIEW)
    result = await stubs.result((await stubs.orchestrator.RunStudy(study)).name, timeout_s=120)

    assert result.status == orchestrator_pb2.STUDY_STATUS_COMPLETED
    follow_ups = [
        (entry.target, entry.round, entry.content)
        for entry in result.simulation_results.interactions
        if entry.agent_name == "moderator" and entry.step == 1 and entry.target
    ]
    assert follow_ups == [(ivy, 2, "Which hills, exactly?"), (ivy, 3, "Which hills, exactly?")]
    answers = {
        name: [
            e.round
            for e in result.simulation_results.interactions
            if e.agent_name == name and e.action == study_pb2.ACTION_TYPE_TALK
        ]
        for name in (ivy, ira)
    }
    assert answers == {ivy: [1, 2, 3, 4], ira: [1, 4]}, "Ira was not followed up; both answer the next question"
    assert [step.rounds_completed for step in result.step_results] == [3, 1]
    assert {answer.agent_name for answer in result.step_results[0].extracted_results.individual_results} == {ivy, ira}
    assert not result.step_results[1].extracted_results.individual_results, "the second question extracts nothing"


async def test_a_focus_group_agenda_is_opened_by_the_moderator_and_an_intervention_reaches_chosen_agents(stubs, mesh):
    suffix = uuid.uuid4().hex[:6]
    fay, fin, flo = names_with(suffix, "Fay", "Fin", "Flo")
    prompts: dict[str, list[str]] = {fay: [], fin: [], flo: []}

    def participant(body: dict) -> dict:
        text = "\n".join(str(message.get("content", "")) for message in body["messages"])
        name = re.search(rf"You are (F\w\w{suffix})\.", text)[1]
        prompts[name].append(text)
        return talk(f"{name} speaks.")

    def moderator(body: dict) -> dict:
        text = body["messages"][1]["content"]
        topic = re.search(r"Topic (\d+) of (\d+)", text)
        return {"opening": f"Moderator opens topic {topic[1]} of {topic[2]}."}

    mesh.fake.script(rf"^You are F\w\w{suffix}\.", participant, on="system")
    mesh.fake.script(rf"You moderate a focus group with {fay}", moderator)
    topics = ["The price of PedalShare", "Repairs and insurance", "Where you would park it"]
    steps = [
        study_pb2.StudyStep(
            name=f"topic_{index}", stimulus=study_pb2.Stimulus(type="topic", content=topic), moderator_opens=True
        )
        for index, topic in enumerate(topics, start=1)
    ]
    steps[2].intervention.CopyFrom(
        study_pb2.Intervention(
            content="News: the city has just opened free bike parking next to your home.",
            context="A focus group the week the city opened bike parking",
            target_agents=[fay.upper(), flo],
        )
    )
    study = plan_study([fay, fin, flo], steps, environment=study_pb2.ENVIRONMENT_TYPE_FOCUS_GROUP)
    result = await stubs.result((await stubs.orchestrator.RunStudy(study)).name, timeout_s=120)

    assert result.status == orchestrator_pb2.STUDY_STATUS_COMPLETED
    openings = [
        (entry.step, entry.content)
        for entry in result.simulation_results.interactions
        if entry.agent_name == "moderator"
    ]
    assert openings == [(index, f"Moderator opens topic {index} of 3.") for index in (1, 2, 3)]
    intervention = [
        (entry.target, entry.step)
        for entry in result.simulation_results.interactions
        if entry.agent_name == "intervention"
    ]
    assert intervention == [(fay, 3), (flo, 3)]
    for name in (fay, flo):
        assert "free bike parking" in prompts[name][-1] and "Situation: A focus group the week" in prompts[name][-1]
        assert "free bike parking" not in prompts[name][1]
    assert "free bike parking" not in prompts[fin][-1]
    assert "Moderator opens topic 3 of 3." in prompts[fin][-1]
    assert [step.rounds_completed for step in result.step_results] == [1, 1, 1]


async def test_a_study_killed_mid_plan_resumes_at_its_step_from_the_cache(stubs, mesh):
    suffix = uuid.uuid4().hex[:6]
    names = names_with(suffix, "Rex", "Roy")
    mesh.fake.script(rf"^You are R\w\w{suffix}\.", talk("My answer."), on="system")
    study = survey_study(names)
    reference = await stubs.result((await stubs.orchestrator.RunStudy(study)).name, timeout_s=120)
    reference_session = StudyCheckpoints(stubs.control_client, reference.session_id)

    replay = orchestrator_pb2.RunStudyRequest()
    replay.CopyFrom(study)
    replay.request_id = uuid.uuid4().hex
    before = mesh.fake.stats.total_requests
    operation, checkpoints = await orphaned_study(stubs, replay, holder="replica-that-died")
    for checkpoint_id in ("agents_created", "round_1", "round_2"):
        stored = await stubs.control.GetCheckpoint(
            control_pb2.GetCheckpointRequest(name=checkpoint_name(reference_session.session, checkpoint_id))
        )
        await stubs.control.CreateCheckpoint(
            control_pb2.CreateCheckpointRequest(
                parent=checkpoints.session,
                checkpoint_id=checkpoint_id,
                checkpoint=control_pb2.Checkpoint(
                    payload=stored.payload, content_type=stored.content_type, annotations=stored.annotations
                ),
            )
        )
    assert dict(stored.annotations) == {"round": "2", "step": "2", "step_round": "1"}, "the last copied: round_2"
    world = await checkpoints.load("round_2", simulation_pb2.WorldState)
    assert (world.step, world.step_rounds_completed, len(world.steps)) == (2, 1, 5), "killed after question 2"
    result = await stubs.result(operation, timeout_s=120)

    assert list(result.simulation_results.interactions) == list(reference.simulation_results.interactions)
    assert list(result.step_results) == list(reference.step_results)
    assert mesh.fake.stats.total_requests == before, "questions 3 to 5 and the extractions replay from the cache"
    resumed = await checkpoints.load("resumed_1", orchestrator_pb2.StudyResumed)
    assert resumed.from_checkpoint == "round_2"
    assert [c for c in result.metadata.checkpoints if c.startswith("round_")] == [f"round_{n}" for n in range(1, 6)]
    final = await checkpoints.load("simulation_complete", simulation_pb2.WorldState)
    assert (final.step, final.step_rounds_completed) == (5, 1)


def _second_step_rounds(study):
    study.steps[1].rounds = 99


def _follow_ups_outside_an_interview(study):
    study.steps[0].max_follow_ups = 2


def _step_target_nobody(study):
    study.steps[2].stimulus.target_agents.append("Zed")


def _intervention_target_nobody(study):
    study.steps[3].intervention.content = "News."
    study.steps[3].intervention.target_agents.append("Zed")


def _duplicate_step_names(study):
    study.steps[4].name = "Satisfaction"


def _empty_question(study):
    study.steps[1].stimulus.content = " "


def _step_hint_not_a_kind(study):
    study.steps[0].extraction_config.fields_hints["satisfaction"] = "banana"


def _moderator_in_a_survey(study):
    study.steps[0].moderator_opens = True


def _step_extracted_by_a_rapporteur(study):
    study.steps[2].extraction_config.mode = study_pb2.ExtractionConfig.MODE_RAPPORTEUR


PLAN_CASES = [
    (_second_step_rounds, "steps[1].rounds"),
    (_follow_ups_outside_an_interview, "steps[0].max_follow_ups"),
    (_step_target_nobody, "steps[2].stimulus.target_agents[0]"),
    (_intervention_target_nobody, "steps[3].intervention.target_agents[0]"),
    (_duplicate_step_names, "steps[4].name"),
    (_empty_question, "steps[1].stimulus.content"),
    (_step_hint_not_a_kind, "steps[0].extraction_config.fields_hints[satisfaction]"),
    (_moderator_in_a_survey, "steps[0].moderator_opens"),
    (_step_extracted_by_a_rapporteur, "steps[2].extraction_config.mode"),
]


def downstream_refuses(study) -> bool:
    """Whether simulation's check of the RunSimulation RunStudy would send, or extraction's of a step's
    extraction, refuses it."""
    agents = [
        agent_pb2.Agent(name=json.loads(spec)["persona"]["name"], spec_json=spec)
        for spec in study.participants.specifications
    ]
    checks = [
        lambda: validate_run(
            simulation_pb2.RunSimulationRequest(
                session="sessions/agreement", agents=agents, config=study.simulation_config, steps=study.steps
            )
        ),
        lambda: plan_step_extraction(
            extraction_pb2.ExtractResultsRequest(
                session="sessions/agreement",
                agents=agents,
                transcript=[study_pb2.Interaction(round=1, agent_name=agents[0].name, content="yes", step=1)],
                steps=[
                    extraction_pb2.StepExtraction(
                        step=index,
                        name=step_name(step, index - 1),
                        config=step_extraction_config(step, study.extraction_config),
                    )
                    for index, step in enumerate(study.steps, start=1)
                    if steps_extract(step)
                ],
            )
        ),
    ]
    refused = False
    for check in checks:
        try:
            check()
        except InvalidArgument:
            refused = True
    return refused


@pytest.mark.parametrize(("break_rule", "field"), PLAN_CASES, ids=[case.__name__.strip("_") for case, _ in PLAN_CASES])
async def test_run_study_refuses_a_bad_step_as_downstream_would(stubs, mesh, break_rule, field):
    marker = f"plan-agreement-{uuid.uuid4().hex}"
    study = survey_study(["Ana", "Ben"], marker)
    assert not downstream_refuses(study)
    break_rule(study)
    assert downstream_refuses(study), "the case must break a rule a downstream service enforces"

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.orchestrator.RunStudy(study, timeout=30)

    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in field_violations(raised.value), field_violations(raised.value)
    assert [record for record in mesh.fake.stats.requests if marker in json.dumps(record.body or {})] == []


async def test_run_study_refuses_a_stimulus_beside_steps_and_a_study_with_neither(stubs):
    both = survey_study(["Ana", "Ben"])
    both.stimulus.content = "And this?"
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.orchestrator.RunStudy(both, timeout=30)
    assert "stimulus" in field_violations(raised.value)

    neither = survey_study(["Ana", "Ben"])
    del neither.steps[:]
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.orchestrator.RunStudy(neither, timeout=30)
    assert "stimulus.content" in field_violations(raised.value)


async def test_an_interview_question_with_follow_ups_has_one_more_round_than_its_follow_ups():
    study = plan_study(
        ["Ana"],
        [study_pb2.StudyStep(stimulus=study_pb2.Stimulus(content="Why?"), max_follow_ups=2, rounds=2)],
        environment=study_pb2.ENVIRONMENT_TYPE_INTERVIEW,
    )
    agents = [agent_pb2.Agent(name="Ana", spec_json=agent_spec("Ana"))]
    with pytest.raises(InvalidArgument) as raised:
        validate_run(
            simulation_pb2.RunSimulationRequest(
                session="sessions/x", agents=agents, config=study.simulation_config, steps=study.steps
            )
        )
    assert "steps[0].rounds" in dict(raised.value.violations)
