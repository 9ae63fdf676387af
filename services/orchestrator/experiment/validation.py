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
from services.common.violations import Violations
from services.orchestrator.validation import json_object_violations, known_agent_names, participant_violations

MIN_ARMS = 2
MAX_ARMS = 8
MAX_ARM_NAME_CHARS = 64
Design = orchestrator_pb2.ExperimentDesign


def validate_experiment_request(request: orchestrator_pb2.RunExperimentRequest) -> None:
    """Raises InvalidArgument naming every offending field of the request."""
    violations = Violations()
    violations.extend(participant_violations(request.participants))
    violations.extend(simulation_config_violations(request.simulation_config, "simulation_config"))
    extraction = study_pb2.ExtractionConfig()
    extraction.CopyFrom(request.extraction_config)
    extraction.extract_results = True
    violations.extend(extraction_config_violations(extraction, "extraction_config")[1])
    violations.check(request.design in Design.values(), "design", "must be between_subjects or within_subjects")
    violations.check(request.seed >= 0, "seed", "must not be negative (0 picks one)")
    names = known_agent_names(request.participants)
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
            _check_stimulus(violations, arm.stimulus, f"{field}.stimulus", names)
        for fragment_index, fragment in enumerate(arm.fragments):
            if fragment.WhichOneof("source") == "custom_json":
                violations.extend(
                    json_object_violations(fragment.custom_json, f"{field}.fragments[{fragment_index}].custom_json")
                )
    if any(not arm.HasField("stimulus") for arm in request.arms):
        _check_stimulus(violations, request.stimulus, "stimulus", names)
    violations.raise_if_any()


def _check_stimulus(violations: Violations, stimulus: study_pb2.Stimulus, prefix: str, names: list[str] | None) -> None:
    violations.extend(stimulus_text_violations(stimulus, prefix))
    if names is not None:
        violations.extend(stimulus_targets(stimulus, prefix, names)[1])
