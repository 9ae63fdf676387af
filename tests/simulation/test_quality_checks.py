"""Quality checks of turns: one scoring call per turn, weak turns regenerated with the critique, the report."""

from __future__ import annotations

import pytest
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2
from tinytroupe_mesh_api.simulation.v1 import simulation_pb2

from services.common.checks import simulation_config_violations
from services.engine.simulation import ActionType
from services.engine.simulation.quality import LABEL, quality_report
from services.engine.simulation.state import QualityCheckConfig, QualityCheckKind
from services.llm.errors import LLMUnavailableError
from services.simulation.convert import config_from_proto, config_to_proto, world_from_proto, world_to_proto
from tests.simulation.mesh import run_request, running_mesh
from tests.simulation.support import ScriptedLLM, judge, run_all, talk, world
from tests.simulation.test_consolidation import RecordingCache

NAMES = ["Ana", "Bruno", "Carla", "Davi"]
ALL = QualityCheckConfig()


def checked_world(names=NAMES, rounds=1, **quality):
    return world(names, rounds=rounds, quality=QualityCheckConfig(**quality))


def judged(call):
    return [c for c in call if c.label == LABEL]


async def test_every_turn_is_scored_by_one_call_and_the_calls_of_a_round_overlap():
    state = checked_world(rounds=2)
    llm = ScriptedLLM(NAMES, lambda call: talk(f"{call.agent} thinks it is useful"), latency_s=0.05)
    await run_all(state, llm)
    checks = judged(llm.side_calls)
    assert len(checks) == 8 and len(llm.calls) == 8  # no regeneration: every turn passed
    assert llm.peak_in_flight == 4
    prompt = checks[0].prompt
    assert "<persona>" in prompt and "is a 40-year-old teacher" in prompt
    assert "What Ana knew before the turn:" in prompt and "Ana's turn:\nTALK: Ana thinks it is useful" in prompt
    assert all(check.value in prompt for check in QualityCheckKind)
    schema = checks[0].output_model.model_json_schema()
    assert list(schema["properties"]) == ["critique", *[check.value for check in QualityCheckKind]]
    assert [(r.agent_name, r.round, r.attempts, r.passed) for r in state.turn_quality] == [
        (name, round_number, 1, True) for round_number in (1, 2) for name in NAMES
    ]


async def test_a_weak_turn_is_regenerated_with_the_critique_and_the_better_answer_kept():
    def speak(call):
        return talk("As an AI I cannot say.") if not call.follow_up else talk("The price worries me, honestly.")

    def score(call):
        weak = "As an AI" in call.messages[1]["content"]
        return judge(*([3, 8, 9, 9] if weak else [9, 9, 9, 9]), critique="Ana would not talk like a bot")(call)

    state = checked_world(["Ana"])
    llm = ScriptedLLM(["Ana"], speak, side_script=score)
    await run_all(state, llm)
    assert len(llm.calls) == 2 and len(judged(llm.side_calls)) == 2
    retry = llm.calls[1].follow_up
    assert "As an AI" in retry[0]["content"]
    assert "under 0.7 in persona_adherence (scores: persona_adherence 0.3, self_consistency 0.8" in retry[1]["content"]
    assert "Critique: Ana would not talk like a bot" in retry[1]["content"]
    assert [i.content for i in state.transcript if i.action is ActionType.TALK] == ["The price worries me, honestly."]
    (record,) = state.turn_quality
    assert record.attempts == 2 and record.passed
    assert record.first_scores[QualityCheckKind.PERSONA_ADHERENCE] == 0.3
    assert record.scores == {check: 0.9 for check in QualityCheckKind}
    assert record.extra_calls == 3  # two checks and one regeneration
    assert record.extra_prompt_tokens > 0 and record.extra_completion_tokens > 0


async def test_a_turn_that_never_passes_keeps_its_best_answer_after_the_attempts_allowed():
    answers = iter(["first try", "second try", "third try"])
    scores = {"first try": 5, "second try": 6, "third try": 4}

    def score(call):
        said = call.messages[1]["content"].rsplit("TALK: ", 1)[1]
        return judge(scores[said])(call)

    state = checked_world(["Ana"], max_attempts=3)
    llm = ScriptedLLM(["Ana"], lambda call: talk(next(answers)), side_script=score)
    await run_all(state, llm)
    assert len(llm.calls) == 3
    assert [i.content for i in state.transcript if i.action is ActionType.TALK] == ["second try"]
    (record,) = state.turn_quality
    assert (record.attempts, record.passed) == (3, False)
    assert set(record.scores.values()) == {0.6}


async def test_one_attempt_scores_without_regenerating_and_only_the_checks_asked_for():
    state = checked_world(["Ana"], max_attempts=1, checks=[QualityCheckKind.FLUENCY], threshold=0.9)
    llm = ScriptedLLM(["Ana"], lambda call: talk("meh"), side_script=judge(2))
    await run_all(state, llm)
    assert len(llm.calls) == 1
    (check,) = judged(llm.side_calls)
    assert list(check.output_model.model_json_schema()["properties"]) == ["critique", "fluency"]
    assert "persona_adherence" not in check.prompt
    assert state.turn_quality[0].scores == {QualityCheckKind.FLUENCY: 0.2}


async def test_a_failed_check_leaves_the_turn_unscored_and_the_run_going():
    state = checked_world(["Ana", "Bruno"])
    llm = ScriptedLLM(["Ana", "Bruno"], lambda call: talk("fine"), side_script=lambda call: LLMUnavailableError("down"))
    await run_all(state, llm)
    assert [i.content for i in state.transcript if i.action is ActionType.TALK] == ["fine", "fine"]
    assert all(record.error.startswith("LLMUnavailableError") and not record.scores for record in state.turn_quality)
    report = quality_report(state.turn_quality, ALL, ["Ana", "Bruno"])
    assert (report.turns_checked, report.turns_unchecked, report.extra_calls) == (0, 2, 2)


