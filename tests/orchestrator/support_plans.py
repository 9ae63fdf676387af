"""Study plans for the orchestrator's tests: a questionnaire, an interview guide, a focus group's agenda."""

from __future__ import annotations

import uuid

from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from tests.orchestrator.support import Mode, agent_spec

QUESTIONS = [
    ("satisfaction", "How satisfied are you with your commute, from 1 to 5?", "satisfaction", "integer 1-5"),
    ("mode", "How do you usually get to work?", "mode", "one of car/bike/transit/walk"),
    ("minutes", "How many minutes does your commute take?", "minutes", "number 0-300"),
    ("would_switch", "Would you switch to an e-bike subscription?", "would_switch", "yes or no"),
    ("wish", "What one thing would improve your commute?", "wish", "short text"),
]


def plan_study(
    names: list[str],
    steps: list[study_pb2.StudyStep],
    environment: int = study_pb2.ENVIRONMENT_TYPE_SURVEY,
    extraction: study_pb2.ExtractionConfig | None = None,
) -> orchestrator_pb2.RunStudyRequest:
    return orchestrator_pb2.RunStudyRequest(
        request_id=uuid.uuid4().hex,
        session_config=orchestrator_pb2.SessionConfig(
            session_name="plan study", cache_file=f"test-{uuid.uuid4().hex[:12]}"
        ),
        participants=orchestrator_pb2.Participants(
            mode=Mode.MODE_FROM_AGENT, specifications=[agent_spec(name) for name in names]
        ),
        simulation_config=study_pb2.SimulationConfig(
            environment_type=environment, rounds=1, enable_memory=True, broadcast_mode=True, max_actions_per_turn=2
        ),
        steps=steps,
        extraction_config=extraction,
    )


def questionnaire(marker: str = "") -> list[study_pb2.StudyStep]:
    """Five questions, each a step with one typed field."""
    return [
        study_pb2.StudyStep(
            name=name,
            stimulus=study_pb2.Stimulus(type="question", content=f"{text} {marker}".strip()),
            extraction_config=study_pb2.ExtractionConfig(fields=[field], fields_hints={field: hint}),
        )
        for name, text, field, hint in QUESTIONS
    ]


def survey_study(names: list[str], marker: str = "") -> orchestrator_pb2.RunStudyRequest:
    study = plan_study(names, questionnaire(marker))
    for step in study.steps:
        step.extraction_config.statistical_analysis = True
    return study


def talk(content: str) -> dict:
    return {
        "actions": [{"type": "TALK", "target": "", "content": content}, {"type": "DONE", "target": "", "content": ""}]
    }
