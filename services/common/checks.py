"""Checks of the common messages (SimulationConfig, Stimulus, ExtractionConfig) and of agent names.

The orchestrator runs them on a study request before any model call, and simulation and extraction run
the same functions on their own requests, so a request RunStudy accepts is never refused downstream.
Each check returns `(field, description)` pairs under the field prefix its caller gives.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from tinytroupe_mesh_api.common.v1 import study_pb2

from services.common.hints import FieldSpec, HintError, default_hint, parse_hint
from services.common.limits import (
    MAX_ACTIONS_PER_TURN,
    MAX_FIELD_NAME_CHARS,
    MAX_FIELDS,
    MAX_OPTION_NAME_CHARS,
    MAX_ROUNDS,
    MAX_STIMULUS_CHARS,
    MAX_STIMULUS_OPTIONS,
    extraction_text_violations,
    stimulus_violations,
    texts_violations,
)
from services.engine.names import normalize_name

Violation = tuple[str, str]

ENVIRONMENT_TYPES = frozenset(
    {
        study_pb2.ENVIRONMENT_TYPE_FOCUS_GROUP,
        study_pb2.ENVIRONMENT_TYPE_SURVEY,
        study_pb2.ENVIRONMENT_TYPE_INTERVIEW,
    }
)
TURN_ORDERS = frozenset(
    {
        study_pb2.TURN_ORDER_UNSPECIFIED,
        study_pb2.TURN_ORDER_CONCURRENT,
        study_pb2.TURN_ORDER_SEQUENTIAL,
    }
)
EXTRACTION_MODES = frozenset(study_pb2.ExtractionConfig.Mode.values())


def simulation_config_violations(config: study_pb2.SimulationConfig, prefix: str) -> list[Violation]:
    violations = []
    if config.environment_type not in ENVIRONMENT_TYPES:
        violations.append((f"{prefix}.environment_type", "must be focus_group, survey or interview"))
    if not 1 <= config.rounds <= MAX_ROUNDS:
        violations.append((f"{prefix}.rounds", f"must be 1 to {MAX_ROUNDS}, not {config.rounds}"))
    if not 0 <= config.max_actions_per_turn <= MAX_ACTIONS_PER_TURN:
        violations.append(
            (
                f"{prefix}.max_actions_per_turn",
                f"must be 1 to {MAX_ACTIONS_PER_TURN} (0 means the default), not {config.max_actions_per_turn}",
            )
        )
    if config.turn_order not in TURN_ORDERS:
        violations.append((f"{prefix}.turn_order", "must be concurrent, sequential or unspecified"))
    fraction = config.max_failed_fraction
    if not (math.isfinite(fraction) and 0.0 <= fraction <= 1.0):
        violations.append(
            (f"{prefix}.max_failed_fraction", f"must be within [0, 1] (0 means the default), not {fraction}")
        )
    return violations + quality_checks_violations(config.quality_checks, f"{prefix}.quality_checks")


MAX_QUALITY_ATTEMPTS = 6


def quality_checks_violations(checks: study_pb2.QualityChecks, prefix: str) -> list[Violation]:
    violations = []
    for index, check in enumerate(checks.checks):
        if check not in study_pb2.QualityCheck.values() or check == study_pb2.QUALITY_CHECK_UNSPECIFIED:
            violations.append(
                (f"{prefix}.checks[{index}]", "must be persona_adherence, self_consistency, fluency or suitability")
            )
    if not (math.isfinite(checks.threshold) and 0.0 <= checks.threshold <= 1.0):
        violations.append((f"{prefix}.threshold", f"must be within [0, 1] (0 means 0.7), not {checks.threshold}"))
    if not 0 <= checks.max_attempts <= MAX_QUALITY_ATTEMPTS:
        violations.append(
            (f"{prefix}.max_attempts", f"must be 1 to {MAX_QUALITY_ATTEMPTS} (0 means 3), not {checks.max_attempts}")
        )
    return violations


ALONE_ENVIRONMENTS = frozenset({study_pb2.ENVIRONMENT_TYPE_SURVEY, study_pb2.ENVIRONMENT_TYPE_INTERVIEW})
"""Where every participant answers alone, so that each may see the options in an order of their own."""


def stimulus_text_violations(
    stimulus: study_pb2.Stimulus, prefix: str, environment: int | None = None
) -> list[Violation]:
    """The stimulus's texts and options; with the world's `environment`, whether its options may be blinded."""
    if not stimulus.content.strip():
        return [(f"{prefix}.content", "must not be empty")]
    return [
        *stimulus_violations(prefix, stimulus.content, stimulus.context),
        *stimulus_option_violations(stimulus, prefix, environment),
    ]


def stimulus_option_violations(
    stimulus: study_pb2.Stimulus, prefix: str, environment: int | None = None
) -> list[Violation]:
    violations: list[Violation] = []
    if len(stimulus.options) > MAX_STIMULUS_OPTIONS:
        violations.append(
            (f"{prefix}.options", f"lists {len(stimulus.options)} options; at most {MAX_STIMULUS_OPTIONS}")
        )
    seen: set[str] = set()
    for index, option in enumerate(stimulus.options):
        field = f"{prefix}.options[{index}]"
        name = normalize_name(option.name)
        if not name:
            violations.append((f"{field}.name", "must not be empty"))
        elif name in seen:
            violations.append((f"{field}.name", f"repeats the option {option.name.strip()!r}"))
        seen.add(name)
        violations.extend(
            texts_violations(
                [
                    (f"{field}.name", option.name, MAX_OPTION_NAME_CHARS),
                    (f"{field}.description", option.description, MAX_STIMULUS_CHARS),
                ]
            )
        )
    if stimulus.blind_options:
        if len(stimulus.options) < 2:
            violations.append((f"{prefix}.blind_options", "needs at least two options to blind"))
        if environment is not None and environment not in ALONE_ENVIRONMENTS:
            violations.append(
                (f"{prefix}.blind_options", "needs a world where each participant answers alone (survey or interview)")
            )
    return violations


def stimulus_targets(
    stimulus: study_pb2.Stimulus, prefix: str, agent_names: Iterable[str]
) -> tuple[list[str], list[Violation]]:
    """The stimulus's target agents by the agents' own names (request order, no repeats), and the
    targets that name no agent. Names compare as `normalize_name` does."""
    names = {normalize_name(name): name for name in agent_names}
    targets: list[str] = []
    violations = []
    for index, target in enumerate(stimulus.target_agents):
        name = names.get(normalize_name(target))
        if name is None:
            violations.append((f"{prefix}.target_agents[{index}]", f"no agent is named {target!r}"))
        elif name not in targets:
            targets.append(name)
    return targets, violations


def duplicate_name_violations(named: Iterable[tuple[str, str]]) -> list[Violation]:
    """For `(field, agent name)` pairs: each name that another field already has, as `normalize_name`
    compares them (case, quotes, spacing and compatibility forms do not make two people)."""
    seen: dict[str, str] = {}
    violations = []
    for field, name in named:
        key = normalize_name(name)
        if key in seen:
            violations.append((field, f"agent name {name!r} is also used by {seen[key]}; names must be unique"))
        else:
            seen[key] = field
    return violations


def extraction_config_violations(
    config: study_pb2.ExtractionConfig, prefix: str
) -> tuple[list[FieldSpec], list[Violation]]:
    """The typed fields of an extraction config (field names with their parsed hints), and what is wrong."""
    violations = extraction_text_violations(prefix, config.extraction_objective, config.situation, config.fields_hints)
    names = _field_names(config, prefix, violations)
    lowered = {name.lower(): name for name in names}
    hints: dict[str, str] = {}
    for key, hint in config.fields_hints.items():
        name = lowered.get(key.strip().lower())
        if name is None:
            violations.append(
                (f"{prefix}.fields_hints[{key}]", f"the hint's key {key!r} names no field of {prefix}.fields")
            )
        else:
            hints[name] = hint
    specs = []
    for name in names:
        hint = hints.get(name, "").strip() or default_hint(name)
        try:
            specs.append(parse_hint(name, hint))
        except HintError as error:
            violations.append((f"{prefix}.fields_hints[{name}]", str(error)))
    if config.mode not in EXTRACTION_MODES:
        violations.append((f"{prefix}.mode", f"unknown mode {config.mode}"))
    return specs, violations


def _field_names(config: study_pb2.ExtractionConfig, prefix: str, violations: list[Violation]) -> list[str]:
    if not config.fields:
        violations.append((f"{prefix}.fields", "must name at least one field"))
    elif len(config.fields) > MAX_FIELDS:
        violations.append((f"{prefix}.fields", f"names {len(config.fields)} fields; at most {MAX_FIELDS}"))
    names: list[str] = []
    first_of: dict[str, int] = {}
    for index, raw in enumerate(config.fields):
        name = raw.strip()
        field = f"{prefix}.fields[{index}]"
        if not name:
            violations.append((field, "must not be empty"))
        elif len(name) > MAX_FIELD_NAME_CHARS or not name.isprintable():
            violations.append((field, f"must be at most {MAX_FIELD_NAME_CHARS} printable characters"))
        elif name.lower() in first_of:
            violations.append(
                (
                    field,
                    f"field {name!r} duplicates {prefix}.fields[{first_of[name.lower()]}] "
                    "(field names compare without case)",
                )
            )
        else:
            first_of[name.lower()] = index
            names.append(name)
    return names
