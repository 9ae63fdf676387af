"""Experiments whose arms are study plans: the arms' plans checked to line up (refused before any model
call otherwise), each arm's child study running its plan, and every step's fields compared across the arms
as `{step}.{field}`, Holm-adjusted with the experiment's own fields.

The fake model answers each arm's extraction from a per-arm sequence (a marker only that arm's first
question holds), so one step's field differs between the arms and another's is the same in both.
"""

from __future__ import annotations

import itertools
import re
import uuid
from types import SimpleNamespace

import grpc
import pytest
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2

from services.common.hints import parse_hint
from services.orchestrator.experiment.plans import arm_steps, plan_shape_violations, step_specs
from services.orchestrator.experiment.results import compare_fields
from services.orchestrator.experiment.runner import ExperimentRunner
from services.orchestrator.experiment.validation import validate_experiment_request
from services.runtime.errors import InvalidArgument
from tests.orchestrator.support import Mode, agent_spec
from tests.orchestrator.test_experiments import comparison, people, run
from tests.rich_errors import field_violations

session_loop = pytest.mark.asyncio(loop_scope="session")

Design = orchestrator_pb2.ExperimentDesign
FIELDS = [
    ("first_look", "clarity", "integer 1-5"),
    ("effort", "effort", "integer 1-10"),
    ("finish", "would_finish", "yes or no"),
]


def onboarding(marker: str) -> list[study_pb2.StudyStep]:
    """Three questions on an onboarding flow; only the first names the flow (and the arm's marker)."""
    questions = [f"Sign-up flow {marker}: how clear is it, 1 to 5?", "How much effort is it?", "Would you finish?"]
    return [
        study_pb2.StudyStep(
            name=name,
            stimulus=study_pb2.Stimulus(type="question", content=question),
            extraction_config=study_pb2.ExtractionConfig(fields=[field], fields_hints={field: hint}),
        )
        for (name, field, hint), question in zip(FIELDS, questions, strict=True)
    ]


def plan_experiment(names: list[str], markers: list[str], design: int) -> orchestrator_pb2.RunExperimentRequest:
    return orchestrator_pb2.RunExperimentRequest(
        request_id=uuid.uuid4().hex,
        session_config=orchestrator_pb2.SessionConfig(
            session_name="onboarding test", cache_file=f"test-{uuid.uuid4().hex[:12]}"
        ),
        participants=orchestrator_pb2.Participants(
            mode=Mode.MODE_FROM_AGENT, specifications=[agent_spec(name) for name in names]
        ),
        simulation_config=study_pb2.SimulationConfig(
            environment_type=study_pb2.ENVIRONMENT_TYPE_SURVEY, rounds=1, enable_memory=True, max_actions_per_turn=2
        ),
        arms=[
            orchestrator_pb2.ExperimentArm(name=f"flow {index}", steps=onboarding(marker))
            for index, marker in enumerate(markers)
        ],
        design=design,
        seed=11,
    )


def answer_by_arm(fake, clarity: dict[str, tuple[int, ...]], effort: tuple[int, ...]) -> None:
    """Step extraction answers: each arm's calls take its clarity values in turn (so each arm's values are
    exactly its sequence), and the same effort values in turn in every arm; would_finish alternates."""
    turns = {marker: itertools.count() for marker in clarity}

    def answer(body: dict) -> dict:
        text = "\n".join(str(message.get("content", "")) for message in body["messages"])
        marker = next(marker for marker in clarity if marker in text)
        turn = next(turns[marker])
        return {
            "first_look.clarity": {"value": clarity[marker][turn % len(clarity[marker])], "confidence": 0.9},
            "effort.effort": {"value": effort[turn % len(effort)], "confidence": 0.9},
            "finish.would_finish": {"value": "yes" if turn % 2 else "no", "confidence": 0.9},
        }

    pattern = "|".join(map(re.escape, clarity))
    fake.script(rf"(?s)({pattern}).*Extract the fields for", answer, merge=False)


