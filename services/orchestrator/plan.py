"""A study plan's part of a study: its rounds in all, and each step's extraction over its part of the
transcript, run together with the study-level extraction (one model latency for all of them).

The simulation runs the whole plan in one world (services/engine/simulation/plan.py) and tags every
interaction with its step, so a step's results read only the interactions of that step. The steps go to
extraction in ONE request (`ExtractResultsRequest.steps`): each agent is asked once for every step's fields,
so a plan's extraction costs as many model calls as a single stimulus's. The request has an id of its own,
so a resumed study gets the answer its earlier run already had.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.extraction.v1 import extraction_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.common.blinding import unblinded_plan_transcript
from services.common.names import last_segment
from services.common.plan_checks import step_name, steps_extract
from services.common.usage import sum_usage
from services.orchestrator.downstream import Downstream
from services.orchestrator.progress import Phase, ProgressTracker
from services.orchestrator.simulation_stage import SimulationOutcome


def step_interactions(interactions: Sequence[study_pb2.Interaction], index: int) -> list[study_pb2.Interaction]:
    """The interactions of step `index` (from 1)."""
    return [interaction for interaction in interactions if interaction.step == index]


def rounds_of(interactions: Sequence[study_pb2.Interaction]) -> int:
    """Rounds a step ran: the rounds after its opening in which anything was said or asked."""
    if not interactions:
        return 0
    opening = min(interaction.round for interaction in interactions)
    return len({interaction.round for interaction in interactions if interaction.round > opening})


def step_extraction_config(step: study_pb2.StudyStep, study: study_pb2.ExtractionConfig) -> study_pb2.ExtractionConfig:
    """The step's extraction config with its defaults: the step's question as the objective, the study's
    situation (or the step's context), statistics when the study asks for them."""
    config = study_pb2.ExtractionConfig()
    config.CopyFrom(step.extraction_config)
    config.extract_results = True
    if not config.extraction_objective.strip():
        config.extraction_objective = f"Each participant's answer to: {step.stimulus.content}"
    if not config.situation.strip():
        config.situation = study.situation or step.stimulus.context
    config.statistical_analysis = config.statistical_analysis or study.statistical_analysis
    return config


@dataclass
class PlanResults:
    steps: list[study_pb2.StepResults]
    usage: study_pb2.TokenUsage


async def extract_steps(
    downstream: Downstream,
    session: str,
    request: orchestrator_pb2.RunStudyRequest,
    outcome: SimulationOutcome,
    progress: ProgressTracker,
    *,
    request_suffix: str,
    timeout_s: float,
) -> PlanResults:
    """Every step's results: the steps with an extraction in one ExtractResults (one model call per agent
    for every step's fields, each step reading its own interactions)."""
    interactions = list(outcome.results.interactions)
    steps = [
        study_pb2.StepResults(
            step=step_name(step, index - 1),
            index=index,
            rounds_completed=rounds_of(step_interactions(interactions, index)),
        )
        for index, step in enumerate(request.steps, start=1)
    ]
    wanted = [
        extraction_pb2.StepExtraction(
            step=index, name=results.step, config=step_extraction_config(step, request.extraction_config)
        )
        for index, (step, results) in enumerate(zip(request.steps, steps, strict=True), start=1)
        if steps_extract(step) and step_interactions(interactions, index)
    ]
    if not wanted:
        return PlanResults(steps, study_pb2.TokenUsage())
    progress.update(phase=Phase.PHASE_EXTRACTING, message="extracting results")
    transcript = unblinded_plan_transcript(
        [said for said in interactions if 1 <= said.step <= len(request.steps)],
        [step.stimulus for step in request.steps],
    )
    response = await downstream.extraction.ExtractResults(
        extraction_pb2.ExtractResultsRequest(
            session=session,
            agents=outcome.agents,
            transcript=transcript,
            steps=wanted,
            failed_agents=sorted(outcome.failed_agents),
            request_id=f"{last_segment(session)}-extraction-steps{request_suffix}",
        ),
        timeout=timeout_s,
    )
    by_name = {results.step: results for results in response.step_results}
    for results in steps:
        if results.step in by_name:
            results.extracted_results.CopyFrom(by_name[results.step].extracted_results)
    return PlanResults(steps, response.usage)


def add_plan_results(result: orchestrator_pb2.StudyResult, plan: PlanResults) -> None:
    """The steps' results in the study's result, their model usage in its total."""
    result.step_results.extend(plan.steps)
    if plan.steps:
        result.metadata.token_usage.CopyFrom(sum_usage(result.metadata.token_usage, plan.usage))
