"""Study plans in one world: steps in order, interventions, the interviewer's follow-ups, the moderator's
openings, and resumption from any round of the plan."""

from __future__ import annotations

import json

from tinytroupe_mesh_api.common.v1 import agent_pb2, study_pb2

from services.engine.simulation import (
    ActionType,
    EnvironmentType,
    Intervention,
    PlanStep,
    RoundCompleted,
    RoundStarted,
    Simulation,
    Stimulus,
    WorldConfig,
    WorldState,
    plan_world,
)
from services.simulation.convert import world_from_proto, world_to_proto
from tests.simulation.support import ScriptedLLM, SideCall, agents, default_side_script, run_all, talk

NAMES = ["Ana", "Ben"]


def question(text: str, **options) -> Stimulus:
    return Stimulus(type="question", content=text, **options)


def survey_steps() -> list[PlanStep]:
    return [
        PlanStep(name="q1", stimulus=question("How old is your bike?"), rounds=1),
        PlanStep(name="q2", stimulus=question("Rate the SolarKettle from 1 to 5."), rounds=1),
        PlanStep(name="q3", stimulus=question("Would you buy it?"), rounds=1),
    ]


def answer_with_step(call) -> dict:
    new = call.user.split("New:", 1)[1]
    step = "q1" if "How old" in new else "q2" if "Rate the" in new else "q3"
    return talk(f"{call.agent} answers {step}")


async def test_a_survey_plan_runs_its_questions_in_order_in_one_world():
    state = plan_world(WorldConfig(environment=EnvironmentType.SURVEY, rounds=1), survey_steps(), agents(*NAMES))
    llm = ScriptedLLM(NAMES, answer_with_step)
    events = await run_all(state, llm)
    started = [(event.round, event.step, event.step_round) for event in events if isinstance(event, RoundStarted)]
    assert started == [(1, 1, 1), (2, 2, 1), (3, 3, 1)]
    talks = [(item.step, item.round, item.content) for item in state.transcript if item.action is ActionType.TALK]
    assert talks == [
        (1, 1, "Ana answers q1"),
        (1, 1, "Ben answers q1"),
        (2, 2, "Ana answers q2"),
        (2, 2, "Ben answers q2"),
        (3, 3, "Ana answers q3"),
        (3, 3, "Ben answers q3"),
    ]
    questions = [(item.step, item.round) for item in state.transcript if item.action is ActionType.STIMULUS]
    assert questions == [(1, 0), (2, 1), (3, 2)]
    assert (state.rounds_completed, state.step, state.step_rounds_completed) == (3, 3, 1)
    # memory carries over: the third question's prompt remembers the first answer, and nobody hears another
    third = llm.calls_of("Ana", 1)[-1]
    assert "Ana answers q1" in third.user and "Ben answers" not in third.user
    assert len(llm.calls) == 6 and not llm.side_calls


def interviewer(answers: dict[str, list[str]]):
    """Follow-ups per interviewee in order ("" ends the question), chosen by the prompt alone (as a cache
    would answer): the n-th follow-up after n questions asked."""

    def script(call: SideCall) -> dict:
        if call.label != "simulation.interviewer":
            return default_side_script(call)
        prompt = call.messages[1]["content"]
        name = prompt.split("Interviewee: ", 1)[1].split(".", 1)[0]
        index = prompt.count("\nYou: ") - 1
        follow_ups = answers[name]
        return {"follow_up": follow_ups[min(index, len(follow_ups) - 1)]}

    return script


async def test_interviewer_follow_ups_read_the_answer_and_stop_at_max_follow_ups():
    steps = [
        PlanStep(name="why", stimulus=question("Why did you stop cycling?"), rounds=3, max_follow_ups=2),
        PlanStep(name="next", stimulus=question("What would bring you back?"), rounds=1),
    ]
    state = plan_world(WorldConfig(environment=EnvironmentType.INTERVIEW, rounds=1), steps, agents(*NAMES))
    llm = ScriptedLLM(
        NAMES,
        lambda call: talk(f"{call.agent} said something in round {call.round}"),
        side_script=interviewer({"Ana": ["What hill was that?", "And in winter?"], "Ben": [""]}),
    )
    await run_all(state, llm)
    follow_ups = [
        (item.target, item.round, item.content)
        for item in state.transcript
        if item.agent_name == "moderator" and item.step == 1 and item.target
    ]
    assert follow_ups == [("Ana", 2, "What hill was that?"), ("Ana", 3, "And in winter?")]
    interviewer_calls = [call for call in llm.side_calls if call.label == "simulation.interviewer"]
    # round 1: both answered; round 2: Ana answered her follow-up; after round 3 the step is at its maximum
    assert len(interviewer_calls) == 3
    assert "Ana said something in round 1" in interviewer_calls[0].messages[1]["content"]
    assert [len(llm.calls_of(name)) for name in NAMES] == [4, 2]
    assert state.step == 2 and state.rounds_completed == 4


