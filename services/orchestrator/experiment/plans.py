"""Experiments whose arms run study plans: each arm's plan, and the checks that make the arms' plans
comparable (the same step names, the same extraction fields per step, each field of the same kind)."""

from __future__ import annotations

from collections.abc import Sequence

from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.common.checks import extraction_config_violations
from services.common.hints import FieldSpec
from services.common.plan_checks import Violation, step_name, steps_extract

Request = orchestrator_pb2.RunExperimentRequest


def arm_steps(request: Request, index: int) -> Sequence[study_pb2.StudyStep]:
    """The plan arm `index` runs: its own steps, none when it shows its own stimulus, else the experiment's."""
    arm = request.arms[index]
    if arm.steps:
        return arm.steps
    if arm.HasField("stimulus"):
        return []
    return request.steps


def arm_plan_field(request: Request, index: int) -> str:
    """Where the arm's plan (or stimulus) is written: its own `steps` or `stimulus`, else the experiment's."""
    arm = request.arms[index]
    if arm.steps:
        return f"arms[{index}].steps"
    if arm.HasField("stimulus"):
        return f"arms[{index}].stimulus"
    return "steps" if request.steps else "stimulus"


def arm_stimulus(request: Request, index: int) -> study_pb2.Stimulus | None:
    """The stimulus arm `index` shows; None when it runs a plan."""
    arm = request.arms[index]
    if arm_steps(request, index):
        return None
    return arm.stimulus if arm.HasField("stimulus") else request.stimulus


def runs_plans(request: Request) -> bool:
    return any(arm_steps(request, index) for index in range(len(request.arms)))


def step_specs(steps: Sequence[study_pb2.StudyStep]) -> list[tuple[str, list[FieldSpec]]]:
    """Each extracting step's name with its typed fields, in the plan's order."""
    return [
        (step_name(step, index), extraction_config_violations(step.extraction_config, "")[0])
        for index, step in enumerate(steps)
        if steps_extract(step)
    ]


def plan_shape_violations(request: Request) -> list[Violation]:
    """Where an arm's plan differs from the first arm's in its step names or a step's fields."""
    if len(request.arms) < 2 or not runs_plans(request):
        return []
    reference = arm_steps(request, 0)
    violations: list[Violation] = []
    for index in range(1, len(request.arms)):
        steps, at = arm_steps(request, index), arm_plan_field(request, index)
        if len(steps) != len(reference):
            own = f"{len(steps)} steps" if steps else "no steps (a stimulus)"
            violations.append(
                (at, f"arm {index} runs {own}; arms[0] runs {len(reference)}: every arm's plan has the same steps")
            )
            continue
        for position, (step, first) in enumerate(zip(steps, reference, strict=True)):
            violations += _step_violations(step, first, position, f"{at}[{position}]")
    return list(dict.fromkeys(violations))


def _step_violations(step: study_pb2.StudyStep, first: study_pb2.StudyStep, position: int, at: str) -> list[Violation]:
    name, expected = step_name(step, position), step_name(first, position)
    if name != expected:
        return [(f"{at}.name", f"is {name!r}; step {position + 1} of arms[0]'s plan is {expected!r}")]
    fields = _fields(step)
    wanted = _fields(first)
    if set(fields) != set(wanted):
        return [
            (
                f"{at}.extraction_config.fields",
                f"names {_listed(fields.values())}; step {expected!r} of arms[0]'s plan names "
                f"{_listed(wanted.values())} (each step's fields are compared across the arms)",
            )
        ]
    return [
        (
            f"{at}.extraction_config.fields_hints[{fields[key].name}]",
            f"makes {fields[key].name!r} a {fields[key].kind.value} field; in arms[0]'s plan it is a "
            f"{wanted[key].kind.value} field",
        )
        for key in fields
        if fields[key].kind is not wanted[key].kind
    ]


def _fields(step: study_pb2.StudyStep) -> dict[str, FieldSpec]:
    if not steps_extract(step):
        return {}
    return {spec.name: spec for spec in extraction_config_violations(step.extraction_config, "")[0]}


def _listed(specs) -> str:
    names = [spec.name for spec in specs]
    return ", ".join(names) if names else "no fields"
