"""Benchmark of the embedded model's server under a round's load: a few agents' structured turns sent
together (JSON schema, up to 200 tokens each), on llama.cpp's server (parallel slots, continuous
batching) and on llama-cpp-python's (one request at a time), same weights, same machine.

For each server: the time until `/v1/models` answers, the wall time of the concurrent turns, their
completion tokens and tokens per second.

Run: .venv/bin/python bench/embedded_bench.py [--turns 3] [--servers llama.cpp llama-cpp-python] [--slots N]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.results import Result, emit
from services.llm import LLMClient
from services.llm.embedded import EmbeddedModelServer
from services.runtime.config import LLMSettings

PEOPLE = [("Lisa Carter", "a data scientist"), ("Oscar Diaz", "a bus driver"), ("Marcos Lima", "a nurse"),
          ("Ana Souza", "a teacher"), ("Ben Okafor", "a chef"), ("Chen Wei", "an architect")]  # fmt: skip
MAX_TOKENS = 200


class Action(BaseModel):
    type: Literal["THINK", "TALK", "DONE"]
    content: str = Field(max_length=200)


class Turn(BaseModel):
    """An agent's turn: a few actions and how it feels."""

    actions: list[Action] = Field(min_length=1, max_length=3)
    emotions: str = Field(max_length=60)


def _messages(index: int) -> list[dict[str, str]]:
    name, job = PEOPLE[index % len(PEOPLE)]
    return [
        {
            "role": "system",
            "content": f"You are {name}, {job}, in a focus group. Each turn you return your "
            "actions (THINK, TALK, then DONE) and your emotions.",
        },
        {"role": "user", "content": "The moderator asks: would you buy a solar kettle for 89 dollars? Why?"},
    ]


async def bench_server(kind: str, turns: int, slots: int | None) -> None:
    started = time.perf_counter()
    async with EmbeddedModelServer(llama_cpp_python=kind == "llama-cpp-python", slots=slots) as server:
        ready_s = time.perf_counter() - started
        client = LLMClient(server.llm_settings(LLMSettings(max_tokens=MAX_TOKENS)), metrics_prefix="bench_embedded")
        await client.structured(_messages(0), Turn, session="warm-up")
        began = time.perf_counter()
        await asyncio.gather(*(client.structured(_messages(index), Turn, session="round") for index in range(turns)))
        wall_s = time.perf_counter() - began
        usage = client.usage("round")
        await client.aclose()
    slots = f"{server.slots} slots" if server.slots > 1 else "1 slot"
    name = f"{turns} concurrent structured turns, {server.server_name} ({slots})"
    emit(
        Result(scenario=name, wall_s=wall_s, model_calls=usage.model_requests, tokens=usage.total_tokens),
        f"{server.server_name}: ready in {ready_s:.1f} s; {turns} turns together in {wall_s:.1f} s, "
        f"{usage.completion_tokens} completion tokens = {usage.completion_tokens / wall_s:.0f} tokens/s "
        f"({usage.model_requests} model requests)",
    )


async def bench(turns: int, servers: list[str], slots: int | None) -> None:
    for kind in servers:
        await bench_server(kind, turns, slots)
    print("reproduce: .venv/bin/python bench/embedded_bench.py")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=3, help="turns sent together (a round of that many agents)")
    parser.add_argument(
        "--servers", nargs="+", choices=["llama.cpp", "llama-cpp-python"], default=["llama.cpp", "llama-cpp-python"]
    )
    parser.add_argument("--slots", type=int, default=None, help="llama.cpp's slots (default: one per core, at least 2)")
    arguments = parser.parse_args()
    asyncio.run(bench(arguments.turns, arguments.servers, arguments.slots))


if __name__ == "__main__":
    main()