async def test_interview_question_ends_when_the_interviewer_has_no_follow_up():
    steps = [PlanStep(name="why", stimulus=question("Why?"), rounds=4, max_follow_ups=3)]
    state = plan_world(WorldConfig(environment=EnvironmentType.INTERVIEW, rounds=1), steps, agents(*NAMES))
    llm = ScriptedLLM(
        NAMES, lambda call: talk("because"), side_script=interviewer({"Ana": ["Because of what?", ""], "Ben": [""]})
    )
    await run_all(state, llm)
    assert state.rounds_completed == 2 and state.step_rounds_completed == 2


async def test_focus_group_moderator_opens_each_topic_and_an_intervention_reaches_chosen_agents():
    steps = [
        PlanStep(name="price", stimulus=question("The price of 49 EUR a month"), rounds=1, moderator_opens=True),
        PlanStep(
            name="cut",
            stimulus=question("The new price"),
            rounds=1,
            moderator_opens=True,
            intervention=Intervention(content="The price was cut to 29 EUR.", context="A sale", target_agents=["Ben"]),
        ),
    ]
    state = plan_world(WorldConfig(environment=EnvironmentType.FOCUS_GROUP, rounds=1), steps, agents(*NAMES))

    def moderator(call: SideCall) -> dict:
        if call.label != "simulation.moderator":
            return default_side_script(call)
        topic = call.messages[1]["content"].split("Topic ", 1)[1].split(":", 1)[0]
        return {"opening": f"Welcome to topic {topic}: what do you think?"}

    llm = ScriptedLLM(NAMES, lambda call: talk(f"{call.agent} in round {call.round}"), side_script=moderator)
    await run_all(state, llm)
    openings = [
        (item.step, item.content)
        for item in state.transcript
        if item.agent_name == "moderator" and item.action is ActionType.STIMULUS
    ]
    assert openings == [
        (1, "Welcome to topic 1 of 2: what do you think?"),
        (2, "Welcome to topic 2 of 2: what do you think?"),
    ]
    second_opening = [call for call in llm.side_calls if call.label == "simulation.moderator"][1]
    assert "Ana: Ana in round 1" in second_opening.messages[1]["content"]
    interventions = [(item.target, item.step) for item in state.transcript if item.agent_name == "intervention"]
    assert interventions == [("Ben", 2)]
    ben, ana = llm.calls_of("Ben")[-1], llm.calls_of("Ana")[-1]
    assert "The price was cut to 29 EUR." in ben.user and "Situation: A sale" in ben.user
    assert "29 EUR" not in ana.user and "Welcome to topic 2 of 2" in ana.user


async def test_a_plan_resumed_from_any_round_checkpoint_takes_the_same_path():
    def fresh():
        steps = [
            PlanStep(name="why", stimulus=question("Why?"), rounds=3, max_follow_ups=2),
            PlanStep(
                name="then",
                stimulus=question("Then?"),
                rounds=1,
                intervention=Intervention(content="News: bikes are free now."),
            ),
        ]
        return plan_world(WorldConfig(environment=EnvironmentType.INTERVIEW, rounds=1), steps, agents(*NAMES))

    def llm():
        return ScriptedLLM(
            NAMES,
            lambda call: talk(f"{call.agent} r{call.round} heard {call.user.count('moderator')}"),
            side_script=interviewer({"Ana": ["More?"], "Ben": ["Really?", ""]}),
        )

    whole = fresh()
    snapshots = []
    async for event in Simulation(whole, llm(), session="sessions/test").run():
        if isinstance(event, RoundCompleted):
            snapshots.append(whole.model_copy(deep=True))
    assert whole.rounds_completed == 4 and len(snapshots) == 4
    for snapshot in snapshots:
        resumed = WorldState.model_validate_json(snapshot.model_dump_json())
        await run_all(resumed, llm())
        assert resumed.transcript == whole.transcript, f"resumed after round {snapshot.rounds_completed}"
        assert (resumed.step, resumed.step_rounds_completed) == (whole.step, whole.step_rounds_completed)


def test_a_plan_world_state_round_trips_through_its_proto():
    state = plan_world(
        WorldConfig(environment=EnvironmentType.INTERVIEW, rounds=1),
        [
            PlanStep(name="why", stimulus=question("Why?", target_agents=["Ana"]), rounds=3, max_follow_ups=2),
            PlanStep(name="then", stimulus=question("Then?"), rounds=1, intervention=Intervention(context="Later")),
        ],
        agents(*NAMES),
    )
    state.step, state.step_rounds_completed, state.rounds_completed = 2, 1, 4
    state.record(4, "Ana", ActionType.TALK, "fine")
    base = {name: agent_pb2.Agent(name=name, spec_json=spec(name)) for name in NAMES}
    proto = world_to_proto(state, base, study_pb2.TokenUsage())
    assert [step.name for step in proto.steps] == ["why", "then"] and proto.transcript[0].step == 2
    back, _ = world_from_proto(proto)
    assert back.steps == state.steps
    assert (back.step, back.step_rounds_completed, back.transcript[0].step) == (2, 1, 2)


def spec(name: str) -> str:
    return json.dumps({"type": "TinyPerson", "persona": {"name": name, "age": 40, "occupation": "teacher"}})
