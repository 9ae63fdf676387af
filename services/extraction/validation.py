"""An ExtractResults request checked and turned into a plan; every problem named by its field path."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tinytroupe.common.v1 import study_pb2
from tinytroupe.extraction.v1 import extraction_pb2

from services.extraction.hints import FieldSpec, HintError, default_hint, parse_hint
from services.extraction.transcript import Interaction, ordered
from services.runtime.errors import InvalidArgument
from services.runtime.json_input import load_json
from services.runtime.limits import extraction_text_violations

MAX_FIELDS = 32
MAX_FIELD_NAME_CHARS = 64
MAX_AGENTS = 1000


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


def _agent_name(agent, index: int, violations: list[tuple[str, str]]) -> str | None:
    if agent.name.strip():
        return agent.name.strip()
    try:
        name = load_json(agent.spec_json or "{}").get("persona", {}).get("name", "")
    except (ValueError, AttributeError):
        name = ""
    if isinstance(name, str) and name.strip():
        return name.strip()
    violations.append((f"agents[{index}].name", "the agent has no name (neither `name` nor `persona.name`)"))
    return None


def _agents(request: extraction_pb2.ExtractResultsRequest, violations: list[tuple[str, str]]) -> list[str]:
    if not request.agents:
        violations.append(("agents", "at least one agent is required"))
    elif len(request.agents) > MAX_AGENTS:
        violations.append(("agents", f"at most {MAX_AGENTS} agents"))
    names: list[str] = []
    for index, agent in enumerate(request.agents):
        name = _agent_name(agent, index, violations)
        if name is None:
            continue
        if name in names:
            violations.append((f"agents[{index}].name", f"duplicates agents[{names.index(name)}] ({name!r})"))
        names.append(name)
    return names


def _field_names(config: study_pb2.ExtractionConfig, violations: list[tuple[str, str]]) -> list[str]:
    if not config.fields:
        violations.append(("config.fields", "at least one field is required"))
    elif len(config.fields) > MAX_FIELDS:
        violations.append(("config.fields", f"at most {MAX_FIELDS} fields"))
    names: list[str] = []
    lowered: list[str] = []
    for index, raw in enumerate(config.fields):
        name = raw.strip()
        if not name:
            violations.append((f"config.fields[{index}]", "must not be empty"))
        elif len(name) > MAX_FIELD_NAME_CHARS or not name.isprintable():
            violations.append((f"config.fields[{index}]", f"at most {MAX_FIELD_NAME_CHARS} printable characters"))
        elif name.lower() in lowered:
            violations.append((f"config.fields[{index}]", f"duplicates config.fields[{lowered.index(name.lower())}]"))
        else:
            names.append(name)
            lowered.append(name.lower())
    return names


def _specs(config: study_pb2.ExtractionConfig, names: list[str],
           violations: list[tuple[str, str]]) -> list[FieldSpec]:
    hints = {key.strip(): hint for key, hint in config.fields_hints.items()}
    for key in hints:
        if key not in names:
            violations.append((f"config.fields_hints[{key}]", "names no field of config.fields"))
    specs = []
    for name in names:
        hint = hints.get(name, "").strip() or default_hint(name)
        try:
            specs.append(parse_hint(name, hint))
        except HintError as error:
            violations.append((f"config.fields_hints[{name}]", str(error)))
    return specs


def plan_extraction(request: extraction_pb2.ExtractResultsRequest) -> ExtractionPlan:
    """The plan of a valid request; raises InvalidArgument naming every offending field."""
    violations: list[tuple[str, str]] = []
    if request.session and not request.session.startswith("sessions/"):
        violations.append(("session", "must be `sessions/{session}`"))
    agent_names = _agents(request, violations)
    if not request.transcript:
        violations.append(("transcript", "the transcript is empty"))
    specs: list[FieldSpec] = []
    mode = ExtractionMode.PER_AGENT
    if not request.HasField("config"):
        violations.append(("config", "the extraction config is required"))
    else:
        config = request.config
        violations += extraction_text_violations("config", config.extraction_objective, config.situation,
                                                 config.fields_hints)
        specs = _specs(config, _field_names(config, violations), violations)
        if config.mode not in _MODES:
            violations.append(("config.mode", f"unknown mode {config.mode}"))
        mode = _MODES.get(config.mode, ExtractionMode.PER_AGENT)
    if violations:
        raise InvalidArgument(*violations[0], more=violations[1:])
    failed = list(dict.fromkeys(name.strip() for name in request.failed_agents if name.strip()))
    return ExtractionPlan(
        session=request.session,
        objective=request.config.extraction_objective,
        situation=request.config.situation,
        specs=specs,
        mode=mode,
        agent_names=[name for name in agent_names if name not in failed],
        failed_agents=failed,
        transcript=ordered(request.transcript),
        statistics=request.config.statistical_analysis,
    )
