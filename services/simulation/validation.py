"""Checks of RunSimulation / ResumeSimulation requests; every failure names its field."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tinytroupe_mesh_api.common.v1 import agent_pb2
from tinytroupe_mesh_api.simulation.v1 import simulation_pb2

from services.common.checks import (
    duplicate_name_violations,
    simulation_config_violations,
    stimulus_targets,
    stimulus_text_violations,
)
from services.common.limits import MAX_AGENT_SPEC_CHARS, MAX_SIMULATION_AGENTS, text_violations
from services.common.names import check_session_name, checkpoint_ids_of, session_name
from services.common.plan_checks import plan_violations
from services.common.violations import Violations
from services.engine.persona import Persona, SpecError


@dataclass(frozen=True)
class ValidRun:
    """A RunSimulation request that passed every check, with its personas parsed."""

    session: str
    personas: list[Persona]
    stimulus_targets: list[str]
    """The stimulus's target agents by their canonical names."""


def _check_agents(agents: list[agent_pb2.Agent], violations: Violations) -> list[Persona]:
    if not agents:
        violations.add("agents", "at least one agent is required")
    elif len(agents) > MAX_SIMULATION_AGENTS:
        violations.add("agents", f"at most {MAX_SIMULATION_AGENTS} agents, not {len(agents)}")
    personas: list[Persona] = []
    named: list[tuple[str, str]] = []
    for index, agent in enumerate(agents):
        if problems := text_violations(f"agents[{index}].spec_json", agent.spec_json, MAX_AGENT_SPEC_CHARS):
            violations.extend(problems)
            continue
        try:
            persona = Persona.from_json(agent.spec_json)
        except SpecError as error:
            for violation in error.violations:
                path = f".{violation.field_path}" if violation.field_path else ""
                violations.add(f"agents[{index}].spec_json{path}", violation.description)
            continue
        named.append((f"agents[{index}].name", persona.name))
        personas.append(persona)
    violations.extend(duplicate_name_violations(named))
    return personas


CHECKPOINT_SUFFIX = re.compile(r"[a-z0-9_-]{0,32}")


def validate_run(request: simulation_pb2.RunSimulationRequest) -> ValidRun:
    violations = Violations()
    check_session_name(violations, "session", request.session)
    personas = _check_agents(list(request.agents), violations)
    if request.HasField("config"):
        violations.extend(simulation_config_violations(request.config, "config"))
    else:
        violations.add("config", "is required")
    targets: list[str] = []
    if request.steps:
        violations.extend(plan_violations(request.steps, request.config, [persona.name for persona in personas]))
        if request.HasField("stimulus"):
            violations.add("stimulus", "must be unset when steps are given (each step has its own)")
    elif request.HasField("stimulus"):
        violations.extend(stimulus_text_violations(request.stimulus, "stimulus", request.config.environment_type))
        targets, problems = stimulus_targets(request.stimulus, "stimulus", (persona.name for persona in personas))
        violations.extend(problems)
    else:
        violations.add("stimulus.content", "is required")
    if not CHECKPOINT_SUFFIX.fullmatch(request.checkpoint_suffix):
        violations.add("checkpoint_suffix", "must be lowercase letters, digits, `_` and `-`, at most 32")
    violations.raise_if_any()
    return ValidRun(session=request.session, personas=personas, stimulus_targets=targets)


def validate_checkpoint_name(name: str) -> str:
    """The session of `sessions/{session}/checkpoints/{checkpoint}`."""
    session_id, _ = checkpoint_ids_of(name, "checkpoint")
    return session_name(session_id)
