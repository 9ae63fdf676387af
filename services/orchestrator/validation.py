"""Up-front checks of a RunStudyRequest: every problem named by its field, all at once."""

from __future__ import annotations

import json
import math

from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.common.checks import (
    duplicate_name_violations,
    extraction_config_violations,
    simulation_config_violations,
    stimulus_targets,
    stimulus_text_violations,
)
from services.common.limits import (
    MAX_AGENT_SPEC_CHARS,
    MAX_DOCUMENT_CHARS,
    MAX_INSTRUCTION_CHARS,
    MAX_PARTICIPANTS,
    texts_violations,
)
from services.common.plan_checks import plan_violations
from services.common.violations import Violations
from services.orchestrator.labels import reserved_label_violations
from services.orchestrator.panels import panel_field_violations, panel_participant_violations
from services.runtime.json_input import load_json

Mode = orchestrator_pb2.Participants.Mode


def validate_study_request(request: orchestrator_pb2.RunStudyRequest) -> None:
    """Raises InvalidArgument naming every offending field of the request: the checks simulation and
    extraction run on their own requests included, so no study is refused downstream after model calls."""
    violations = Violations()
    violations.extend(reserved_label_violations(request.session_config.labels, "session_config.labels"))
    violations.extend(participant_violations(request.participants))
    violations.extend(panel_field_violations(request))
    violations.extend(simulation_config_violations(request.simulation_config, "simulation_config"))
    names = known_agent_names(request.participants)
    if request.steps:
        violations.extend(plan_violations(request.steps, request.simulation_config, names))
        if request.HasField("stimulus"):
            violations.add("stimulus", "must be unset when steps are given (each step has its own)")
    else:
        violations.extend(
            stimulus_text_violations(request.stimulus, "stimulus", request.simulation_config.environment_type)
        )
        if names is not None:
            violations.extend(stimulus_targets(request.stimulus, "stimulus", names)[1])
    if request.extraction_config.extract_results:
        violations.extend(extraction_config_violations(request.extraction_config, "extraction_config")[1])
    violations.raise_if_any()


def known_agent_names(participants: orchestrator_pb2.Participants) -> list[str] | None:
    """The participants' names where the request fixes them (given agents, a population or the named members
    of a panel), else None."""
    if participants.mode == Mode.MODE_FROM_PANEL:
        return list(participants.panel_members) or None
    if participants.mode == Mode.MODE_FROM_AGENT:
        texts = list(participants.specifications)
    elif participants.mode == Mode.MODE_FROM_POPULATION and len(participants.specifications) == 1:
        try:
            return [_name_in(spec) for spec in agent_specs_of_population(participants.specifications[0])]
        except ValueError:
            return None
    else:
        return None
    names = []
    for text in texts:
        try:
            names.append(_name_in(parse_json(text)))
        except ValueError:
            return None
    return names


def _name_in(spec: object) -> str:
    persona = spec.get("persona") if isinstance(spec, dict) else None
    name = persona.get("name") if isinstance(persona, dict) else None
    return name if isinstance(name, str) else ""


def parse_json(text: str) -> object:
    """Parsed JSON; ValueError with a readable position on malformed input."""
    try:
        return load_json(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}") from None


def agent_specs_of_population(text: str) -> list[dict]:
    """The agent specifications of a population (a JSON array of them)."""
    population = parse_json(text)
    if not isinstance(population, list) or not population:
        raise ValueError("must be a non-empty JSON array of agent specifications")
    if not all(isinstance(spec, dict) for spec in population):
        raise ValueError("every entry of the array must be a JSON object (an agent specification)")
    return population


