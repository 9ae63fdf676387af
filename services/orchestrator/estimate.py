"""What a study or an experiment should cost, from its request alone, before anything runs.

Counts the model calls of each phase from the request (agents, rounds, arms, validation, extraction), sizes
each call's prompt from the texts it carries (personas, stimulus, what the agents heard, at about four
characters a token) and its answer from what each kind of call returns, and prices them. Each figure is a
range: `low` (agents quiet, short answers), `expected`, and `high` (longer prompts, one repaired answer in
eight calls, and answers as long as a reasoning model's, which bill their hidden reasoning as output: about
three times the visible answer). The critical path counts the calls one after another: a round's turns run
at once (one after another when turns are sequential), and experiment arms run side by side.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

from google.protobuf import duration_pb2
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.common.plan_checks import rounds_total
from services.llm.pricing import PriceTable
from services.orchestrator.experiment.plans import arm_steps, arm_stimulus
from services.orchestrator.validation import agent_specs_of_population
from services.runtime.config import LLMSettings

Mode = orchestrator_pb2.Participants.Mode
CHARS_PER_TOKEN = 4
DEFAULT_LATENCY_S = 2.0

TURN_BASE_CHARS = 900
"""A turn's instructions and output schema, beside the persona, the stimulus and what the agent heard."""
TALK_CHARS = 250
"""What one agent says in a turn, as the others hear it and as its memory keeps it."""
TURN_ANSWER_CHARS = 550
GENERATED_PERSONA_CHARS = 2700
"""A persona the model writes (population generation, grounded personas): also its size in later prompts."""
CREATION_BASE_CHARS = 1000
VALIDATION_CALLS = 5
"""Questions drawn from the expectations, three answers, one judgement (at least one answer: 3 calls)."""
VALIDATION_PROMPT_CHARS = 900
VALIDATION_ANSWER_CHARS = 500
EXTRACTION_BASE_CHARS = 800
EXTRACTION_ANSWER_CHARS_PER_FIELD = 160
REPAIR_SHARE = 1 / 8
"""Share of calls whose first answer is invalid and asked again (high end)."""
REASONING_FACTOR = 3.0
"""Output billed per visible answer by a reasoning model (hidden reasoning tokens), at the high end."""
LOW_FACTOR = 0.6
HIGH_PROMPT_FACTOR = 1.6
REASONING_MODELS = re.compile(r"(^|[-/])(o1|o3|o4|gpt-5|r1|reasoner|thinking|qwq)", re.IGNORECASE)


@dataclass
class Calls:
    """Calls of one kind: how many (low, expected, high), and each one's prompt and answer in characters."""

    phase: str
    low: float
    expected: float
    high: float
    prompt_chars: float
    answer_chars: float


@dataclass
class Tally:
    calls: list[Calls] = field(default_factory=list)
    sequential: int = 0
    assumptions: list[str] = field(default_factory=list)

    def add(self, phase: str, count: float, prompt_chars: float, answer_chars: float, *, low=None, high=None) -> None:
        if count > 0 or (high or 0) > 0:
            self.calls.append(
                Calls(
                    phase,
                    count if low is None else low,
                    count,
                    count if high is None else high,
                    prompt_chars,
                    answer_chars,
                )
            )


