"""What a report shows, read from a study's or an experiment's result (and its request, where known).

A study reads as an experiment of one arm: the same fields, values and quotes, without comparisons.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2
from tinytroupe_mesh_api.population.v1 import population_pb2

from services.common.blinding import unblinded_transcript
from services.common.checks import extraction_config_violations
from services.common.hints import FieldSpec, ValueKind, default_hint, parse_hint
from services.common.plan_checks import step_name
from services.orchestrator.experiment.plans import arm_steps, arm_stimulus
from services.orchestrator.experiment.values import labels, numbers_by_participant

Request = orchestrator_pb2.RunStudyRequest | orchestrator_pb2.RunExperimentRequest
Result = orchestrator_pb2.StudyResult | orchestrator_pb2.ExperimentResult

QUOTES_PER_ARM = 3
QUOTE_MAX_CHARS = 360
QUOTE_MIN_CHARS = 12
KINDS = {
    study_pb2.VALUE_KIND_NUMBER: ValueKind.NUMBER,
    study_pb2.VALUE_KIND_CATEGORY: ValueKind.CATEGORY,
    study_pb2.VALUE_KIND_LIST: ValueKind.LIST,
    study_pb2.VALUE_KIND_TEXT: ValueKind.TEXT,
    study_pb2.VALUE_KIND_BOOLEAN: ValueKind.BOOLEAN,
}


@dataclass(frozen=True)
class Arm:
    """One arm of an experiment, or the study itself (its name then empty)."""

    name: str
    result: orchestrator_pb2.StudyResult
    participants: list[str]
    stimulus: study_pb2.Stimulus | None
    """As asked (the request), else as shown in the transcript (its content only); None when unknown."""
    fragments: list[str] = field(default_factory=list)
    steps: list[tuple[str, str]] = field(default_factory=list)
    """The plan the arm ran, as asked: each step's name and stimulus."""


@dataclass(frozen=True)
class Quote:
    agent: str
    round: int
    text: str


def arms_of(result: Result, request: Request | None) -> list[Arm]:
    if isinstance(result, orchestrator_pb2.StudyResult):
        stimulus = request.stimulus if isinstance(request, orchestrator_pb2.RunStudyRequest) else None
        names = [agent.agent_name for agent in result.extracted_results.individual_results]
        return [Arm("", result, names, stimulus or shown_stimulus(result))]
    asked = list(request.arms) if isinstance(request, orchestrator_pb2.RunExperimentRequest) else []
    arms = []
    for index, arm in enumerate(result.arms):
        wanted = asked[index] if index < len(asked) else None
        steps: list[tuple[str, str]] = []
        if wanted is not None:
            stimulus = arm_stimulus(request, index)
            fragments = [fragment_name(fragment) for fragment in wanted.fragments]
            plan = arm_steps(request, index)
            steps = [(step_name(step, position), step.stimulus.content) for position, step in enumerate(plan)]
        else:
            stimulus, fragments = shown_stimulus(arm.result), []
        arms.append(Arm(arm.name, arm.result, list(arm.participants), stimulus, fragments, steps))
    return arms


def shown_stimulus(result: orchestrator_pb2.StudyResult) -> study_pb2.Stimulus | None:
    """The stimulus as the transcript shows it (round 0, said by the moderator)."""
    for interaction in result.simulation_results.interactions:
        if interaction.round == 0 and interaction.action == study_pb2.ACTION_TYPE_STIMULUS and interaction.content:
            return study_pb2.Stimulus(content=interaction.content)
    return None


def fragment_name(fragment: population_pb2.FragmentSource) -> str:
    if fragment.WhichOneof("source") == "builtin":
        return population_pb2.Fragment.Name(fragment.builtin).removeprefix("FRAGMENT_").lower()
    try:
        persona = json.loads(fragment.custom_json).get("persona", {})
    except (ValueError, AttributeError):
        persona = {}
    return (
        f"custom fragment ({', '.join(sorted(persona)) or 'persona'})"
        if isinstance(persona, dict)
        else "custom fragment"
    )


def field_specs(result: Result, request: Request | None, arms: list[Arm]) -> list[FieldSpec]:
    """The fields asked for, with their kinds and bounds from their hints; without the request, those the
    results hold, typed by their values."""
    if request is not None and request.extraction_config.fields:
        specs, _ = extraction_config_violations(request.extraction_config, "extraction_config")
        if specs:
            return specs
    names: list[str] = []
    if isinstance(result, orchestrator_pb2.ExperimentResult):
        names = [comparison.field for comparison in result.comparisons]
    for arm in arms:
        names += [statistics.field for statistics in arm.result.extracted_results.aggregate_statistics]
        for agent in arm.result.extracted_results.individual_results:
            names += list(agent.fields)
    specs = []
    for name in dict.fromkeys(names):
        kind = value_kind(arms, name)
        hint = (
            default_hint(name)
            if kind is None
            else {
                ValueKind.NUMBER: "number",
                ValueKind.BOOLEAN: "yes or no",
                ValueKind.LIST: "list",
                ValueKind.TEXT: "text",
            }.get(kind, "")
        )
        if kind is ValueKind.CATEGORY:
            found = sorted({label for arm in arms for label in labels(arm.result, name)})
            hint = f"one of {'/'.join(found)}" if len(found) >= 2 else "text"
        try:
            specs.append(parse_hint(name, hint))
        except ValueError:
            specs.append(FieldSpec(name=name, kind=ValueKind.TEXT, hint="text"))
    return specs


