"""A study plan's result as the report draws it: each step's fields beside the study's, named
`{step}.{field}`, with their hints, so every question of a questionnaire gets its chart; an experiment's
arms' plans likewise, so each step's comparison stands beside its charts."""

from __future__ import annotations

from collections.abc import Sequence

from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.common.plan_checks import step_name
from services.orchestrator.experiment.plans import arm_steps


def flattened(
    result: orchestrator_pb2.StudyResult, request: orchestrator_pb2.RunStudyRequest | None
) -> tuple[orchestrator_pb2.StudyResult, orchestrator_pb2.RunStudyRequest | None]:
    """The result and request with the steps' results and fields as the study's own; unchanged without steps."""
    if not result.step_results:
        return result, request
    merged = orchestrator_pb2.StudyResult()
    merged.CopyFrom(result)
    extracted = merged.extracted_results
    by_agent = {answer.agent_name: answer for answer in extracted.individual_results}
    for step in result.step_results:
        for answer in step.extracted_results.individual_results:
            if answer.agent_name not in by_agent:
                by_agent[answer.agent_name] = extracted.individual_results.add(agent_name=answer.agent_name)
            for name, value in answer.fields.items():
                by_agent[answer.agent_name].fields[f"{step.step}.{name}"].CopyFrom(value)
        for statistics in step.extracted_results.aggregate_statistics:
            added = extracted.aggregate_statistics.add()
            added.CopyFrom(statistics)
            added.field = f"{step.step}.{statistics.field}"
    if request is None:
        return merged, None
    asked = orchestrator_pb2.RunStudyRequest()
    asked.CopyFrom(request)
    config = asked.extraction_config
    if config.fields:  # the study's own fields are listed: list the steps' too, else the results tell them
        _add_step_fields(config, request.steps)
    return merged, asked


def flattened_experiment(
    result: orchestrator_pb2.ExperimentResult, request: orchestrator_pb2.RunExperimentRequest | None
) -> tuple[orchestrator_pb2.ExperimentResult, orchestrator_pb2.RunExperimentRequest | None]:
    """An experiment whose arms ran plans with each arm's steps flattened as a study's, and the steps' fields
    (with their hints) listed beside the experiment's, as the comparisons name them; unchanged without plans."""
    if not any(arm.result.step_results for arm in result.arms):
        return result, request
    merged = orchestrator_pb2.ExperimentResult()
    merged.CopyFrom(result)
    for arm in merged.arms:
        arm.result.CopyFrom(flattened(arm.result, None)[0])
    if request is None or not request.arms:
        return merged, request
    asked = orchestrator_pb2.RunExperimentRequest()
    asked.CopyFrom(request)
    _add_step_fields(asked.extraction_config, arm_steps(request, 0))
    return merged, asked


def _add_step_fields(config: study_pb2.ExtractionConfig, steps: Sequence[study_pb2.StudyStep]) -> None:
    for index, step in enumerate(steps):
        for name in step.extraction_config.fields:
            joint = f"{step_name(step, index)}.{name.strip()}"
            config.fields.append(joint)
            if hint := step.extraction_config.fields_hints.get(name):
                config.fields_hints[joint] = hint
