"""Experiment files: a study file with `arms`, read with the study files' conventions into a
RunExperimentRequest (short enums, `{file: ...}` references, fragments by name, YAML or JSON), and errors that
name the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2
from tinytroupe_mesh_api.population.v1 import population_pb2

from services.orchestrator.experiment.validation import validate_experiment_request
from services.orchestrator.study_file import StudyFileError, load_experiment_file, load_run_file

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
Design = orchestrator_pb2.ExperimentDesign


@pytest.mark.parametrize(
    "name, arms",
    [
        ("price_ab.yaml", ["49 EUR", "69 EUR"]),
        ("message_test.yaml", ["savings", "clean air", "neighbours"]),
        ("kettle_choice.yaml", ["10 EUR gap", "30 EUR gap"]),
    ],
)
def test_the_example_experiments_load_and_validate(name, arms):
    request = load_run_file(EXAMPLES / "experiments" / name)
    assert isinstance(request, orchestrator_pb2.RunExperimentRequest)
    validate_experiment_request(request)
    assert [arm.name for arm in request.arms] == arms
    assert request.design == Design.EXPERIMENT_DESIGN_BETWEEN_SUBJECTS
    assert all(arm.HasField("stimulus") and arm.stimulus.content for arm in request.arms)
    assert '"Portside"' in request.participants.specifications[0], "the demographics file is inlined"
    assert list(request.participants.specification_sources) == ["../populations/portside.json"]


def test_the_kettle_choice_blinds_its_options_in_every_arm():
    request = load_run_file(EXAMPLES / "experiments" / "kettle_choice.yaml")
    for arm in request.arms:
        assert arm.stimulus.blind_options and [option.name for option in arm.stimulus.options] == ["basic", "eco"]


def test_a_study_file_still_loads_as_a_study():
    assert isinstance(load_run_file(EXAMPLES / "survey.yaml"), orchestrator_pb2.RunStudyRequest)


def write(tmp_path: Path, data: dict, name: str = "experiment.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def experiment(**changes) -> dict:
    data = {
        "participants": {"mode": "from_agent", "specifications": [{"file": "ana.agent.json"}]},
        "simulation_config": {"environment_type": "survey", "rounds": 1},
        "extraction_config": {"fields": ["rating"], "fields_hints": {"rating": "integer 1-10"}},
        "arms": [{"name": "A", "stimulus": {"content": "Offer A"}}, {"name": "B", "stimulus": {"content": "Offer B"}}],
    }
    data.update(changes)
    return data


def test_arms_take_fragments_by_name_or_file_and_camel_case_keys(tmp_path: Path):
    (tmp_path / "ana.agent.json").write_text('{"type": "TinyPerson", "persona": {"name": "Ana"}}')
    (tmp_path / "frugal.fragment.json").write_text('{"type": "Fragment", "persona": {"beliefs": ["Save."]}}')
    path = write(
        tmp_path,
        experiment(
            design="within_subjects",
            seed=7,
            requestId="r-1",
            arms=[
                {"name": "A", "stimulus": {"content": "Offer A"}, "fragments": ["skeptic"]},
                {"name": "B", "fragments": [{"file": "frugal.fragment.json"}]},
            ],
            stimulus={"type": "offer", "content": "Offer"},
        ),
    )
    request = load_experiment_file(path)
    assert request.design == Design.EXPERIMENT_DESIGN_WITHIN_SUBJECTS and request.seed == 7
    assert request.request_id == "r-1"
    assert request.arms[0].fragments[0].builtin == population_pb2.FRAGMENT_SKEPTIC
    assert "Save." in request.arms[1].fragments[0].custom_json
    assert not request.arms[1].HasField("stimulus") and request.stimulus.content == "Offer"
    assert json.loads(request.participants.specifications[0])["persona"]["name"] == "Ana"


def test_yaml_experiments_read_like_json_ones(tmp_path: Path):
    (tmp_path / "ana.agent.json").write_text('{"type": "TinyPerson", "persona": {"name": "Ana"}}')
    path = tmp_path / "experiment.yml"
    path.write_text(
        "participants: {mode: from_agent, specifications: [{file: ana.agent.json}]}\n"
        "simulationConfig: {environmentType: survey, rounds: 1}\n"
        "extraction_config: {fields: [rating]}\n"
        "design: BETWEEN_SUBJECTS\n"
        "arms:\n  - {name: A, stimulus: {content: a}}\n  - {name: B, stimulus: {content: b}}\n"
    )
    request = load_run_file(path)
    assert isinstance(request, orchestrator_pb2.RunExperimentRequest)
    assert request.design == Design.EXPERIMENT_DESIGN_BETWEEN_SUBJECTS and len(request.arms) == 2


@pytest.mark.parametrize(
    "changes, message",
    [
        (
            {"arms": [{"name": "A", "stimulus": {"contnt": "x"}}, {"name": "B"}]},
            "unknown field arms[0].stimulus.contnt (did you mean arms[0].stimulus.content?)",
        ),
        ({"arms": [{"name": "A", "stimuli": {}}, {"name": "B"}]}, "unknown field arms[0].stimuli"),
        ({"armz": 1}, "unknown field armz (did you mean arms?); an experiment has"),
        ({"design": "crossover"}, "design: 'crossover' is not one of between_subjects, within_subjects"),
        (
            {"arms": [{"name": "A", "fragments": ["grumpy"]}, {"name": "B"}]},
            "arms[0].fragments[0]: 'grumpy' is not a built-in fragment",
        ),
        (
            {"arms": [{"name": "A", "fragments": [{"file": "missing.json"}]}, {"name": "B"}]},
            "arms[0].fragments[0]: cannot read",
        ),
        ({"arms": {"A": {}}}, "arms must be a list of arms"),
        (
            {"simulation_config": {"environment_type": "townhall"}},
            "simulation_config.environment_type: 'townhall' is not one of",
        ),
    ],
)
def test_errors_name_the_field(tmp_path: Path, changes, message):
    (tmp_path / "ana.agent.json").write_text('{"type": "TinyPerson", "persona": {"name": "Ana"}}')
    with pytest.raises(StudyFileError) as refused:
        load_run_file(write(tmp_path, experiment(**changes)))
    assert message in str(refused.value)
    assert str(tmp_path / "experiment.json") in str(refused.value), "the file is named too"


def test_the_onboarding_experiment_runs_a_three_question_plan_in_each_arm():
    request = load_run_file(EXAMPLES / "experiments" / "onboarding_survey.yaml")
    assert isinstance(request, orchestrator_pb2.RunExperimentRequest)
    validate_experiment_request(request)
    assert [arm.name for arm in request.arms] == ["guided call", "self-serve"]
    for arm in request.arms:
        assert not arm.HasField("stimulus")
        assert [step.name for step in arm.steps] == ["first_look", "effort", "finish"]
        assert [list(step.extraction_config.fields) for step in arm.steps] == [
            ["clarity"],
            ["effort"],
            ["would_finish"],
        ]
    guided, self_serve = (arm.steps[0].stimulus.content for arm in request.arms)
    assert "video call" in guided and "selfie" in self_serve
    assert request.arms[0].steps[1] == request.arms[1].steps[1], "the later questions are the same in both"
    assert not request.extraction_config.fields, "the steps' fields are compared"


def test_arms_steps_take_short_enum_names_and_files(tmp_path: Path):
    (tmp_path / "ana.agent.json").write_text('{"type": "TinyPerson", "persona": {"name": "Ana"}}')
    (tmp_path / "plan_b.yaml").write_text(
        "- {name: first, stimulus: {content: 'Flow B?'}, extraction_config: {fields: [clarity], mode: per_agent}}\n"
        "- {file: last_step.json}\n"
    )
    (tmp_path / "last_step.json").write_text('{"name": "last", "stimulus": {"content": "Finish?"}}')
    arms = [
        {
            "name": "A",
            "steps": [
                {"name": "first", "stimulus": {"content": "Flow A?"}, "extraction_config": {"fields": ["clarity"]}},
                {"name": "last", "stimulus": {"content": "Finish?"}},
            ],
        },
        {"name": "B", "steps": {"file": "plan_b.yaml"}},
    ]
    request = load_run_file(write(tmp_path, experiment(arms=arms, extraction_config={})))
    assert [step.name for step in request.arms[1].steps] == ["first", "last"]
    assert request.arms[1].steps[0].extraction_config.mode == study_pb2.ExtractionConfig.MODE_PER_AGENT
    validate_experiment_request(request)


@pytest.mark.parametrize(
    "arm, message",
    [
        (
            {"name": "B", "steps": [{"name": "x", "stimulus": {"contnt": "y"}}]},
            "unknown field arms[1].steps[0].stimulus",
        ),
        (
            {"name": "B", "steps": [{"name": "x", "extraction_config": {"mode": "sideways"}}]},
            "arms[1].steps[0]: extraction_config.mode: 'sideways' is not one of",
        ),
        ({"name": "B", "steps": {"file": "missing.yaml"}}, "arms[1].steps: cannot read"),
    ],
)
def test_errors_in_arms_steps_name_the_field(tmp_path: Path, arm, message):
    (tmp_path / "ana.agent.json").write_text('{"type": "TinyPerson", "persona": {"name": "Ana"}}')
    arms = [{"name": "A", "steps": [{"name": "x", "stimulus": {"content": "y"}}]}, arm]
    with pytest.raises(StudyFileError) as refused:
        load_run_file(write(tmp_path, experiment(arms=arms)))
    assert message in str(refused.value)
