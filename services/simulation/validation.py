"""Checks of RunSimulation / ResumeSimulation requests; every failure names its field."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from tinytroupe.common.v1 import agent_pb2
from tinytroupe.simulation.v1 import simulation_pb2

from services.engine.names import normalize_name
from services.engine.persona import Persona, SpecError
from services.runtime.errors import InvalidArgument
from services.runtime.limits import MAX_AGENT_SPEC_CHARS, stimulus_violations, text_violations
from services.simulation.convert import ENVIRONMENTS, TURN_ORDERS

MAX_ROUNDS = 50
MAX_ACTIONS_PER_TURN = 10
MAX_AGENTS = 5000
SESSION_NAME = re.compile(r"sessions/[A-Za-z0-9][A-Za-z0-9-]{0,62}")
CHECKPOINT_NAME = re.compile(r"(sessions/[A-Za-z0-9][A-Za-z0-9-]{0,62})/checkpoints/([A-Za-z0-9][A-Za-z0-9_-]{0,62}"
                             r"|-latest)")


class _Violations:
    def __init__(self) -> None:
        self.found: list[tuple[str, str]] = []

    def add(self, field: str, description: str) -> None:
        self.found.append((field, description))

    def raise_if_any(self) -> None:
        if self.found:
            (field, description), *more = self.found
            raise InvalidArgument(field, description, more=more)


@dataclass(frozen=True)
class ValidRun:
    """A RunSimulation request that passed every check, with its personas parsed."""

    session: str
    personas: list[Persona]
    stimulus_targets: list[str]
    """The stimulus's target agents by their canonical names."""


def _check_agents(agents: list[agent_pb2.Agent], violations: _Violations) -> list[Persona]:
    if not agents:
        violations.add("agents", "at least one agent is required")
    elif len(agents) > MAX_AGENTS:
        violations.add("agents", f"at most {MAX_AGENTS} agents, not {len(agents)}")
    personas: list[Persona] = []
    seen: dict[str, int] = {}
    for index, agent in enumerate(agents):
        if problems := text_violations(f"agents[{index}].spec_json", agent.spec_json, MAX_AGENT_SPEC_CHARS):
            violations.add(*problems[0])
            continue
        try:
            persona = Persona.from_json(agent.spec_json)
        except SpecError as error:
            for violation in error.violations:
                path = f".{violation.field_path}" if violation.field_path else ""
                violations.add(f"agents[{index}].spec_json{path}", violation.description)
            continue
        key = normalize_name(persona.name)
        if key in seen:
            violations.add(f"agents[{index}].name", f"duplicate agent name {persona.name!r}: agents[{seen[key]}] "
                                                    "has it too; names must be unique")
        else:
            seen[key] = index
        personas.append(persona)
    return personas


def _check_config(request: simulation_pb2.RunSimulationRequest, violations: _Violations) -> None:
    if not request.HasField("config"):
        violations.add("config", "is required")
        return
    config = request.config
    if config.environment_type not in ENVIRONMENTS:
        violations.add("config.environment_type", "must be ENVIRONMENT_TYPE_FOCUS_GROUP, _SURVEY or _INTERVIEW")
    if not 1 <= config.rounds <= MAX_ROUNDS:
        violations.add("config.rounds", f"must be 1 to {MAX_ROUNDS}, not {config.rounds}")
    if not 0 <= config.max_actions_per_turn <= MAX_ACTIONS_PER_TURN:
        violations.add("config.max_actions_per_turn",
                       f"must be 1 to {MAX_ACTIONS_PER_TURN} (0 means 4), not {config.max_actions_per_turn}")
    if config.turn_order not in TURN_ORDERS:
        violations.add("config.turn_order", "must be TURN_ORDER_CONCURRENT, TURN_ORDER_SEQUENTIAL or unspecified")
    fraction = config.max_failed_fraction
    if not (math.isfinite(fraction) and 0.0 <= fraction <= 1.0):
        violations.add("config.max_failed_fraction", f"must be within [0, 1] (0 means 0.5), not {fraction}")


def _check_stimulus(request: simulation_pb2.RunSimulationRequest, personas: list[Persona],
                    violations: _Violations) -> list[str]:
    if not request.HasField("stimulus") or not request.stimulus.content.strip():
        violations.add("stimulus.content", "is required")
        return []
    for field, description in stimulus_violations("stimulus", request.stimulus.content, request.stimulus.context):
        violations.add(field, description)
    names = {normalize_name(persona.name): persona.name for persona in personas}
    targets: list[str] = []
    for index, target in enumerate(request.stimulus.target_agents):
        name = names.get(normalize_name(target))
        if name is None:
            violations.add(f"stimulus.target_agents[{index}]", f"no agent is named {target!r}")
        elif name not in targets:
            targets.append(name)
    return targets


def validate_run(request: simulation_pb2.RunSimulationRequest) -> ValidRun:
    violations = _Violations()
    if not request.session:
        violations.add("session", "is required")
    elif not SESSION_NAME.fullmatch(request.session):
        violations.add("session", "must be sessions/{session}")
    personas = _check_agents(list(request.agents), violations)
    _check_config(request, violations)
    targets = _check_stimulus(request, personas, violations)
    violations.raise_if_any()
    return ValidRun(session=request.session, personas=personas, stimulus_targets=targets)


def validate_checkpoint_name(name: str) -> str:
    """The session of `sessions/{session}/checkpoints/{checkpoint}`."""
    if not name:
        raise InvalidArgument("checkpoint", "is required")
    match = CHECKPOINT_NAME.fullmatch(name)
    if match is None:
        raise InvalidArgument("checkpoint", "must be sessions/{session}/checkpoints/{checkpoint} (or -latest)")
    return match[1]
