"""The extraction pipeline without gRPC: prompts, the three modes, coercion, grounding and quality."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from tinytroupe_mesh_api.common.v1 import study_pb2

from services.common.extracted_values import python_value
from services.common.hints import parse_hint
from services.extraction.extractor import Extractor
from services.extraction.output_model import agent_answer_model, world_answer_model
from services.extraction.results import extracted_results
from services.extraction.validation import plan_extraction
from services.llm import LLMInvalidOutputError, LLMUnavailableError
from tests.extraction.conftest import TALK, THINK, extraction_request, transcript

FIELDS = ["rating", "purchase_intent", "concerns"]
RAPPORTEUR = study_pb2.ExtractionConfig.MODE_RAPPORTEUR
WORLD = study_pb2.ExtractionConfig.MODE_WORLD


class ScriptedLLM:
    """Answers `structured` calls with `answer(messages)` validated into the output model."""

    def __init__(self, answer, latency: float = 0.0):
        self.answer = answer
        self.latency = latency
        self.calls: list[dict[str, Any]] = []

    async def structured(self, messages, output_model, *, session="", label="", max_tokens=None, temperature=None):
        self.calls.append(
            {
                "messages": messages,
                "schema": output_model.model_json_schema(),
                "label": label,
                "session": session,
                "max_tokens": max_tokens,
                "temperature": temperature,
            }
        )
        await asyncio.sleep(self.latency)
        answer = self.answer(messages)
        if isinstance(answer, Exception):
            raise answer
        return output_model.model_validate(answer)


def prompt_of(messages) -> str:
    return messages[-1]["content"]


def field(value, evidence, confidence=0.9):
    return {"evidence": evidence, "value": value, "confidence": confidence}


LINES = [
    ("Ana", TALK, "I would rate it 8 out of 10 and I will buy it. Only the noise bothers me."),
    ("Ben", TALK, "Too expensive for me, 4 out of 10. Not buying."),
    ("Ben", THINK, "Ana seems easily impressed."),
    ("Ana", TALK, "Ben, what would make you change your mind?"),
    ("Cleo", TALK, "Maybe, if the price drops. I'd give it a 6."),
]


def by_agent(messages):
    prompt = prompt_of(messages)
    if prompt.endswith("for Ana."):
        return {
            "rating": field(8, "I would rate it 8 out of 10"),
            "purchase_intent": field("Yes.", "I will buy it"),
            "concerns": field(["noise"], "Only the noise bothers me"),
        }
    if prompt.endswith("for Ben."):
        return {
            "rating": field("4/10", "4 out of 10", 0.8),
            "purchase_intent": field("no", "Not buying", 0.8),
            "concerns": field(["price"], "the noise bothers me", 0.8),
        }  # Ana's words, not Ben's
    return {
        "rating": field(None, "", 0.2),
        "purchase_intent": field("maybe", "Maybe, if the price drops"),
        "concerns": field("price drop needed", "if the price drops"),
    }


async def run(request, llm):
    plan = plan_extraction(request)
    raws = await Extractor(llm).extract(plan)
    return extracted_results(plan, raws)


async def test_per_agent_mode_types_grounds_and_reports():
    llm = ScriptedLLM(by_agent)
    request = extraction_request(["Ana", "Ben", "Cleo", "Dan"], transcript(LINES), fields=FIELDS)
    results = await run(request, llm)

    assert len(llm.calls) == 3  # Dan said nothing: no call, nothing invented
    assert {call["label"] for call in llm.calls} == {"extraction.agent"}
    assert all(call["temperature"] == 0.0 and call["max_tokens"] > 0 for call in llm.calls)
    ana, ben, cleo, dan = results.individual_results
    assert [r.agent_name for r in results.individual_results] == ["Ana", "Ben", "Cleo", "Dan"]

    assert python_value(ana.fields["rating"]) == 8.0
    assert ana.fields["rating"].kind == study_pb2.VALUE_KIND_NUMBER
    assert python_value(ana.fields["purchase_intent"]) == "yes" and ana.fields["purchase_intent"].raw == "Yes."
    assert python_value(ana.fields["concerns"]) == ["noise"]
    assert ana.confidence_score == pytest.approx(0.9)

    assert python_value(ben.fields["rating"]) == 4.0 and ben.fields["rating"].raw == "4/10"
    assert ben.fields["concerns"].confidence == pytest.approx(0.4)  # evidence not in Ben's words: halved
    assert ben.fields["rating"].confidence == pytest.approx(0.8)

    assert cleo.fields["rating"].WhichOneof("value") is None
    assert cleo.fields["rating"].problem.startswith("missing:")
    assert python_value(cleo.fields["concerns"]) == ["price drop needed"]

    for name in FIELDS:
        assert dan.fields[name].WhichOneof("value") is None
        assert "said nothing" in dan.fields[name].problem
    assert dan.confidence_score == 0.0

    rating = next(s for s in results.aggregate_statistics if s.field == "rating")
    assert (rating.usable_count, rating.total_count) == (2, 4)
    assert (rating.numeric.mean, rating.numeric.median, rating.numeric.min, rating.numeric.max) == (6, 6, 4, 8)
    intent = next(s for s in results.aggregate_statistics if s.field == "purchase_intent")
    assert [(c.value, c.count, c.share) for c in intent.counts] == [
        ("yes", 1, 1 / 3),
        ("no", 1, 1 / 3),
        ("maybe", 1, 1 / 3),
    ]

    quality = results.statistical_analysis.quality_metrics
    assert quality.coverage == pytest.approx(8 / 12)
    assert quality.failure_rate == 0.0
    assert results.statistical_analysis.sample_size == 3
    assert results.statistical_analysis.confidence_level == 0.95


async def test_each_agent_reads_what_it_said_and_heard_only():
    llm = ScriptedLLM(by_agent)
    lines = [*LINES, ("Ben", TALK, "Cleo, between us, I think it's a gimmick.")]
    lines[3] = ("Ana", TALK, "Ben, what would make you change your mind?")
    interactions = transcript(lines)
    interactions[4].target = "Ben"  # Ana speaks to Ben only
    interactions[6].target = "Cleo"
    await run(extraction_request(["Ana", "Ben", "Cleo"], interactions, fields=FIELDS), llm)
    prompts = {
        prompt_of(call["messages"]).rsplit(" ", 1)[-1].rstrip("."): prompt_of(call["messages"]) for call in llm.calls
    }
    assert "What do you think of the new SolarBrew" in prompts["Cleo"]  # the stimulus reaches everyone
    assert "Ana seems easily impressed" in prompts["Ben"]  # its own thought
    assert "Ana seems easily impressed" not in prompts["Ana"]  # others' thoughts are private
    assert "Ana to Ben: Ben, what would make you" in prompts["Ben"]
    assert "what would make you" not in prompts["Cleo"]  # talk to someone else
    assert "gimmick" in prompts["Cleo"] and "gimmick" not in prompts["Ana"]
    assert "Fields:\n- rating: integer 1-10\n- purchase_intent: one of yes/no/maybe" in prompts["Ana"]


async def test_agents_run_concurrently():
    llm = ScriptedLLM(lambda messages: {name: field(None, "") for name in FIELDS}, latency=0.2)
    names = [f"Agent{index}" for index in range(20)]
    lines = [(name, TALK, "I have an opinion.") for name in names]
    started = asyncio.get_running_loop().time()
    results = await run(extraction_request(names, transcript(lines), fields=FIELDS), llm)
    assert asyncio.get_running_loop().time() - started < 0.2 * 3
    assert len(llm.calls) == 20 and len(results.individual_results) == 20


async def test_rapporteur_consolidates_in_one_call():
    def answer(messages):
        assert "As the rapporteur" in prompt_of(messages)
        return {
            "rating": field(6, "I'd give it a 6"),
            "purchase_intent": field("maybe", "Maybe, if the price drops"),
            "concerns": field(["price", "noise"], "I love it"),
        }

    llm = ScriptedLLM(answer)
    results = await run(
        extraction_request(["Ana", "Ben", "Cleo"], transcript(LINES), fields=FIELDS, mode=RAPPORTEUR), llm
    )
    assert len(llm.calls) == 1 and llm.calls[0]["label"] == "extraction.rapporteur"
    (result,) = results.individual_results
    assert result.agent_name == "rapporteur"
    assert python_value(result.fields["rating"]) == 6.0
    assert result.fields["rating"].confidence == pytest.approx(0.9)  # Cleo's words support it
    assert result.fields["concerns"].confidence == pytest.approx(0.45)  # nobody said "I love it"
    assert len(results.aggregate_statistics) == 0  # one result: nothing to aggregate


async def test_world_mode_answers_every_agent_in_one_call():
    def answer(messages):
        assert "Give one result for each participant: Ana, Ben, Cleo." in prompt_of(messages)
        return {
            "results": [
                {
                    "agent_name": "Ben",
                    "rating": field(4, "4 out of 10"),
                    "purchase_intent": field("no", "Not buying"),
                    "concerns": field(["price"], "Too expensive for me"),
                },
                {
                    "agent_name": "Ana",
                    "rating": field(8, "Too expensive for me"),
                    "purchase_intent": field("yes", ""),
                    "concerns": field([], "Only the noise bothers me"),
                },
            ]
        }

    llm = ScriptedLLM(answer)
    results = await run(extraction_request(["Ana", "Ben", "Cleo"], transcript(LINES), fields=FIELDS, mode=WORLD), llm)
    assert len(llm.calls) == 1 and llm.calls[0]["label"] == "extraction.world"
    items = llm.calls[0]["schema"]["properties"]["results"]
    assert items["minItems"] == items["maxItems"] == 3
    assert items["items"]["properties"]["agent_name"]["enum"] == ["Ana", "Ben", "Cleo"]
    ana, ben, cleo = results.individual_results
    assert python_value(ben.fields["rating"]) == 4.0 and ben.fields["rating"].confidence == pytest.approx(0.9)
    assert ana.fields["rating"].confidence == pytest.approx(0.45)  # Ben's words quoted for Ana
    assert python_value(ana.fields["concerns"]) == []
    assert all("no entry for this agent" in value.problem for value in cleo.fields.values())


async def test_failed_calls_are_reported_per_agent_and_counted():
    def answer(messages):
        if prompt_of(messages).endswith("for Ben."):
            return LLMInvalidOutputError("bad answer", raw_text="{")
        return by_agent(messages)

    results = await run(
        extraction_request(["Ana", "Ben", "Cleo"], transcript(LINES), fields=FIELDS, failed=["Zoe"]),
        ScriptedLLM(answer),
    )
    ben = results.individual_results[1]
    assert all(value.problem.startswith("missing: the extraction call failed") for value in ben.fields.values())
    assert [r.agent_name for r in results.individual_results] == ["Ana", "Ben", "Cleo"]  # Zoe left out
    assert results.statistical_analysis.quality_metrics.failure_rate == pytest.approx(2 / 4)  # Zoe and Ben


async def test_an_unavailable_model_fails_every_agent():
    llm = ScriptedLLM(lambda messages: LLMUnavailableError("down"))
    plan = plan_extraction(extraction_request(["Ana", "Ben"], transcript(LINES), fields=FIELDS))
    raws = await Extractor(llm).extract(plan)
    assert all(isinstance(raw.error, LLMUnavailableError) for raw in raws)


def test_the_output_schema_constrains_types():
    specs = [
        parse_hint("rating", "integer 1-10"),
        parse_hint("purchase intent", "one of yes/no/maybe"),
        parse_hint("would_buy", "yes/no"),
        parse_hint("share", "number 0-1"),
        parse_hint("concerns", "list"),
    ]
    schema = agent_answer_model(specs).model_json_schema()
    assert schema["required"] == ["rating", "purchase intent", "would_buy", "share", "concerns"]
    assert "$defs" not in json.dumps(schema)

    def value_of(name):
        return schema["properties"][name]["properties"]["value"]["anyOf"]

    assert value_of("rating") == [{"type": "integer", "minimum": 1, "maximum": 10}, {"type": "null"}]
    assert value_of("purchase intent")[0] == {"type": "string", "enum": ["yes", "no", "maybe"]}
    assert value_of("would_buy")[0] == {"type": "boolean"}
    assert value_of("share")[0] == {"type": "number", "minimum": 0.0, "maximum": 1.0}
    assert value_of("concerns")[0]["type"] == "array"
    confidence = schema["properties"]["rating"]["properties"]["confidence"]
    assert (confidence["minimum"], confidence["maximum"]) == (0, 1)

    # lenient on the way back: a bare value, a text confidence, unknown keys
    answer = agent_answer_model(specs).model_validate(
        {"rating": "7/10", "purchase intent": {"value": "Yes.", "confidence": "high", "extra": 1}}
    )
    assert answer.answers()["rating"].value == "7/10"
    assert answer.answers()["purchase intent"].confidence is None
    assert answer.answers()["concerns"] is None
    assert world_answer_model(specs, ["A"]).model_validate({"results": "nonsense"}).results == []


async def test_values_that_repeat_the_hint_are_missing_and_noted_in_the_quality():
    hints = {"main_concern": "short text: the participant's biggest worry"}

    def answer(messages):
        name = prompt_of(messages).rsplit(" ", 1)[-1].rstrip(".")
        value = "noise" if name == "Ana" else "the participant's biggest worry"
        return {"main_concern": field(value, "the noise bothers me")}

    request = extraction_request(["Ana", "Ben"], transcript(LINES), fields=["main_concern"], hints=hints)
    results = await run(request, ScriptedLLM(answer))
    ana, ben = results.individual_results
    assert python_value(ana.fields["main_concern"]) == "noise"
    assert python_value(ben.fields["main_concern"]) is None and ben.fields["main_concern"].confidence == 0.0
    assert ben.fields["main_concern"].problem.startswith("missing: the value only repeats the field's hint")
    quality = results.statistical_analysis.quality_metrics
    assert quality.coverage == 0.5
    assert [note.metric for note in quality.notes][0] == "hint_echo"