def participant_violations(participants: orchestrator_pb2.Participants) -> list[tuple[str, str]]:
    specs = list(participants.specifications)
    if participants.mode == Mode.MODE_UNSPECIFIED or participants.mode not in Mode.values():
        return [
            ("participants.mode", "must be one of from_demographics, from_agent, from_population, custom, from_panel")
        ]
    violations = texts_violations(
        [
            ("participants.context", participants.context, MAX_INSTRUCTION_CHARS),
            ("participants.particularities", participants.particularities, MAX_INSTRUCTION_CHARS),
            ("participants.expectations", participants.expectations, MAX_INSTRUCTION_CHARS),
        ]
    )
    minimum = participants.min_validation_score
    if not (math.isfinite(minimum) and 0.0 <= minimum <= 1.0):
        violations.append(("participants.min_validation_score", f"must be within [0, 1], not {minimum}"))
    elif minimum and not participants.expectations.strip():
        violations.append(("participants.min_validation_score", "needs expectations to validate against"))
    if participants.mode == Mode.MODE_FROM_PANEL:
        return violations + panel_participant_violations(participants)
    spec_limit = MAX_AGENT_SPEC_CHARS if participants.mode == Mode.MODE_FROM_AGENT else MAX_DOCUMENT_CHARS
    if participants.mode == Mode.MODE_FROM_POPULATION:
        spec_limit = MAX_AGENT_SPEC_CHARS * MAX_PARTICIPANTS
    oversized = texts_violations(
        (f"participants.specifications[{index}]", text, spec_limit) for index, text in enumerate(specs)
    )
    if oversized:
        return violations + oversized
    if participants.mode == Mode.MODE_FROM_DEMOGRAPHICS:
        if not 1 <= participants.count <= MAX_PARTICIPANTS:
            violations.append(("participants.count", f"must be 1 to {MAX_PARTICIPANTS} for from_demographics"))
        violations += _single_spec_violations(specs, "a demographics description")
        if len(specs) == 1:
            violations += json_object_violations(specs[0], "participants.specifications[0]")
    else:
        if not 0 <= participants.count <= MAX_PARTICIPANTS:
            violations.append(("participants.count", f"must be 0 to {MAX_PARTICIPANTS}"))
        if participants.mode == Mode.MODE_FROM_AGENT:
            violations += _agent_spec_violations(specs)
        elif participants.mode == Mode.MODE_FROM_POPULATION:
            violations += _single_spec_violations(specs, "a JSON array of agent specifications")
            if len(specs) == 1:
                violations += _population_violations(specs[0])
        else:
            violations += _description_violations(specs)
    for index, fragment in enumerate(participants.fragments):
        if fragment.WhichOneof("source") == "custom_json":
            violations += json_object_violations(fragment.custom_json, f"participants.fragments[{index}].custom_json")
    return violations


def _single_spec_violations(specs: list[str], what: str) -> list[tuple[str, str]]:
    if len(specs) != 1:
        return [("participants.specifications", f"must hold exactly one entry: {what}")]
    return []


def json_object_violations(text: str, field: str) -> list[tuple[str, str]]:
    try:
        value = parse_json(text)
    except ValueError as error:
        return [(field, str(error))]
    return [] if isinstance(value, dict) else [(field, "must be a JSON object")]


def _agent_spec_violations(specs: list[str]) -> list[tuple[str, str]]:
    if not 1 <= len(specs) <= MAX_PARTICIPANTS:
        return [("participants.specifications", f"must hold 1 to {MAX_PARTICIPANTS} agent specifications")]
    violations = []
    parsed, fields = [], []
    for index, text in enumerate(specs):
        field = f"participants.specifications[{index}]"
        if problems := json_object_violations(text, field):
            violations += problems
        else:
            parsed.append(parse_json(text))
            fields.append(field)
    return violations + _names_violations(parsed, fields)


def _population_violations(text: str) -> list[tuple[str, str]]:
    field = "participants.specifications[0]"
    try:
        population = agent_specs_of_population(text)
    except ValueError as error:
        return [(field, str(error))]
    if len(population) > MAX_PARTICIPANTS:
        return [(field, f"holds {len(population)} agents; at most {MAX_PARTICIPANTS}")]
    return _names_violations(population, [f"{field}[{index}]" for index in range(len(population))])


def _names_violations(specs: list[dict], fields: list[str]) -> list[tuple[str, str]]:
    """Each spec needs a persona.name; names must differ as simulation and extraction compare them."""
    violations, named = [], []
    for spec, field in zip(specs, fields, strict=True):
        name = _name_in(spec)
        if not name.strip():
            violations.append((field, "must be a TinyTroupe agent specification with persona.name"))
        else:
            named.append((field, name))
    return violations + duplicate_name_violations(named)


def _description_violations(specs: list[str]) -> list[tuple[str, str]]:
    if not 1 <= len(specs) <= MAX_PARTICIPANTS:
        return [("participants.specifications", f"must hold 1 to {MAX_PARTICIPANTS} descriptions")]
    return [
        (f"participants.specifications[{index}]", "must not be empty")
        for index, text in enumerate(specs)
        if not text.strip()
    ]