@session_loop
@pytest.mark.slow
async def test_arms_that_are_plans_are_compared_step_by_step(stubs, mesh):
    guided, self_serve = f"GUIDED-{uuid.uuid4().hex[:6]}", f"SELF-{uuid.uuid4().hex[:6]}"
    answer_by_arm(mesh.fake, {guided: (5, 4, 5, 5, 4, 5), self_serve: (2, 1, 2, 2, 1, 2)}, effort=(3, 6, 4, 5, 4, 6))
    names = people(mesh.fake, 12)
    result = await run(stubs, plan_experiment(names, [guided, self_serve], Design.EXPERIMENT_DESIGN_BETWEEN_SUBJECTS))

    assert [len(arm.participants) for arm in result.arms] == [6, 6]
    for arm in result.arms:
        assert arm.result.status == orchestrator_pb2.STUDY_STATUS_COMPLETED
        assert [step.step for step in arm.result.step_results] == ["first_look", "effort", "finish"]
        assert len(arm.result.step_results[0].extracted_results.individual_results) == 6
        assert not arm.result.extracted_results.individual_results, "no experiment-level fields were asked"
    assert [entry.field for entry in result.comparisons] == [
        "first_look.clarity",
        "effort.effort",
        "finish.would_finish",
    ]
    clarity = comparison(result, "first_look.clarity")
    assert clarity.test == "welch_t" and clarity.p_value < 0.05 and clarity.significant
    assert [summary.mean for summary in clarity.arms] == pytest.approx([14 / 3, 5 / 3])
    assert "flow 0 scores higher than flow 1 on first_look.clarity" in clarity.sentence
    effort = comparison(result, "effort.effort")
    assert effort.test == "welch_t" and effort.p_value > 0.5 and not effort.significant
    assert effort.arms[0].mean == pytest.approx(effort.arms[1].mean)
    finish = comparison(result, "finish.would_finish")
    assert finish.test in ("chi_square", "fisher_exact") and not finish.significant
    compared = [entry for entry in result.comparisons if not entry.skipped_reason]
    assert clarity.p_value_adjusted == pytest.approx(min(1.0, clarity.p_value * len(compared)))


@session_loop
@pytest.mark.slow
async def test_a_within_subjects_plan_experiment_pairs_each_steps_answers(stubs, mesh):
    low, high = f"LOW-{uuid.uuid4().hex[:6]}", f"HIGH-{uuid.uuid4().hex[:6]}"
    answer_by_arm(mesh.fake, {low: (2, 1, 2, 3, 1, 2), high: (5, 4, 5, 5, 4, 4)}, effort=(3, 6, 4, 5, 4, 6))
    names = people(mesh.fake, 6)
    result = await run(stubs, plan_experiment(names, [low, high], Design.EXPERIMENT_DESIGN_WITHIN_SUBJECTS))

    assert all(sorted(arm.participants) == sorted(names) for arm in result.arms)
    assert {order for order in result.arm_orders.values()} == {"flow 0, flow 1", "flow 1, flow 0"}
    clarity = comparison(result, "first_look.clarity")
    assert clarity.test == "paired_t" and clarity.difference > 0 and clarity.p_value < 0.05
    assert [summary.count for summary in clarity.arms] == [6, 6]


@session_loop
async def test_plans_that_do_not_line_up_are_refused_before_any_model_call(stubs, mesh):
    names = [f"V{index}x{uuid.uuid4().hex[:5]}" for index in range(4)]
    request = plan_experiment(names, ["a", "b"], Design.EXPERIMENT_DESIGN_BETWEEN_SUBJECTS)
    request.arms[1].steps[1].name = "work"
    request.arms[1].steps[2].extraction_config.fields[:] = ["would_finish_today"]
    request.arms[1].steps[2].extraction_config.fields_hints.clear()
    request.arms[0].stimulus.content = "Sign up in the app."
    before = mesh.fake.stats.total_requests
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.orchestrator.RunExperiment(request)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    violations = field_violations(raised.value)
    assert "arms[1].steps[1].name" in violations
    assert "arms[1].steps[2].extraction_config.fields" in violations
    assert violations["arms[0].steps"] == "an arm shows its stimulus or runs its steps, not both"
    assert mesh.fake.stats.total_requests == before, "refused before any model call"


def refused(request: orchestrator_pb2.RunExperimentRequest) -> dict[str, str]:
    with pytest.raises(InvalidArgument) as raised:
        validate_experiment_request(request)
    return dict(raised.value.violations)


def test_an_arm_shows_its_stimulus_or_runs_its_steps_not_both():
    request = plan_experiment(["Ana", "Ben"], ["a", "b"], Design.EXPERIMENT_DESIGN_BETWEEN_SUBJECTS)
    request.arms[0].stimulus.content = "An offer."
    assert "arms[0].steps" in refused(request)


def test_a_stimulus_arm_beside_plan_arms_and_a_stimulus_beside_steps_are_refused():
    request = plan_experiment(["Ana", "Ben"], ["a", "b"], Design.EXPERIMENT_DESIGN_BETWEEN_SUBJECTS)
    del request.arms[1].steps[:]
    request.arms[1].stimulus.content = "An offer."
    assert "no steps" in refused(request)["arms[1].stimulus"]
    request = plan_experiment(["Ana", "Ben"], ["a", "b"], Design.EXPERIMENT_DESIGN_BETWEEN_SUBJECTS)
    request.steps.extend(request.arms[1].steps)
    del request.arms[1].steps[:]
    request.stimulus.content = "An offer."
    assert "stimulus" in refused(request)


