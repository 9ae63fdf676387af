"""The checks of a study plan and the rules that resolve a step's name and rounds."""

from __future__ import annotations

from tinytroupe_mesh_api.common.v1 import study_pb2

from services.common.plan_checks import MAX_PLAN_ROUNDS, plan_violations, rounds_total, step_name, step_rounds

SURVEY = study_pb2.SimulationConfig(environment_type=study_pb2.ENVIRONMENT_TYPE_SURVEY, rounds=1)
INTERVIEW = study_pb2.SimulationConfig(environment_type=study_pb2.ENVIRONMENT_TYPE_INTERVIEW, rounds=2)
FOCUS_GROUP = study_pb2.SimulationConfig(environment_type=study_pb2.ENVIRONMENT_TYPE_FOCUS_GROUP, rounds=3)


def step(content: str = "Why?", **fields) -> study_pb2.StudyStep:
    return study_pb2.StudyStep(stimulus=study_pb2.Stimulus(content=content), **fields)


def fields_of(violations) -> list[str]:
    return [field for field, _ in violations]


def test_a_step_takes_its_own_rounds_or_one_more_than_its_follow_ups_or_the_configs():
    assert step_rounds(step(rounds=4), FOCUS_GROUP) == 4
    assert step_rounds(step(), FOCUS_GROUP) == 3
    assert step_rounds(step(max_follow_ups=2), INTERVIEW) == 3
    assert rounds_total([step(), step(rounds=2)], FOCUS_GROUP) == 5
    assert rounds_total([], FOCUS_GROUP) == 3


def test_a_step_without_a_name_is_named_by_its_position():
    assert step_name(step(), 2) == "step_3" and step_name(step(name=" q1 "), 0) == "q1"


def test_a_valid_plan_passes():
    plan = [
        step(name="why", max_follow_ups=2),
        step(
            name="then",
            intervention=study_pb2.Intervention(content="News.", target_agents=["ana"]),
            extraction_config=study_pb2.ExtractionConfig(fields=["rating"], fields_hints={"rating": "integer 1-5"}),
        ),
    ]
    assert plan_violations(plan, INTERVIEW, ["Ana", "Ben"]) == []


def test_every_broken_rule_names_its_field():
    plan = [
        step(name="bad name!"),
        step(rounds=51),
        study_pb2.StudyStep(name="nothing"),
        step(name="Step_4"),
        step(max_follow_ups=1),
        step(moderator_opens=True),
        step(intervention=study_pb2.Intervention(target_agents=["Zed"])),
        step(extraction_config=study_pb2.ExtractionConfig(extract_results=True)),
        study_pb2.StudyStep(stimulus=study_pb2.Stimulus(content="x", target_agents=["Zed"])),
    ]
    found = fields_of(plan_violations(plan, SURVEY, ["Ana"]))
    assert found == [
        "steps[0].name",
        "steps[1].rounds",
        "steps[2].stimulus.content",
        "steps[4].max_follow_ups",
        "steps[5].moderator_opens",
        "steps[6].intervention.content",
        "steps[6].intervention.target_agents[0]",
        "steps[7].extraction_config.fields",
        "steps[8].stimulus.target_agents[0]",
    ]
    duplicate = fields_of(plan_violations([step(name="step_2"), step()], SURVEY, None))
    assert duplicate == ["steps[1].name"], "the unnamed second step is step_2 too"


def test_an_interview_question_with_follow_ups_has_exactly_one_more_round():
    assert fields_of(plan_violations([step(max_follow_ups=2, rounds=2)], INTERVIEW, None)) == ["steps[0].rounds"]
    assert plan_violations([step(max_follow_ups=2, rounds=3)], INTERVIEW, None) == []
    assert fields_of(plan_violations([step(max_follow_ups=11)], INTERVIEW, None)) == ["steps[0].max_follow_ups"]


def test_a_plan_is_bounded_in_steps_and_rounds():
    assert fields_of(plan_violations([step()] * 51, SURVEY, None)) == ["steps"]
    many = [step(rounds=50)] * (MAX_PLAN_ROUNDS // 50 + 1)
    assert fields_of(plan_violations(many, SURVEY, None))[-1] == "steps"
