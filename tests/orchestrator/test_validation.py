"""RunStudyRequest validation: every problem is named by its field."""

from __future__ import annotations

import json

import pytest
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.orchestrator.validation import validate_study_request
from services.runtime.errors import InvalidArgument

Mode = orchestrator_pb2.Participants.Mode


def spec(name: str) -> str:
    return json.dumps({"type": "TinyPerson", "persona": {"name": name, "age": 30}})


def request(**participants) -> orchestrator_pb2.RunStudyRequest:
    participants.setdefault("mode", Mode.MODE_FROM_AGENT)
    participants.setdefault("specifications", [spec("Ana"), spec("Ben")])
    return orchestrator_pb2.RunStudyRequest(
        participants=orchestrator_pb2.Participants(**participants),
        simulation_config=study_pb2.SimulationConfig(environment_type=study_pb2.ENVIRONMENT_TYPE_FOCUS_GROUP, rounds=2),
        stimulus=study_pb2.Stimulus(content="What do you think of it?"),
        extraction_config=study_pb2.ExtractionConfig(extract_results=True, fields=["rating"]),
    )


def violations(study: orchestrator_pb2.RunStudyRequest) -> dict[str, str]:
    with pytest.raises(InvalidArgument) as raised:
        validate_study_request(study)
    return dict(raised.value.violations)


def test_a_valid_request_passes():
    validate_study_request(request())


def test_the_mode_is_required():
    assert set(violations(request(mode=Mode.MODE_UNSPECIFIED))) == {"participants.mode"}


@pytest.mark.parametrize("count", [0, -1, 1001])
def test_demographics_need_a_count_from_1_to_1000(count):
    study = request(mode=Mode.MODE_FROM_DEMOGRAPHICS, specifications=['{"title": "x", "content": {}}'], count=count)
    assert set(violations(study)) == {"participants.count"}


def test_a_malformed_specification_is_named_by_its_index():
    found = violations(request(specifications=[spec("Ana"), '{"type": "TinyPerson", "persona": {']))
    assert set(found) == {"participants.specifications[1]"}
    assert "not valid JSON" in found["participants.specifications[1]"]


def test_duplicate_agent_names_are_refused():
    found = violations(request(specifications=[spec("Ana"), spec("Ana")]))
    assert "participants.specifications[1]" in found
    assert "Ana" in found["participants.specifications[1]"]


def test_a_population_must_be_an_array_of_specifications():
    assert set(violations(request(mode=Mode.MODE_FROM_POPULATION, specifications=[spec("Ana")]))) == {
        "participants.specifications[0]"
    }
    population = json.dumps([json.loads(spec("Ana")), {"type": "TinyPerson", "persona": {}}])
    assert set(violations(request(mode=Mode.MODE_FROM_POPULATION, specifications=[population]))) == {
        "participants.specifications[0][1]"
    }


def test_custom_descriptions_must_not_be_empty():
    assert set(violations(request(mode=Mode.MODE_CUSTOM, specifications=["A nurse", "  "]))) == {
        "participants.specifications[1]"
    }


def test_simulation_stimulus_and_extraction_problems_are_reported_together():
    study = request()
    study.simulation_config.rounds = 0
    study.stimulus.content = ""
    del study.extraction_config.fields[:]
    study.extraction_config.fields_hints["rating"] = "integer 1-10"
    assert set(violations(study)) == {
        "simulation_config.rounds",
        "stimulus.content",
        "extraction_config.fields",
        "extraction_config.fields_hints[rating]",
    }


def test_fields_are_not_needed_when_nothing_is_extracted():
    study = request()
    study.extraction_config.extract_results = False
    del study.extraction_config.fields[:]
    validate_study_request(study)


def test_custom_fragments_must_be_json_objects():
    study = request()
    study.participants.fragments.add(custom_json="[1, 2]")
    assert set(violations(study)) == {"participants.fragments[0].custom_json"}


def test_a_name_that_is_not_text_is_a_field_error_not_a_crash():
    study = request(specifications=['{"persona": {"name": []}}', '{"persona": {"name": []}}'])
    assert set(violations(study)) >= {"participants.specifications[0]", "participants.specifications[1]"}
