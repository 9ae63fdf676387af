import math

import pytest

from services.engine.persona import Persona
from services.engine.validation import PersonaJudgement, validate_persona
from tests.engine.support import AGENT_FILES, FakeLLM

OSCAR = Persona.load(next(path for path in AGENT_FILES if path.name.startswith("Oscar")))


@pytest.mark.parametrize(("raw", "clamped"), [(0.72, 0.72), (1.7, 1.0), (-0.2, 0.0), (math.nan, 0.0),
                                              (math.inf, 0.0), (0.0, 0.0), (1.0, 1.0)])
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