def test_a_field_of_another_kind_in_one_arm_is_named_by_its_hint():
    request = plan_experiment(["Ana", "Ben"], ["a", "b"], Design.EXPERIMENT_DESIGN_BETWEEN_SUBJECTS)
    request.arms[1].steps[1].extraction_config.fields_hints["effort"] = "one of little/some/a lot"
    violations = refused(request)
    assert "number field" in violations["arms[1].steps[1].extraction_config.fields_hints[effort]"]


def test_each_arms_plan_is_checked_with_the_studys_plan_checks():
    request = plan_experiment(["Ana", "Ben"], ["a", "b"], Design.EXPERIMENT_DESIGN_BETWEEN_SUBJECTS)
    request.arms[0].steps[0].rounds = -1
    request.arms[1].steps[2].stimulus.content = ""
    violations = refused(request)
    assert "arms[0].steps[0].rounds" in violations
    assert "arms[1].steps[2].stimulus.content" in violations


def test_the_experiments_plan_serves_the_arms_that_set_none_and_must_line_up_with_the_others():
    request = plan_experiment(["Ana", "Ben"], ["a", "b"], Design.EXPERIMENT_DESIGN_BETWEEN_SUBJECTS)
    request.steps.extend(onboarding("shared"))
    del request.arms[1].steps[:]
    validate_experiment_request(request)
    assert [step.name for step in arm_steps(request, 1)] == ["first_look", "effort", "finish"]
    request.steps[2].name = "done"
    assert plan_shape_violations(request) == [("steps[2].name", "is 'done'; step 3 of arms[0]'s plan is 'finish'")]


def test_plan_arms_need_a_field_to_compare_somewhere():
    request = plan_experiment(["Ana", "Ben"], ["a", "b"], Design.EXPERIMENT_DESIGN_BETWEEN_SUBJECTS)
    for arm in request.arms:
        for step in arm.steps:
            step.ClearField("extraction_config")
    assert "steps of the arms' plans" in refused(request)["extraction_config.fields"]


def test_step_fields_are_holm_adjusted_together_with_the_experiments_fields():
    def arm(name: str, ratings: list[int], clarity: list[int]) -> orchestrator_pb2.ArmResult:
        result = orchestrator_pb2.StudyResult()
        step = result.step_results.add(step="first_look", index=1)
        for index, (rating, value) in enumerate(zip(ratings, clarity, strict=True)):
            agent = f"{name}{index}"
            result.extracted_results.individual_results.add(agent_name=agent).fields["rating"].number_value = rating
            step.extracted_results.individual_results.add(agent_name=agent).fields["clarity"].number_value = value
        return orchestrator_pb2.ArmResult(name=name, result=result)

    arms = [arm("A", [5, 6, 7, 5, 6], [5, 4, 5, 5, 4]), arm("B", [5, 7, 6, 6, 5], [1, 2, 1, 2, 2])]
    request = plan_experiment(["Ana", "Ben"], ["a", "b"], Design.EXPERIMENT_DESIGN_BETWEEN_SUBJECTS)
    specs = [spec for spec in step_specs(arm_steps(request, 0)) if spec[0] == "first_look"]
    comparisons = compare_fields([parse_hint("rating", "integer 1-10")], arms, paired=False, steps=specs)
    assert [entry.field for entry in comparisons] == ["rating", "first_look.clarity"]
    rating, clarity = comparisons
    assert clarity.significant and not rating.significant
    assert clarity.p_value_adjusted == pytest.approx(min(1.0, 2 * clarity.p_value))
    assert rating.p_value_adjusted == pytest.approx(max(rating.p_value, clarity.p_value_adjusted))


def test_each_arms_study_runs_its_plan_or_the_experiments():
    request = plan_experiment(["Ana", "Ben"], ["a", "b"], Design.EXPERIMENT_DESIGN_BETWEEN_SUBJECTS)
    request.steps.extend(onboarding("shared"))
    del request.arms[1].steps[:]
    runner = SimpleNamespace(session_id="exp-1")
    own = ExperimentRunner._arm_request(runner, request, 0, [agent_spec("Ana")])
    shared = ExperimentRunner._arm_request(runner, request, 1, [agent_spec("Ben")])
    assert list(own.steps) == list(request.arms[0].steps) and not own.HasField("stimulus")
    assert list(shared.steps) == list(request.steps) and not shared.HasField("stimulus")
    assert shared.request_id == "exp-1-arm-1"
    assert not own.extraction_config.extract_results, "the steps extract; the experiment asked no field of its own"
    request.extraction_config.fields.append("overall")
    assert ExperimentRunner._arm_request(runner, request, 0, [agent_spec("Ana")]).extraction_config.extract_results
