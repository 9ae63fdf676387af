"""An ExtractResults request checked and turned into a plan; every problem named by its field path."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.extraction.v1 import extraction_pb2

from services.common.checks import duplicate_name_violations, extraction_config_violations
from services.common.hints import FieldSpec
from services.common.limits import MAX_PARTICIPANTS
from services.common.names import check_session_name
from services.common.plan_checks import STEP_NAME
from services.common.violations import Violations
from services.extraction.transcript import Interaction, ordered
from services.runtime.json_input import load_json


class ExtractionMode(StrEnum):
    PER_AGENT = "per_agent"
    RAPPORTEUR = "rapporteur"
    WORLD = "world"


_MODES = {
    study_pb2.ExtractionConfig.MODE_UNSPECIFIED: ExtractionMode.PER_AGENT,
    study_pb2.ExtractionConfig.MODE_PER_AGENT: ExtractionMode.PER_AGENT,
    study_pb2.ExtractionConfig.MODE_RAPPORTEUR: ExtractionMode.RAPPORTEUR,
    study_pb2.ExtractionConfig.MODE_WORLD: ExtractionMode.WORLD,
}


@dataclass(frozen=True)
class ExtractionPlan:
    """What to extract, from whom, and how."""

    session: str
    objective: str
    situation: str
    specs: list[FieldSpec]
    mode: ExtractionMode
    agent_names: list[str]
    """Agents to extract, in request order (agents that failed in the simulation left out)."""
    failed_agents: list[str]
    """Agents that failed in the simulation: not extracted, counted in the failure rate."""
    transcript: list[Interaction]
    statistics: bool


def _agent_name(agent, index: int, violations: Violations) -> str | None:
    if agent.name.strip():
        return agent.name.strip()
    try:
        name = load_json(agent.spec_json or "{}").get("persona", {}).get("name", "")
    except (ValueError, AttributeError):
        name = ""
    if isinstance(name, str) and name.strip():
        return name.strip()
    violations.add(f"agents[{index}].name", "the agent has no name (neither `name` nor `persona.name`)")
    return None


def _agents(request: extraction_pb2.ExtractResultsRequest, violations: Violations) -> list[str]:
    if not request.agents:
        violations.add("agents", "at least one agent is required")
    elif len(request.agents) > MAX_PARTICIPANTS:
        violations.add("agents", f"at most {MAX_PARTICIPANTS} agents")
    named = [
        (f"agents[{index}].name", name)
        for index, agent in enumerate(request.agents)
        if (name := _agent_name(agent, index, violations)) is not None
    ]
    violations.extend(duplicate_name_violations(named))
    return [name for _, name in named]


def plan_extraction(request: extraction_pb2.ExtractResultsRequest) -> ExtractionPlan:
    """The plan of a valid request; raises InvalidArgument naming every offending field."""
    violations = Violations()
    check_session_name(violations, "session", request.session, required=False)
    agent_names = _agents(request, violations)
    if not request.transcript:
        violations.add("transcript", "the transcript is empty")
    specs: list[FieldSpec] = []
    if not request.HasField("config"):
        violations.add("config", "the extraction config is required")
    else:
        specs, problems = extraction_config_violations(request.config, "config")
        violations.extend(problems)
    violations.raise_if_any()
    failed = list(dict.fromkeys(name.strip() for name in request.failed_agents if name.strip()))
    return ExtractionPlan(
        session=request.session,
        objective=request.config.extraction_objective,
        situation=request.config.situation,
        specs=specs,
        mode=_MODES[request.config.mode],
        agent_names=[name for name in agent_names if name not in failed],
        failed_agents=failed,
        transcript=ordered(request.transcript),
        statistics=request.config.statistical_analysis,
    )


@dataclass(frozen=True)
class StepPlan:
    """One step of a study plan to extract: its plan reads the step's interactions only."""

    step: int
    name: str
    plan: ExtractionPlan


def plan_step_extraction(request: extraction_pb2.ExtractResultsRequest) -> list[StepPlan]:
    """The steps' plans of a valid request with `steps`; raises InvalidArgument naming every offending field."""
    violations = Violations()
    check_session_name(violations, "session", request.session, required=False)
    agent_names = _agents(request, violations)
    if not request.transcript:
        violations.add("transcript", "the transcript is empty")
    if request.HasField("config"):
        violations.add("config", "must be unset when steps are given (each step has its own)")
    seen: dict[str, int] = {}
    specs_of: list[list[FieldSpec]] = []
    for index, step in enumerate(request.steps):
        at = f"steps[{index}]"
        if not STEP_NAME.match(step.name):
            violations.add(f"{at}.name", "must be 1 to 64 letters, digits, `_` or `-`")
        elif step.name.lower() in seen:
            violations.add(f"{at}.name", f"step name {step.name!r} is also steps[{seen[step.name.lower()]}]'s")
        else:
            seen[step.name.lower()] = index
        if step.step < 1:
            violations.add(f"{at}.step", f"must be the step's position from 1, not {step.step}")
        specs, problems = extraction_config_violations(step.config, f"{at}.config")
        violations.extend(problems)
        if _MODES.get(step.config.mode) not in (None, ExtractionMode.PER_AGENT):
            violations.add(f"{at}.config.mode", "a step is extracted per agent")
        specs_of.append(specs)
    violations.raise_if_any()
    failed = list(dict.fromkeys(name.strip() for name in request.failed_agents if name.strip()))
    transcript = ordered(request.transcript)
    return [
        StepPlan(
            step=step.step,
            name=step.name,
            plan=ExtractionPlan(
                session=request.session,
                objective=step.config.extraction_objective,
                situation=step.config.situation,
                specs=specs,
                mode=ExtractionMode.PER_AGENT,
                agent_names=[name for name in agent_names if name not in failed],
                failed_agents=failed,
                transcript=[interaction for interaction in transcript if interaction.step == step.step],
                statistics=step.config.statistical_analysis,
            ),
        )
        for step, specs in zip(request.steps, specs_of, strict=True)
    ]
