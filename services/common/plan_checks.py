"""Checks of a study plan (`steps`) and the rules that resolve a step: its name and its rounds.

RunStudy runs them on its request and simulation on its own (under the same `steps` prefix), so a plan
RunStudy accepts is never refused downstream; each returns `(field, description)` pairs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from tinytroupe_mesh_api.common.v1 import study_pb2

from services.common.checks import extraction_config_violations, stimulus_targets, stimulus_text_violations
from services.common.limits import MAX_ROUNDS, stimulus_violations

Violation = tuple[str, str]

MAX_STEPS = 50
"""Steps of one plan."""
MAX_PLAN_ROUNDS = 200
"""Rounds of a whole plan, every step's together."""
MAX_FOLLOW_UPS = 10
"""Interviewer follow-ups of one interview question."""
PER_AGENT_MODES = (study_pb2.ExtractionConfig.MODE_UNSPECIFIED, study_pb2.ExtractionConfig.MODE_PER_AGENT)
STEP_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def step_name(step: study_pb2.StudyStep, index: int) -> str:
    """The step's name: its own, or `step_{n}` (n from 1)."""
    return step.name.strip() or f"step_{index + 1}"


def step_rounds(step: study_pb2.StudyStep, config: study_pb2.SimulationConfig) -> int:
    """The step's rounds: its own, 1 + its follow-ups (an interview question with model follow-ups), or
    the simulation config's."""
    if step.rounds:
        return step.rounds
    if step.max_follow_ups and config.environment_type == study_pb2.ENVIRONMENT_TYPE_INTERVIEW:
        return 1 + step.max_follow_ups
    return config.rounds


def rounds_total(steps: Sequence[study_pb2.StudyStep], config: study_pb2.SimulationConfig) -> int:
    """Rounds a simulation runs at most: the config's, or every step's of a plan together."""
    return sum(step_rounds(step, config) for step in steps) if steps else config.rounds


def steps_extract(step: study_pb2.StudyStep) -> bool:
    """Whether the step has an extraction of its own."""
    return bool(step.extraction_config.extract_results or step.extraction_config.fields)


def plan_violations(
    steps: Sequence[study_pb2.StudyStep],
    config: study_pb2.SimulationConfig,
    agent_names: Iterable[str] | None,
    prefix: str = "steps",
) -> list[Violation]:
    """What is wrong with a plan run under `config` by the agents named (None: names not known yet)."""
    names = list(agent_names) if agent_names is not None else None
    violations: list[Violation] = []
    if len(steps) > MAX_STEPS:
        return [(prefix, f"holds {len(steps)} steps; at most {MAX_STEPS}")]
    seen: dict[str, int] = {}
    total_rounds = 0
    for index, step in enumerate(steps):
        at = f"{prefix}[{index}]"
        violations += _name_violations(step, index, at, seen)
        if not step.HasField("stimulus"):
            violations.append((f"{at}.stimulus.content", "is required"))
        else:
            violations += stimulus_text_violations(step.stimulus, f"{at}.stimulus", config.environment_type)
            if names is not None:
                violations += stimulus_targets(step.stimulus, f"{at}.stimulus", names)[1]
        violations += _rounds_violations(step, config, at)
        total_rounds += max(step_rounds(step, config), 0)
        if step.HasField("intervention"):
            violations += _intervention_violations(step.intervention, f"{at}.intervention", names)
        if step.moderator_opens and config.environment_type != study_pb2.ENVIRONMENT_TYPE_FOCUS_GROUP:
            violations.append((f"{at}.moderator_opens", "a moderator opens topics of focus groups only"))
        if steps_extract(step):
            violations += extraction_config_violations(step.extraction_config, f"{at}.extraction_config")[1]
            if step.extraction_config.mode not in PER_AGENT_MODES:
                violations.append((f"{at}.extraction_config.mode", "a step is extracted per agent"))
    if total_rounds > MAX_PLAN_ROUNDS:
        violations.append((prefix, f"the steps have {total_rounds} rounds together; at most {MAX_PLAN_ROUNDS}"))
    return violations


def _name_violations(step: study_pb2.StudyStep, index: int, at: str, seen: dict[str, int]) -> list[Violation]:
    name = step.name.strip()
    if name and not STEP_NAME.match(name):
        return [(f"{at}.name", "must be 1 to 64 letters, digits, `_` or `-`")]
    key = step_name(step, index).lower()
    if key in seen:
        return [(f"{at}.name", f"step name {step_name(step, index)!r} is also steps[{seen[key]}]'s")]
    seen[key] = index
    return []


def _rounds_violations(step: study_pb2.StudyStep, config: study_pb2.SimulationConfig, at: str) -> list[Violation]:
    violations = []
    if not 0 <= step.rounds <= MAX_ROUNDS:
        violations.append((f"{at}.rounds", f"must be 1 to {MAX_ROUNDS} (0 means the default), not {step.rounds}"))
    if not 0 <= step.max_follow_ups <= MAX_FOLLOW_UPS:
        violations.append((f"{at}.max_follow_ups", f"must be 0 to {MAX_FOLLOW_UPS}, not {step.max_follow_ups}"))
    elif step.max_follow_ups:
        if config.environment_type != study_pb2.ENVIRONMENT_TYPE_INTERVIEW:
            violations.append((f"{at}.max_follow_ups", "an interviewer writes follow-ups in interviews only"))
        elif step.rounds and step.rounds != 1 + step.max_follow_ups:
            violations.append(
                (
                    f"{at}.rounds",
                    f"an interview question with {step.max_follow_ups} follow-ups has "
                    f"{1 + step.max_follow_ups} rounds (or 0), not {step.rounds}",
                )
            )
    return violations


def _intervention_violations(intervention: study_pb2.Intervention, at: str, names: list[str] | None) -> list[Violation]:
    violations = stimulus_violations(at, intervention.content, intervention.context)
    if not intervention.content.strip() and not intervention.context.strip():
        violations.append((f"{at}.content", "an intervention needs content, a context or both"))
    if names is not None:
        violations += stimulus_targets(intervention, at, names)[1]
    return violations
