"""Study files: JSON and YAML, short enum names, specifications and fragments inlined from files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2
from tinytroupe_mesh_api.population.v1 import population_pb2

from services.orchestrator.study_file import StudyFileError, load_study_file
from services.orchestrator.validation import validate_study_request

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
Mode = orchestrator_pb2.Participants.Mode


@pytest.mark.parametrize(
    "name, mode, environment",
    [
        ("focus_group.json", Mode.MODE_FROM_AGENT, study_pb2.ENVIRONMENT_TYPE_FOCUS_GROUP),
        ("survey.yaml", Mode.MODE_FROM_DEMOGRAPHICS, study_pb2.ENVIRONMENT_TYPE_SURVEY),
        ("interview.json", Mode.MODE_FROM_POPULATION, study_pb2.ENVIRONMENT_TYPE_INTERVIEW),
        ("custom_personas.yaml", Mode.MODE_CUSTOM, study_pb2.ENVIRONMENT_TYPE_FOCUS_GROUP),
    ],
)
def test_the_examples_load_and_validate(name, mode, environment):
    study = load_study_file(EXAMPLES / name)
    validate_study_request(study)
    assert study.participants.mode == mode
    assert study.simulation_config.environment_type == environment


def test_specification_files_are_inlined_relative_to_the_study_file(tmp_path: Path):
    (tmp_path / "agents").mkdir()
    agent = {"type": "TinyPerson", "persona": {"name": "Ana", "age": 40}}
    (tmp_path / "agents" / "ana.agent.json").write_text(json.dumps(agent))
    (tmp_path / "picky.fragment.json").write_text('{"type": "Fragment", "persona": {"beliefs": ["Nothing is free."]}}')
    study_file = tmp_path / "study.yaml"
    study_file.write_text(
        "participants:\n"
        "  mode: from_agent\n"
        "  specifications:\n"
        "    - file: agents/ana.agent.json\n"
        "    - {type: TinyPerson, persona: {name: Bo}}\n"
        "  fragments: [skeptic, {file: picky.fragment.json}]\n"
        "simulationConfig: {environmentType: interview, rounds: 1, turn_order: sequential}\n"
        "stimulus: {content: Hello}\n"
    )
    study = load_study_file(study_file)
    assert json.loads(study.participants.specifications[0]) == agent
    assert json.loads(study.participants.specifications[1])["persona"]["name"] == "Bo"
    assert list(study.participants.specification_sources) == ["agents/ana.agent.json", ""]
    assert study.participants.fragments[0].builtin == population_pb2.FRAGMENT_SKEPTIC
    assert "Nothing is free." in study.participants.fragments[1].custom_json
    assert study.simulation_config.environment_type == study_pb2.ENVIRONMENT_TYPE_INTERVIEW
    assert study.simulation_config.turn_order == study_pb2.TURN_ORDER_SEQUENTIAL


def test_a_missing_specification_file_names_the_entry(tmp_path: Path):
    study_file = tmp_path / "study.json"
    study_file.write_text(
        json.dumps({"participants": {"mode": "from_agent", "specifications": [{"file": "missing.json"}]}})
    )
    with pytest.raises(StudyFileError, match=r"participants.specifications\[0\].*missing.json"):
        load_study_file(study_file)


def test_unknown_fields_and_bad_syntax_are_reported(tmp_path: Path):
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps({"participants": {"mode": "from_agent"}, "rounds": 3}))
    with pytest.raises(StudyFileError, match="rounds"):
        load_study_file(unknown)
    broken = tmp_path / "broken.yaml"
    broken.write_text("participants: [unclosed\n")
    with pytest.raises(StudyFileError, match="not valid YAML"):
        load_study_file(broken)
