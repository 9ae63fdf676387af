"""Up-front checks of a RunStudyRequest: every problem named by its field, all at once."""

from __future__ import annotations

import json

from tinytroupe.common.v1 import study_pb2
from tinytroupe.orchestrator.v1 import orchestrator_pb2

from services.runtime.errors import InvalidArgument
from services.runtime.json_input import load_json
from services.runtime.limits import (
    MAX_AGENT_SPEC_CHARS,
    MAX_DOCUMENT_CHARS,
    MAX_INSTRUCTION_CHARS,
    extraction_text_violations,
    stimulus_violations,
    texts_violations,
)

Mode = orchestrator_pb2.Participants.Mode
MAX_PARTICIPANTS = 1000
MAX_ROUNDS = 50
MAX_ACTIONS_PER_TURN = 10
MAX_FIELDS = 32


def validate_study_request(request: orchestrator_pb2.RunStudyRequest) -> None:
    """Raises InvalidArgument naming every offending field of the request."""
    violations = [
        *_participant_violations(request.participants),
        *_simulation_violations(request.simulation_config),
        *_stimulus_violations(request.stimulus),
        *_extraction_violations(request.extraction_config),
    ]
    if violations:
        (field, description), *more = violations
        raise InvalidArgument(field, description, more=more)


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


def _participant_violations(participants: orchestrator_pb2.Participants) -> list[tuple[str, str]]:
    specs = list(participants.specifications)
    if participants.mode == Mode.MODE_UNSPECIFIED or participants.mode not in Mode.values():
        return [
            ("participants.mode", "must be one of from_demographics, from_agent, from_population, custom")
        ]
    violations = texts_violations([
        ("participants.context", participants.context, MAX_INSTRUCTION_CHARS),
        ("participants.particularities", participants.particularities, MAX_INSTRUCTION_CHARS),
        ("participants.expectations", participants.expectations, MAX_INSTRUCTION_CHARS),
    ])
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
            violations.append(
                ("participants.count", f"must be 1 to {MAX_PARTICIPANTS} for from_demographics")
            )
        violations += _single_spec_violations(specs, "a demographics description")
        if len(specs) == 1:
            violations += _json_object_violations(specs[0], "participants.specifications[0]")
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
            violations += _json_object_violations(
                fragment.custom_json, f"participants.fragments[{index}].custom_json"
            )
    return violations


def _single_spec_violations(specs: list[str], what: str) -> list[tuple[str, str]]:
    if len(specs) != 1:
        return [("participants.specifications", f"must hold exactly one entry: {what}")]
    return []


def _json_object_violations(text: str, field: str) -> list[tuple[str, str]]:
    try:
        value = parse_json(text)
    except ValueError as error:
        return [(field, str(error))]
    return [] if isinstance(value, dict) else [(field, "must be a JSON object")]


def _agent_spec_violations(specs: list[str]) -> list[tuple[str, str]]:
    if not 1 <= len(specs) <= MAX_PARTICIPANTS:
        return [("participants.specifications", f"must hold 1 to {MAX_PARTICIPANTS} agent specifications")]
    violations = []
    for index, text in enumerate(specs):
        field = f"participants.specifications[{index}]"
        if problems := _json_object_violations(text, field):
            violations += problems
        else:
            violations += _names_violations([parse_json(text)], [field])
    seen: dict[str, int] = {}
    for index, text in enumerate(specs):
        name = _persona_name(text)
        if name and name in seen:
            violations.append(
                (
                    f"participants.specifications[{index}]",
                    f"agent name {name!r} is also used by participants.specifications[{seen[name]}]",
                )
            )
        seen.setdefault(name, index)
    return violations


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
    violations = []
    seen: set[str] = set()
    for spec, field in zip(specs, fields, strict=True):
        persona = spec.get("persona")
        name = persona.get("name") if isinstance(persona, dict) else None
        if not isinstance(name, str) or not name.strip():
            violations.append((field, "must be a TinyTroupe agent specification with persona.name"))
        elif name in seen:
            violations.append((field, f"agent name {name!r} appears twice"))
        else:
            seen.add(name)
    return violations


def _persona_name(text: str) -> str:
    try:
        persona = parse_json(text).get("persona")
        name = persona.get("name", "") if isinstance(persona, dict) else ""
        return name if isinstance(name, str) else ""  # other types are reported by _names_violations
    except (ValueError, AttributeError):
        return ""


def _description_violations(specs: list[str]) -> list[tuple[str, str]]:
    if not 1 <= len(specs) <= MAX_PARTICIPANTS:
        return [("participants.specifications", f"must hold 1 to {MAX_PARTICIPANTS} descriptions")]
    return [
        (f"participants.specifications[{index}]", "must not be empty")
        for index, text in enumerate(specs)
        if not text.strip()
    ]


def _simulation_violations(config: study_pb2.SimulationConfig) -> list[tuple[str, str]]:
    violations = []
    if config.environment_type == study_pb2.ENVIRONMENT_TYPE_UNSPECIFIED:
        violations.append(("simulation_config.environment_type", "must be focus_group, survey or interview"))
    if not 1 <= config.rounds <= MAX_ROUNDS:
        violations.append(("simulation_config.rounds", f"must be 1 to {MAX_ROUNDS}"))
    if not 0 <= config.max_actions_per_turn <= MAX_ACTIONS_PER_TURN:
        violations.append(("simulation_config.max_actions_per_turn", f"must be 0 to {MAX_ACTIONS_PER_TURN}"))
    if not 0.0 <= config.max_failed_fraction <= 1.0:
        violations.append(("simulation_config.max_failed_fraction", "must be in [0, 1]"))
    return violations


def _stimulus_violations(stimulus: study_pb2.Stimulus) -> list[tuple[str, str]]:
    if not stimulus.content.strip():
        return [("stimulus.content", "must not be empty")]
    return stimulus_violations("stimulus", stimulus.content, stimulus.context)


def _extraction_violations(config: study_pb2.ExtractionConfig) -> list[tuple[str, str]]:
    if not config.extract_results:
        return []
    violations = extraction_text_violations(
        "extraction_config", config.extraction_objective, config.situation, config.fields_hints
    )
    fields = list(config.fields)
    if not fields:
        violations.append(
            ("extraction_config.fields", "must name at least one field when extract_results is set")
        )
    elif len(fields) > MAX_FIELDS:
        violations.append(("extraction_config.fields", f"names {len(fields)} fields; at most {MAX_FIELDS}"))
    for index, name in enumerate(fields):
        if not name.strip():
            violations.append((f"extraction_config.fields[{index}]", "must not be empty"))
        elif fields.index(name) != index:
            violations.append((f"extraction_config.fields[{index}]", f"field {name!r} appears twice"))
    for name in config.fields_hints:
        if name not in fields:
            violations.append(
                (f"extraction_config.fields_hints[{name}]", "names no field of extraction_config.fields")
            )
    return violations
