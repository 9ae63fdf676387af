"""Whole studies through the orchestrator's RunStudy, followed with WaitOperation until they are done."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from google.longrunning import operations_pb2, operations_pb2_grpc
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2, orchestrator_pb2_grpc

from services.common.plan_checks import rounds_total, steps_extract
from services.engine.demographics import Demographics
from services.engine.population_plan import find_distributions, select_dimensions

ROOT = Path(__file__).resolve().parents[1]
DEMOGRAPHICS = ROOT / "examples" / "populations" / "portside.json"
FIELDS = ["purchase_intent", "max_monthly_price", "main_concern"]
WAIT_STEP_S = 60


def plan_needs_model(demographics_json: str) -> bool:
    """As the population service decides: the plan is computed when the demographics carry percentages."""
    demographics = Demographics.model_validate_json(demographics_json)
    return not [d for d in select_dimensions(find_distributions(demographics.content), None) if d.shares]


def study_request(agents: int, rounds: int, name: str) -> orchestrator_pb2.RunStudyRequest:
    """A focus group of `agents` people generated from the Portside demographics, with extraction."""
    return orchestrator_pb2.RunStudyRequest(
        session_config=orchestrator_pb2.SessionConfig(session_name=name),
        participants=orchestrator_pb2.Participants(
            mode=orchestrator_pb2.Participants.MODE_FROM_DEMOGRAPHICS,
            specifications=[DEMOGRAPHICS.read_text()],
            count=agents,
            context="a focus group on an electric bike subscription",
        ),
        simulation_config=study_pb2.SimulationConfig(
            environment_type=study_pb2.ENVIRONMENT_TYPE_FOCUS_GROUP,
            rounds=rounds,
            enable_memory=True,
            enable_thinking=True,
            broadcast_mode=True,
        ),
        stimulus=study_pb2.Stimulus(
            type="product_concept",
            content="PedalShare: an electric bike delivered to your door for 49 EUR a "
            "month, repairs and insurance included. Would you subscribe?",
            context="A focus group.",
        ),
        extraction_config=study_pb2.ExtractionConfig(
            extract_results=True,
            extraction_objective="Each participant's view of the PedalShare subscription.",
            fields=FIELDS,
            fields_hints={
                "purchase_intent": "one of yes/no/maybe",
                "max_monthly_price": "number in EUR, 0-200",
                "main_concern": "short text",
            },
            statistical_analysis=True,
            mode=study_pb2.ExtractionConfig.MODE_PER_AGENT,
        ),
    )


def sequential_latencies(request: orchestrator_pb2.RunStudyRequest) -> int:
    """Model latencies a study must wait for one after another: the plan (when it needs the model), the
    persons (all at once), each round (its agents act together; a study plan's every step's rounds), the
    extraction (all agents, and all of a plan's steps, at once)."""
    participants = request.participants
    creation = 0
    if participants.mode == orchestrator_pb2.Participants.MODE_FROM_DEMOGRAPHICS:
        creation = 1 + plan_needs_model(participants.specifications[0])
    if request.steps:  # a plan: its rounds one after another; every extraction at once at the end
        rounds = rounds_total(request.steps, request.simulation_config)
        extracts = request.extraction_config.extract_results or any(steps_extract(step) for step in request.steps)
        return creation + rounds + int(extracts)
    return creation + request.simulation_config.rounds + int(request.extraction_config.extract_results)


@dataclass
class StudyRun:
    wall_s: float
    result: orchestrator_pb2.StudyResult


async def run_study(channel, request: orchestrator_pb2.RunStudyRequest) -> StudyRun:
    """Starts the study and waits until its operation is done; fails unless every participant succeeded."""
    started = time.perf_counter()
    operation = await orchestrator_pb2_grpc.OrchestratorServiceStub(channel).RunStudy(request, timeout=60)
    operations = operations_pb2_grpc.OperationsStub(channel)
    while not operation.done:
        wait = operations_pb2.WaitOperationRequest(name=operation.name)
        wait.timeout.FromSeconds(WAIT_STEP_S)
        operation = await operations.WaitOperation(wait, timeout=WAIT_STEP_S + 10)
    wall = time.perf_counter() - started
    if operation.HasField("error"):
        raise RuntimeError(f"{operation.name} failed: {operation.error.message}")
    result = orchestrator_pb2.StudyResult()
    operation.response.Unpack(result)
    if result.status != orchestrator_pb2.STUDY_STATUS_COMPLETED:
        failures = json.dumps([failure.reason for failure in result.participant_failures][:3])
        raise RuntimeError(f"{operation.name} ended {orchestrator_pb2.StudyStatus.Name(result.status)}: {failures}")
    return StudyRun(wall, result)


SURVEY_QUESTIONS = [
    ("satisfaction", "How satisfied are you with your commute, from 1 to 5?", "integer 1-5"),
    ("mode", "How do you usually get to work?", "one of car/bus/tram/bicycle/walking/other"),
    ("minutes", "How many minutes does your commute take, one way?", "number 0-240"),
    ("would_switch", "Would you switch to a 49 EUR a month e-bike subscription?", "yes or no"),
    ("wish", "What one change would improve your commute the most?", "short text"),
]


def survey_plan_request(agents: int, name: str) -> orchestrator_pb2.RunStudyRequest:
    """A five-question questionnaire (a study plan, one step per question, each with a typed field) to
    `agents` people generated from the Portside demographics."""
    return orchestrator_pb2.RunStudyRequest(
        session_config=orchestrator_pb2.SessionConfig(session_name=name),
        participants=orchestrator_pb2.Participants(
            mode=orchestrator_pb2.Participants.MODE_FROM_DEMOGRAPHICS,
            specifications=[DEMOGRAPHICS.read_text()],
            count=agents,
            context="a city questionnaire on commuting",
        ),
        simulation_config=study_pb2.SimulationConfig(
            environment_type=study_pb2.ENVIRONMENT_TYPE_SURVEY, rounds=1, enable_memory=True, max_actions_per_turn=2
        ),
        steps=[
            study_pb2.StudyStep(
                name=field,
                stimulus=study_pb2.Stimulus(type="question", content=question),
                extraction_config=study_pb2.ExtractionConfig(
                    fields=[field], fields_hints={field: hint}, statistical_analysis=True
                ),
            )
            for field, question, hint in SURVEY_QUESTIONS
        ],
    )