def value_kind(arms: list[Arm], name: str) -> ValueKind | None:
    for arm in arms:
        for statistics in arm.result.extracted_results.aggregate_statistics:
            if statistics.field == name and statistics.kind in KINDS:
                return KINDS[statistics.kind]
        for agent in arm.result.extracted_results.individual_results:
            if name in agent.fields and agent.fields[name].kind in KINDS:
                return KINDS[agent.fields[name].kind]
    return None


def numbers(arm: Arm, name: str) -> list[float]:
    return list(numbers_by_participant(arm.result, name).values())


def reported_interval(arm: Arm, name: str) -> tuple[float, float, float] | None:
    """The mean and its 95 % confidence interval as the arm's statistics give them (None where they do not)."""
    for statistics in arm.result.extracted_results.aggregate_statistics:
        if statistics.field == name and statistics.HasField("numeric") and statistics.numeric.count:
            numeric = statistics.numeric
            if numeric.count < 2:
                return numeric.mean, numeric.mean, numeric.mean
            if numeric.ci95_low or numeric.ci95_high:
                return numeric.mean, numeric.ci95_low, numeric.ci95_high
    return None


def category_counts(arm: Arm, spec: FieldSpec) -> list[tuple[str, int, float]]:
    """(category, count, share) for each of the field's categories, then any other value given."""
    given = labels(arm.result, spec.name)
    known = list(spec.categories) if spec.kind is ValueKind.CATEGORY else ["yes", "no"]
    categories = known + sorted(set(given) - set(known))
    return [
        (category, given.count(category), given.count(category) / len(given) if given else 0.0)
        for category in categories
    ]


def themes(arm: Arm, name: str, limit: int = 8) -> list[tuple[str, int]]:
    """A text or list field's most frequent themes in the arm (the extraction's statistics), else its values."""
    for statistics in arm.result.extracted_results.aggregate_statistics:
        if statistics.field == name and statistics.counts:
            return [(count.value, count.count) for count in statistics.counts[:limit] if count.count]
    found: dict[str, int] = {}
    for agent in arm.result.extracted_results.individual_results:
        value = agent.fields[name] if name in agent.fields else None
        if value is None:
            continue
        items = (
            list(value.list_value.values)
            if value.WhichOneof("value") == "list_value"
            else ([value.string_value] if value.WhichOneof("value") == "string_value" else [])
        )
        for item in items:
            if item.strip():
                found[item.strip()] = found.get(item.strip(), 0) + 1
    return sorted(found.items(), key=lambda item: (-item[1], item[0]))[:limit]


def quotes(
    result: orchestrator_pb2.StudyResult, stimulus: study_pb2.Stimulus | None = None, limit: int = QUOTES_PER_ARM
) -> list[Quote]:
    """A few things participants said: each speaker's fullest statement, the fullest speakers first, shown in
    the order they were said; blinded options named as they are for extraction."""
    best: dict[str, study_pb2.Interaction] = {}
    transcript = result.simulation_results.interactions
    for interaction in unblinded_transcript(transcript, stimulus) if stimulus else transcript:
        if interaction.action != study_pb2.ACTION_TYPE_TALK or interaction.round == 0:
            continue
        text = " ".join(interaction.content.split())
        if len(text) < QUOTE_MIN_CHARS:
            continue
        kept = best.get(interaction.agent_name)
        if kept is None or _fullness(text) > _fullness(" ".join(kept.content.split())):
            best[interaction.agent_name] = interaction
    chosen = sorted(best.values(), key=lambda interaction: -_fullness(interaction.content))[:limit]
    chosen.sort(key=lambda interaction: (interaction.round, interaction.sequence))
    return [
        Quote(interaction.agent_name, interaction.round, _shortened(" ".join(interaction.content.split())))
        for interaction in chosen
    ]


def _fullness(text: str) -> int:
    """Longer is fuller, up to what a quote shows."""
    return min(len(text), QUOTE_MAX_CHARS)


def _shortened(text: str) -> str:
    if len(text) <= QUOTE_MAX_CHARS:
        return text
    cut = text[:QUOTE_MAX_CHARS].rsplit(" ", 1)[0]
    return f"{cut} …"


def participant_summary(request: Request | None) -> list[tuple[str, str]]:
    """The request's participants in words: how they are made, how many, from what, with what context."""
    if request is None:
        return []
    participants = request.participants
    mode = orchestrator_pb2.Participants.Mode.Name(participants.mode).removeprefix("MODE_").lower()
    rows = [("made", mode.replace("_", " "))]
    if participants.count:
        rows.append(("count", str(participants.count)))
    sources = [source for source in participants.specification_sources if source]
    if sources:
        rows.append(("from", ", ".join(sources)))
    elif mode in ("from_agent", "custom") and participants.specifications:
        rows.append(("specifications", ", ".join(_spec_label(spec) for spec in participants.specifications)))
    for label, text in (
        ("context", participants.context),
        ("particularities", participants.particularities),
        ("expectations", participants.expectations),
    ):
        if text.strip():
            rows.append((label, text.strip()))
    if participants.fragments:
        rows.append(("fragments", ", ".join(fragment_name(fragment) for fragment in participants.fragments)))
    return rows


def _spec_label(specification: str, limit: int = 60) -> str:
    try:
        persona = json.loads(specification).get("persona", {})
        name = persona.get("name") if isinstance(persona, dict) else None
    except (ValueError, AttributeError):
        name = None
    text = name or " ".join(specification.split())
    return text if len(text) <= limit else f"{text[:limit].rstrip()} …"
