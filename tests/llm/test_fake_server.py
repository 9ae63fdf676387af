"""The fake OpenAI-compatible server: schema instances, names, determinism, scripts, HTTP control."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal

import aiohttp
from pydantic import BaseModel, Field

from tests.fake_llm import FakeLLMServer, InstanceGenerator, NameRegistry
from tests.llm.conftest import ClientFactory
from tests.llm.models import AgentTurn, Person, turn_messages


class Mood(str, Enum):
    calm = "calm"
    tense = "tense"


class Address(BaseModel):
    city: str
    postcode: str = Field(min_length=4, max_length=6)


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: int = Field(ge=1, le=9)


class Dog(BaseModel):
    kind: Literal["dog"]
    good: bool


class Profile(BaseModel):
    name: str
    age: int = Field(ge=18, le=65)
    score: float = Field(gt=0, lt=1)
    height_m: float = Field(ge=1.4, le=2.1)
    mood: Mood
    address: Address
    previous: Address | None
    tags: list[str] = Field(min_length=2, max_length=4)
    ratings: dict[str, int]
    pet: Annotated[Cat | Dog, Field(discriminator="kind")]
    version: Literal[2] = 2
    children: list[Profile] = Field(default_factory=list, max_length=1)


def test_instances_validate_against_pydantic_schemas() -> None:
    schema = Profile.model_json_schema()
    names = NameRegistry()
    for variation in range(60):
        instance = InstanceGenerator(schema, f"v{variation}", names).generate()
        profile = Profile.model_validate(instance)
        assert 18 <= profile.age <= 65 and 0 < profile.score < 1 and 1.4 <= profile.height_m <= 2.1
        assert profile.previous is not None  # nullable fields get a value


def test_generation_is_deterministic_per_variation() -> None:
    schema = AgentTurn.model_json_schema()
    assert InstanceGenerator(schema, "a").generate() == InstanceGenerator(schema, "a").generate()
    assert InstanceGenerator(schema, "a").generate() != InstanceGenerator(schema, "b").generate()


def test_a_hundred_person_names_are_unique_and_realistic() -> None:
    names = NameRegistry()
    generated = [
        InstanceGenerator(Person.model_json_schema(), f"person-{index}", names).generate()["name"]
        for index in range(100)
    ]
    assert len(set(generated)) == 100
    assert all(re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+", name) for name in generated)


async def test_identical_requests_get_distinct_names(fake_llm: FakeLLMServer, make_client: ClientFactory) -> None:
    client = make_client()
    people = await asyncio.gather(*(client.structured(turn_messages("generator"), Person) for _ in range(100)))
    assert len({person.name for person in people}) == 100


async def _names_for_seed(seed: int) -> list[str]:
    async with FakeLLMServer(seed=seed) as fake, aiohttp.ClientSession() as http:
        names = []
        for index in range(5):
            body = {
                "model": "m",
                "messages": turn_messages(f"person {index}"),
                "response_format": {"type": "json_object", "schema": Person.model_json_schema()},
            }
            async with http.post(f"{fake.base_url}/chat/completions", json=body) as response:
                names.append(json.loads((await response.json())["choices"][0]["message"]["content"])["name"])
        return names


async def test_answers_are_deterministic_given_the_seed() -> None:
    assert await _names_for_seed(1) == await _names_for_seed(1)
    assert await _names_for_seed(1) != await _names_for_seed(2)


async def test_scripts_force_content(fake_llm: FakeLLMServer, make_client: ClientFactory) -> None:
    said = {"actions": [{"type": "TALK", "content": "I would never buy this.", "target": None}]}
    fake_llm.script(r"You are Ben\b", said, on="system")
    fake_llm.script(r"You are Chen\b", '{"actions": [{"type": "DONE", "content": ""}], "emotions": "bored"}', times=1)
    client = make_client()

    ana, ben, chen, chen_again = [
        await client.structured(turn_messages(agent), AgentTurn) for agent in ("Ana", "Ben", "Chen", "Chen")
    ]

    assert ben.actions[0].content == "I would never buy this." and ben.emotions  # merged over a generated turn
    assert chen.emotions == "bored" and chen.actions[0].type == "DONE"
    assert chen_again.emotions != "bored"  # the rule applied once
    assert ana.actions[0].content != "I would never buy this."
    assert fake_llm.stats.count("scripted") == 2


async def test_a_callable_script_sees_the_request(fake_llm: FakeLLMServer, make_client: ClientFactory) -> None:
    def echo_user(body: dict[str, Any]) -> dict[str, Any]:
        question = body["messages"][-1]["content"]
        return {"actions": [{"type": "TALK", "content": f"You asked: {question}"}]}

    fake_llm.script(".*", echo_user)
    turn = await make_client().structured(turn_messages("Ana", "Price?"), AgentTurn)

    assert turn.actions[0].content == "You asked: Price?"


async def test_http_control_endpoints(fake_llm: FakeLLMServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{fake_llm.base_url}/models") as response:
            assert (await response.json())["data"][0]["id"] == "fake-model"
        async with http.post(
            f"{fake_llm.root_url}/_fake/config",
            json={
                "latency_s": 0.01,
                "fault_plan": ["server_error"],
                "scripts": [{"pattern": "Zed", "answer": "hi"}],
            },
        ) as response:
            assert (await response.json())["latency_s"] == 0.01
        body = {"model": "m", "messages": turn_messages("Zed")}
        async with http.post(f"{fake_llm.base_url}/chat/completions", json=body) as response:
            assert response.status == 500
        async with http.post(f"{fake_llm.base_url}/chat/completions", json=body) as response:
            assert (await response.json())["choices"][0]["message"]["content"] == "hi"
        async with http.get(f"{fake_llm.root_url}/_fake/stats") as response:
            stats = await response.json()
        assert stats["total_requests"] == 2
        assert stats["by_outcome"] == {"server_error": 1, "scripted": 1}
        assert "body" not in stats["requests"][0]
        async with http.post(f"{fake_llm.root_url}/_fake/reset") as response:
            assert response.status == 200
        async with http.post(f"{fake_llm.root_url}/_fake/config", json={"latency_s": "slow"}) as response:
            assert response.status == 400
    assert fake_llm.stats.total_requests == 0


async def test_malformed_and_streaming_requests_are_400(fake_llm: FakeLLMServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{fake_llm.base_url}/chat/completions", data=b"{nope") as response:
            assert response.status == 400
        body = {"model": "m", "messages": turn_messages("Ana"), "stream": True}
        async with http.post(f"{fake_llm.base_url}/chat/completions", json=body) as response:
            assert response.status == 400


async def test_runs_as_a_module() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fake_llm", "--port", "0", "--latency", "0.01",
        cwd=str(Path(__file__).resolve().parents[2]), stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        base_url = re.search(r"(http://\S+/v1)", line).group(1)  # type: ignore[union-attr]
        async with aiohttp.ClientSession() as http, http.get(f"{base_url}/models") as response:
            assert response.status == 200
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 10) == 0
