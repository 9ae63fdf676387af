import math

import pytest

from services.engine.persona import Persona
from services.engine.validation import PersonaJudgement, validate_persona
from tests.engine.support import AGENT_FILES, FakeLLM

OSCAR = Persona.load(next(path for path in AGENT_FILES if path.name.startswith("Oscar")))


@pytest.mark.parametrize(
    ("raw", "clamped"),
    [(0.72, 0.72), (1.7, 1.0), (-0.2, 0.0), (math.nan, 0.0), (math.inf, 0.0), (0.0, 0.0), (1.0, 1.0)],
)
async def test_score_is_clamped(raw, clamped):
    llm = FakeLLM(lambda call: PersonaJudgement(justification="  Fits the brief.  ", score=raw))
    score, justification = await validate_persona(llm, OSCAR, "An architect", session="s-2")
    assert score == clamped and justification == "Fits the brief."


async def test_the_judge_sees_the_persona_and_the_expectations():
    llm = FakeLLM(lambda call: PersonaJudgement(justification="ok", score=0.5))
    await validate_persona(llm, OSCAR, "A young architect from Germany who loves modernism", session="s-2")
    (call,) = llm.calls
    assert call.output_model is PersonaJudgement
    assert call.session == "s-2" and call.label == "persona.validation"
    assert OSCAR.name in call.prompt
    assert "A young architect from Germany who loves modernism" in call.prompt
    assert call.messages[0]["role"] == "system" and "0.0" in call.messages[0]["content"]


def interviewer(
    questions=("Where do you work?", "What do you design?"), answer=lambda call: "At my studio.", score=0.8
):
    """A FakeLLM responder playing the validator (questions, judgement) and the agent (answers)."""
    from services.engine.validation import InterviewAnswer, questions_model

    def respond(call):
        if call.label.endswith(".questions"):
            return call.output_model.model_validate({"questions": list(questions)})
        if call.label.endswith(".answer"):
            return InterviewAnswer(answer=answer(call))
        return PersonaJudgement(justification="The answers fit.", score=score)

    assert questions_model(3) is questions_model(3)
    return respond


async def test_the_interview_asks_the_agent_in_character_and_judges_its_answers():
    from services.engine.validation import interview_persona

    llm = FakeLLM(interviewer(answer=lambda call: f"I answer: {call.messages[-1]['content'].rsplit(chr(10), 1)[-1]}"))
    validation = await interview_persona(
        llm,
        OSCAR,
        "An architect who loves modernism",
        session="s-2",
        memory=["you said: I like concrete."],
        memory_summary="A chat on houses.",
        persona_chars=100_000,
    )
    assert [call.label for call in llm.calls] == [
        "persona.validation.questions",
        "persona.validation.answer",
        "persona.validation.answer",
        "persona.validation",
    ]
    questions, first_answer, _, judgement = llm.calls
    assert "An architect who loves modernism" in questions.prompt and OSCAR.name in questions.prompt
    assert questions.output_model.model_json_schema()["properties"]["questions"]["maxItems"] == 3
    # the agent answers in character: its whole persona, its memory, the question; not the expectations
    assert first_answer.messages[0]["content"].startswith(f"You are {OSCAR.name}.")
    assert OSCAR.describe(100_000) in first_answer.messages[0]["content"]
    assert "A chat on houses.\n- you said: I like concrete." in first_answer.prompt
    assert "Where do you work?" in first_answer.prompt and "modernism" not in first_answer.prompt
    assert "Q: Where do you work?\nA: I answer: Where do you work?" in judgement.prompt
    assert "An architect who loves modernism" in judgement.prompt
    assert (validation.score, validation.justification) == (0.8, "The answers fit.")
    assert validation.interview == [
        ("Where do you work?", "I answer: Where do you work?"),
        ("What do you design?", "I answer: What do you design?"),
    ]


async def test_the_answers_are_asked_at_once_and_clean_questions_are_kept():
    import asyncio

    from services.engine.validation import FALLBACK_QUESTION, interview_persona

    async def slow(call):
        await asyncio.sleep(0.02)
        return interviewer(questions=[" Where  do you live? ", "where do you live?", "", "Why?", "More?"])(call)

    llm = FakeLLM(slow)
    validation = await interview_persona(llm, OSCAR, "A Berliner", questions=2)
    assert [question for question, _ in validation.interview] == ["Where do you live?", "Why?"]
    assert llm.peak_in_flight == 2
    empty = await interview_persona(FakeLLM(interviewer(questions=["  "])), OSCAR, "A Berliner")
    assert [question for question, _ in empty.interview] == [FALLBACK_QUESTION]


async def test_an_answer_that_repeats_the_profile_is_asked_again_then_left_empty():
    from services.engine.validation import interview_persona

    pasted = " ".join(OSCAR.describe(100_000).split()[10:40])
    llm = FakeLLM(interviewer(questions=["Who are you?"], answer=lambda call: pasted))
    validation = await interview_persona(llm, OSCAR, "An architect", persona_chars=100_000)
    answers = [call for call in llm.calls if call.label.endswith(".answer")]
    assert len(answers) == 2 and "repeated your persona profile" in answers[1].messages[-1]["content"]
    assert validation.interview == [("Who are you?", "")]
