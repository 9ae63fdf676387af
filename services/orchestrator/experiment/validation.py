"""Up-front checks of a RunExperimentRequest: the study's checks on the shared parts, and the arms."""

from __future__ import annotations

from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.common.checks import (
    extraction_config_violations,
    simulation_config_violations,
    stimulus_targets,
    stimulus_text_violations,
)
from services.common.plan_checks import plan_violations
from services.common.violations import Violations
from services.orchestrator.experiment.plans import arm_steps, plan_shape_violations, runs_plans
from services.orchestrator.labels import reserved_label_violations
from services.orchestrator.validation import json_object_violations, known_agent_names, participant_violations

MIN_ARMS = 2
MAX_ARMS = 8
MAX_ARM_NAME_CHARS = 64
Design = orchestrator_pb2.ExperimentDesign


def validate_experiment_request(request: orchestrator_pb2.RunExperimentRequest) -> None:
    """Raises InvalidArgument naming every offending field of the request."""
    violations = Violations()
    violations.extend(reserved_label_violations(request.session_config.labels, "session_config.labels"))
    violations.extend(participant_violations(request.participants))
    violations.check(
        request.participants.mode != orchestrator_pb2.Participants.Mode.MODE_FROM_PANEL,
        "participants.mode",
        "from_panel runs in a study: an experiment makes its arms' participants anew, without memories",
    )
    violations.extend(simulation_config_violations(request.simulation_config, "simulation_config"))
    extraction = study_pb2.ExtractionConfig()
    extraction.CopyFrom(request.extraction_config)
    extraction.extract_results = True
    violations.extend(_extraction_violations(request, extraction))
    violations.check(request.design in Design.values(), "design", "must be between_subjects or within_subjects")
    violations.check(request.seed >= 0, "seed", "must not be negative (0 picks one)")
    names = known_agent_names(request.participants)
    environment = request.simulation_config.environment_type
    if not MIN_ARMS <= len(request.arms) <= MAX_ARMS:
        violations.add("arms", f"must hold {MIN_ARMS} to {MAX_ARMS} arms")
    seen: dict[str, int] = {}
    for index, arm in enumerate(request.arms):
        field = f"arms[{index}]"
        name = arm.name.strip()
        if not name or len(name) > MAX_ARM_NAME_CHARS or not name.isprintable():
            violations.add(f"{field}.name", f"must be 1 to {MAX_ARM_NAME_CHARS} printable characters")
        elif name.lower() in seen:
            violations.add(f"{field}.name", f"arm {name!r} is also arms[{seen[name.lower()]}]")
        else:
            seen[name.lower()] = index
        if arm.HasField("stimulus"):
            _check_stimulus(violations, arm.stimulus, f"{field}.stimulus", names, environment)
            violations.check(not arm.steps, f"{field}.steps", "an arm shows its stimulus or runs its steps, not both")
        if arm.steps:
            violations.extend(plan_violations(arm.steps, request.simulation_config, names, f"{field}.steps"))
        for fragment_index, fragment in enumerate(arm.fragments):
            if fragment.WhichOneof("source") == "custom_json":
                violations.extend(
                    json_object_violations(fragment.custom_json, f"{field}.fragments[{fragment_index}].custom_json")
                )
    if request.steps:
        violations.extend(plan_violations(request.steps, request.simulation_config, names))
        violations.check(not request.HasField("stimulus"), "stimulus", "must be unset when steps are given")
    elif any(not arm.HasField("stimulus") and not arm.steps for arm in request.arms):
        _check_stimulus(violations, request.stimulus, "stimulus", names, environment)
    violations.extend(plan_shape_violations(request))
    violations.raise_if_any()


def _extraction_violations(
    request: orchestrator_pb2.RunExperimentRequest, extraction: study_pb2.ExtractionConfig
) -> list[tuple[str, str]]:
    """The experiment's extraction checks; with plans whose steps extract, it may name no field."""
    violations = extraction_config_violations(extraction, "extraction_config")[1]
    if extraction.fields or not runs_plans(request):
        return violations
    if any(step.extraction_config.fields for step in arm_steps(request, 0)):
        return [violation for violation in violations if violation[0] != "extraction_config.fields"]
    return [
        (
            field,
            "must name at least one field, or the steps of the arms' plans must"
            if field == "extraction_config.fields"
            else description,
        )
        for field, description in violations
    ]


def _check_stimulus(
    violations: Violations, stimulus: study_pb2.Stimulus, prefix: str, names: list[str] | None, environment: int
) -> None:
    violations.extend(stimulus_text_violations(stimulus, prefix, environment))
    if names is not None:
        violations.extend(stimulus_targets(stimulus, prefix, names)[1])