async def test_the_report_has_statistics_per_check_and_per_agent_and_the_cost():
    def score(call):
        agent = call.messages[0]["content"].split("You review one turn of ", 1)[1].split(",", 1)[0]
        return judge(10 if agent == "Ana" else 6)(call)

    state = checked_world(["Ana", "Bruno"], rounds=2, max_attempts=2)
    llm = ScriptedLLM(
        ["Ana", "Bruno"], lambda call: talk(f"{call.agent} {call.round} {len(call.follow_up)}"), side_script=score
    )
    await run_all(state, llm)
    report = quality_report(state.turn_quality, ALL, ["Ana", "Bruno"])
    assert (report.turns_checked, report.turns_regenerated, report.turns_below_threshold) == (4, 2, 2)
    fluency = next(item for item in report.statistics if item.check is QualityCheckKind.FLUENCY)
    assert fluency.scores.count == 4 and fluency.scores.mean == pytest.approx(0.8)
    assert fluency.scores.ci95_low < 0.8 < fluency.scores.ci95_high and fluency.below_threshold == 2
    assert fluency.first_attempt_mean == pytest.approx(0.8)
    assert [
        (agent.agent_name, agent.turns_regenerated, agent.mean_scores[QualityCheckKind.FLUENCY])
        for agent in report.agents
    ] == [("Ana", 0, 1.0), ("Bruno", 2, 0.6)]
    # Ana: one check per turn; Bruno: a check, a regeneration and a check per turn
    assert report.extra_calls == 2 + 2 * 3 == len(judged(llm.side_calls)) + len(llm.calls) - 4


async def test_replay_meets_every_check_and_regeneration_in_the_cache():
    def score(call):
        return judge(4 if "first" in call.messages[1]["content"] else 9)(call)

    def speak(call):
        return talk("second" if call.follow_up else "first")

    live = RecordingCache(ScriptedLLM(NAMES, speak, side_script=score))
    original = checked_world(rounds=3)
    await run_all(original, live)
    replay = RecordingCache(None)
    replay.answers = dict(live.answers)
    again = checked_world(rounds=3)
    await run_all(again, replay)
    assert replay.misses == 0 and again == original
    assert all(record.attempts == 2 for record in again.turn_quality)


def test_the_config_and_the_records_survive_the_checkpoint():
    config = study_pb2.SimulationConfig(
        environment_type=study_pb2.ENVIRONMENT_TYPE_FOCUS_GROUP,
        rounds=2,
        quality_checks=study_pb2.QualityChecks(enabled=True, checks=[study_pb2.QUALITY_CHECK_FLUENCY]),
    )
    engine = config_from_proto(config)
    assert engine.quality == QualityCheckConfig(checks=[QualityCheckKind.FLUENCY], threshold=0.7, max_attempts=3)
    assert config_from_proto(config_to_proto(engine)) == engine
    assert (
        config_from_proto(
            study_pb2.SimulationConfig(
                environment_type=study_pb2.ENVIRONMENT_TYPE_SURVEY,
                rounds=1,
                quality_checks=study_pb2.QualityChecks(threshold=0.5),
            )
        ).quality
        is None
    )  # not enabled


def test_bad_quality_settings_name_their_field():
    config = study_pb2.SimulationConfig(
        environment_type=study_pb2.ENVIRONMENT_TYPE_FOCUS_GROUP,
        rounds=1,
        quality_checks=study_pb2.QualityChecks(enabled=True, checks=[0, 9], threshold=1.5, max_attempts=7),
    )
    fields = [field for field, _ in simulation_config_violations(config, "simulation_config")]
    assert fields == [
        "simulation_config.quality_checks.checks[0]",
        "simulation_config.quality_checks.checks[1]",
        "simulation_config.quality_checks.threshold",
        "simulation_config.quality_checks.max_attempts",
    ]


async def test_the_service_reports_turn_quality_in_the_result_and_keeps_it_in_checkpoints(tmp_path):
    quality = study_pb2.QualityChecks(enabled=True, threshold=0.0001, max_attempts=1)
    async with running_mesh(tmp_path, latency_s=0.0) as mesh:
        session = await mesh.begin_session()
        request = run_request(session, ["Lisa Carter", "Oscar Diaz"], rounds=2, quality_checks=quality)
        events = [event async for event in mesh.simulation.RunSimulation(request, timeout=30)]
        finished = events[-1].finished
        report = finished.results.turn_quality
        spoke = {
            (i.agent_name, i.round)
            for i in finished.results.interactions
            if i.action in (study_pb2.ACTION_TYPE_TALK, study_pb2.ACTION_TYPE_THINK)
        }
        assert report.turns_checked == len(spoke) and report.extra_calls == len(spoke)
        assert report.extra_prompt_tokens > 0 and report.threshold == pytest.approx(0.0001)
        assert [item.check for item in report.statistics] == [1, 2, 3, 4]
        assert {agent.agent_name for agent in report.agents} <= {"Lisa Carter", "Oscar Diaz"}
        requests = [record for record in mesh.fake.stats.requests if record.body]
        assert (
            sum("You review one turn of" in record.body["messages"][0]["content"] for record in requests)
            == report.extra_calls
        )
        stored = await mesh.control.GetCheckpoint(
            control_pb2.GetCheckpointRequest(name=finished.checkpoint), timeout=10
        )
        payload = simulation_pb2.WorldState.FromString(stored.payload)
        world, agents = world_from_proto(payload)
        assert len(world.turn_quality) == report.turns_checked
        assert world_to_proto(world, agents, finished.usage).turn_quality == payload.turn_quality