@dataclass(frozen=True)
class Estimator:
    """Estimates for one model: its name (for its price), its answer limit, its price table."""

    model: str
    max_tokens: int
    prices: PriceTable
    creation_concurrency: int = 16

    def study(
        self, request: orchestrator_pb2.RunStudyRequest, latency_s: float = DEFAULT_LATENCY_S
    ) -> orchestrator_pb2.StudyEstimate:
        tally = Tally()
        agents, persona_chars = self._participants(tally, request.participants)
        self._study_body(tally, request, agents, persona_chars)
        return self._estimate(tally, latency_s)

    def experiment(
        self, request: orchestrator_pb2.RunExperimentRequest, latency_s: float = DEFAULT_LATENCY_S
    ) -> orchestrator_pb2.StudyEstimate:
        tally = Tally()
        agents, persona_chars = self._participants(tally, request.participants)
        arms = max(1, len(request.arms))
        within = request.design == orchestrator_pb2.EXPERIMENT_DESIGN_WITHIN_SUBJECTS
        per_arm = agents if within else agents / arms
        before = tally.sequential
        for index in range(len(request.arms)) if request.arms else [None]:
            study = orchestrator_pb2.RunStudyRequest(
                simulation_config=request.simulation_config,
                stimulus=request.stimulus if index is None else arm_stimulus(request, index),
                steps=[] if index is None else arm_steps(request, index),
                extraction_config=request.extraction_config,
            )
            study.extraction_config.extract_results = True
            arm_tally = Tally()
            self._study_body(arm_tally, study, per_arm, persona_chars)
            tally.calls.extend(arm_tally.calls)
            tally.sequential = max(tally.sequential, before + arm_tally.sequential)
        tally.assumptions.append(
            f"{arms} arms run side by side, {'every participant in each' if within else 'participants split evenly'}"
        )
        return self._estimate(tally, latency_s)

    # -- phases ----------------------------------------------------------------------------------

    def _participants(self, tally: Tally, participants: orchestrator_pb2.Participants) -> tuple[float, float]:
        """Adds the calls of making the participants; returns how many there are and their personas' size."""
        specs = list(participants.specifications)
        if participants.mode == Mode.MODE_FROM_DEMOGRAPHICS:
            agents = float(participants.count)
            demographics = len(specs[0]) if specs else 0
            prompt = CREATION_BASE_CHARS + min(demographics, 2000) / 4 + len(participants.particularities)
            tally.add("creating_agents", agents, prompt, GENERATED_PERSONA_CHARS)
            tally.add("creating_agents", 0, CREATION_BASE_CHARS + demographics, 200 * agents, low=0, high=1)
            tally.sequential += 1 + math.ceil(agents / max(1, self.creation_concurrency))
            tally.assumptions.append("generated personas of about 700 tokens; the plan computed from the distributions")
            persona_chars = GENERATED_PERSONA_CHARS
        elif participants.mode == Mode.MODE_CUSTOM:
            agents = float(len(specs))
            prompt = CREATION_BASE_CHARS + (sum(len(spec) for spec in specs) / agents if agents else 0)
            tally.add("creating_agents", agents, prompt, GENERATED_PERSONA_CHARS)
            tally.sequential += math.ceil(agents / max(1, self.creation_concurrency))
            persona_chars = GENERATED_PERSONA_CHARS
        else:
            loaded = specs if participants.mode == Mode.MODE_FROM_AGENT else _population_specs(specs)
            agents = float(len(loaded))
            persona_chars = sum(_persona_chars(spec) for spec in loaded) / agents if agents else 0
            tally.assumptions.append("loaded agents cost no model call to make")
        if participants.expectations and agents:
            calls = VALIDATION_CALLS * agents
            again = calls if participants.min_validation_score > 0 else 0
            prompt = VALIDATION_PROMPT_CHARS + persona_chars + len(participants.expectations)
            tally.add("creating_agents", calls, prompt, VALIDATION_ANSWER_CHARS, low=3 * agents, high=calls + again)
            tally.sequential += 3
        return agents, persona_chars

    def _study_body(
        self, tally: Tally, request: orchestrator_pb2.RunStudyRequest, agents: float, persona_chars: float
    ) -> None:
        config = request.simulation_config
        rounds = max(1, rounds_total(request.steps, config))
        stimulus = (
            len(request.stimulus.content)
            + len(request.stimulus.context)
            + sum(len(step.stimulus.content) + len(step.stimulus.context) for step in request.steps)
        )
        hears_others = (
            config.environment_type == study_pb2.ENVIRONMENT_TYPE_FOCUS_GROUP
            or config.environment_type == study_pb2.ENVIRONMENT_TYPE_UNSPECIFIED
        )
        memory = TALK_CHARS * (agents if hears_others else 1) if config.enable_memory or hears_others else 0
        average_heard = memory * (rounds - 1) / 2
        turn_prompt = TURN_BASE_CHARS + persona_chars + stimulus + average_heard
        turns = agents * rounds
        quality = config.quality_checks.enabled
        tally.add(
            "simulating",
            turns,
            turn_prompt,
            TURN_ANSWER_CHARS,
            low=turns,
            high=turns * (1 + REPAIR_SHARE)
            + (turns * max(1, config.quality_checks.max_attempts or 2) if quality else 0),
        )
        if quality:
            tally.add("simulating", turns, turn_prompt + TURN_ANSWER_CHARS, 300, low=0)
        sequential_turns = config.turn_order == study_pb2.TURN_ORDER_SEQUENTIAL
        tally.sequential += rounds * (math.ceil(agents) if sequential_turns else 1) * (2 if quality else 1)
        extraction = request.extraction_config
        if extraction.extract_results and agents:
            fields = max(1, len(extraction.fields))
            said = TALK_CHARS * rounds * (agents if hears_others else 1)
            prompt = EXTRACTION_BASE_CHARS + len(extraction.extraction_objective) + said
            answer = EXTRACTION_ANSWER_CHARS_PER_FIELD * fields
            if extraction.mode == study_pb2.ExtractionConfig.MODE_PER_AGENT or extraction.mode == 0:
                tally.add("extracting", agents, prompt, answer, low=0)
            else:
                tally.add("extracting", 1, prompt + said * agents, answer * agents)
            tally.sequential += 1
            tally.assumptions.append("one extraction call per participant that spoke (none when nobody did)")

    # -- figures ---------------------------------------------------------------------------------

    def _estimate(self, tally: Tally, latency_s: float) -> orchestrator_pb2.StudyEstimate:
        reasoning = bool(REASONING_MODELS.search(self.model))
        calls = [0.0, 0.0, 0.0]
        prompt = [0.0, 0.0, 0.0]
        completion = [0.0, 0.0, 0.0]
        by_phase: dict[str, float] = {}
        for kind in tally.calls:
            prompt_tokens = kind.prompt_chars / CHARS_PER_TOKEN
            answer_tokens = min(kind.answer_chars / CHARS_PER_TOKEN, self.max_tokens)
            high_answer = min(answer_tokens * REASONING_FACTOR, self.max_tokens)
            calls[0] += kind.low
            calls[1] += kind.expected
            calls[2] += kind.high
            prompt[0] += kind.low * prompt_tokens * LOW_FACTOR
            prompt[1] += kind.expected * prompt_tokens
            prompt[2] += kind.high * prompt_tokens * HIGH_PROMPT_FACTOR
            completion[0] += kind.low * answer_tokens * LOW_FACTOR
            completion[1] += kind.expected * (high_answer if reasoning else answer_tokens)
            completion[2] += kind.high * high_answer
            by_phase[kind.phase] = by_phase.get(kind.phase, 0) + kind.expected
        estimate = orchestrator_pb2.StudyEstimate(
            model_calls=_range(calls),
            prompt_tokens=_range(prompt),
            completion_tokens=_range(completion),
            model=self.model,
            sequential_calls=tally.sequential,
            calls_by_phase={phase: round(count) for phase, count in by_phase.items()},
            assumptions=[
                "about 4 characters a token",
                *dict.fromkeys(tally.assumptions),
                *(
                    ["a reasoning model: its hidden reasoning is billed as output, about 3x the answer"]
                    if reasoning
                    else []
                ),
            ],
        )
        price = self.prices.price_of(self.model)
        if price is not None:
            estimate.cost.CopyFrom(
                _range([price.cost(round(prompt[i]), round(completion[i])) for i in range(3)], whole=False)
            )
        else:
            estimate.assumptions.append(f"no price for the model {self.model!r}: the cost is unknown")
        latency = duration_pb2.Duration()
        latency.FromNanoseconds(int(latency_s * 1e9))
        estimate.latency_per_call.CopyFrom(latency)
        estimate.critical_path.FromNanoseconds(int(tally.sequential * latency_s * 1e9))
        return estimate


def _range(values: list[float], *, whole: bool = True) -> orchestrator_pb2.EstimateRange:
    low, expected, high = (math.floor(values[0]), round(values[1]), math.ceil(values[2])) if whole else values
    return orchestrator_pb2.EstimateRange(low=low, expected=expected, high=high)


def _persona_chars(spec: str) -> int:
    """The size of the persona a specification gives (its `persona` object, or the whole text)."""
    try:
        data = json.loads(spec)
    except ValueError:
        return len(spec)
    persona = data.get("persona", data) if isinstance(data, dict) else data
    return len(json.dumps(persona, ensure_ascii=False))


def _population_specs(specs: list[str]) -> list[str]:
    if not specs:
        return []
    try:
        return [json.dumps(spec) for spec in agent_specs_of_population(specs[0])]
    except Exception:  # noqa: BLE001  (an invalid population is refused by RunStudy; here it counts as none)
        return []


def estimator_for(llm: LLMSettings, creation_concurrency: int = 16) -> Estimator:
    return Estimator(llm.model, llm.max_tokens, PriceTable.from_settings(llm), creation_concurrency)
