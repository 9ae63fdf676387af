"""The rapporteur over many participants reads them in bounded parts, then consolidates the parts."""

from __future__ import annotations

from tinytroupe_mesh_api.common.v1 import study_pb2

from services.common.extracted_values import python_value
from services.extraction.rapporteur_parts import PART_AGENTS, parts_of
from services.llm import LLMUnavailableError
from tests.extraction.conftest import TALK, extraction_request, transcript
from tests.extraction.test_extractor import ScriptedLLM, field, prompt_of, run

RAPPORTEUR = study_pb2.ExtractionConfig.MODE_RAPPORTEUR
FIELDS = ["rating", "purchase_intent"]


def names(count: int) -> list[str]:
    return [f"Person{index:03d}" for index in range(count)]


def lines(people: list[str]) -> list[tuple[str, int, str]]:
    return [(name, TALK, f"I am {name} and I would rate it 7 out of 10.") for name in people]


def test_parts_are_bounded_and_even():
    assert [len(part) for part in parts_of(names(120))] == [40, 40, 40]
    assert [len(part) for part in parts_of(names(101), 50)] == [34, 34, 33]
    assert parts_of(names(3)) == [names(3)]
    assert sum(parts_of(names(1000)), []) == names(1000), "every participant once, in order"


async def test_many_participants_are_read_in_parts_then_consolidated():
    people = names(3 * PART_AGENTS)

    def answer(messages):
        prompt = prompt_of(messages)
        if "rapporteurs consolidated it in parts" in prompt:
            assert prompt.count("participants): ") == 3
            return {"rating": field(7, "I would rate it 7 out of 10"), "purchase_intent": field("maybe", "")}
        read = [name for name in people if f"I am {name} " in prompt]
        assert len(read) == PART_AGENTS, "a part reads its own participants only"
        return {"rating": field(7, "I would rate it 7 out of 10"), "purchase_intent": field("maybe", "")}

    llm = ScriptedLLM(answer)
    results = await run(extraction_request(people, transcript(lines(people)), fields=FIELDS, mode=RAPPORTEUR), llm)
    labels = [call["label"] for call in llm.calls]
    assert labels == ["extraction.rapporteur.part"] * 3 + ["extraction.rapporteur"]
    longest = max(len(prompt_of(call["messages"])) for call in llm.calls)
    assert longest < 8000, "every prompt stays bounded"
    (result,) = results.individual_results
    assert result.agent_name == "rapporteur"
    assert python_value(result.fields["rating"]) == 7.0
    assert result.fields["rating"].confidence > 0.5, "the quote grounds in the participants' words"


async def test_a_failed_part_is_left_out_and_all_failed_fail_the_result():
    people = names(2 * PART_AGENTS)
    first_part = people[0]

    def one_part_fails(messages):
        prompt = prompt_of(messages)
        if f"I am {first_part} " in prompt and "rapporteurs consolidated" not in prompt:
            return LLMUnavailableError("the model is down")
        if "rapporteurs consolidated" in prompt:
            assert prompt.count("participants): ") == 1
        return {"rating": field(7, "I would rate it 7 out of 10"), "purchase_intent": field("maybe", "")}

    request = extraction_request(people, transcript(lines(people)), fields=FIELDS, mode=RAPPORTEUR)
    results = await run(request, ScriptedLLM(one_part_fails))
    assert not results.individual_results[0].failure_reason

    results = await run(request, ScriptedLLM(lambda messages: LLMUnavailableError("the model is down")))
    assert "the model is down" in results.individual_results[0].failure_reason
