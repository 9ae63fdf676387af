"""Benchmarks of the LLM layer.

1. The embedded model (Gemma 3 270M on llama.cpp): latency and tokens/s of a structured call that
   answers a small (~40-token) JSON object.
2. The client's own overhead: calls/s and microseconds per call against the fake server at zero
   latency, next to a raw aiohttp baseline posting the same request to the same server.

Run: .venv/bin/python bench/llm_bench.py [--embedded-calls 5] [--fake-calls 2000] [--concurrency 1 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Literal

import aiohttp
from pydantic import BaseModel, Field

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.results import emit
from services.llm import LLMClient
from services.llm.structured import ResponseFormatMode, build_response_format, schema_name
from services.runtime.config import LLMSettings

TOPICS = ["electric cars", "remote work", "a four-day week", "plant-based burgers", "city bike lanes",
          "smart watches", "public transport", "online grocery shopping", "solar panels", "e-books"]  # fmt: skip


class Opinion(BaseModel):
    """A small structured answer, about 40 tokens."""

    stance: Literal["positive", "neutral", "negative"]
    reason: str = Field(max_length=100)
    confidence: int = Field(ge=1, le=5)


def _messages(index: int) -> list[dict[str, str]]:
    return [
        {
            "role": "system",
            "content": "You are Lisa Carter, a 28-year-old data scientist from Lisbon in a focus group.",
        },
        {
            "role": "user",
            "content": f"What is your opinion about {TOPICS[index % len(TOPICS)]}? Give one reason.",
        },
    ]


async def bench_embedded(calls: int) -> None:
    from services.llm.embedded import EmbeddedModelServer

    started = time.perf_counter()
    async with EmbeddedModelServer() as server:
        print(f"embedded: server ready in {time.perf_counter() - started:.1f}s at {server.base_url}")
        client = LLMClient(server.llm_settings(LLMSettings(temperature=0.7)), metrics_prefix="bench_llm")
        await client.structured(_messages(0), Opinion, session="warmup")
        latencies: list[float] = []
        completion_tokens: list[int] = []
        prompt_tokens: list[int] = []
        model_requests = 0
        for index in range(calls):
            session = f"bench/{index}"
            begin = time.perf_counter()
            answer = await client.structured(_messages(index + 1), Opinion, session=session)
            latencies.append(time.perf_counter() - begin)
            usage = client.usage(session)
            completion_tokens.append(usage.completion_tokens)
            prompt_tokens.append(usage.prompt_tokens)
            model_requests += usage.model_requests
            if index == 0:
                print(f"embedded: sample answer {answer.model_dump_json()}")
        await client.aclose()
        free_tokens, free_s = await _free_running(server.base_url)
    total_tokens = sum(completion_tokens)
    print(
        f"embedded: {calls} structured calls ({model_requests} model requests, repairs included), "
        f"latency mean {statistics.mean(latencies):.2f}s p50 {statistics.median(latencies):.2f}s "
        f"max {max(latencies):.2f}s; prompt {statistics.mean(prompt_tokens):.0f} tok, "
        f"completion {statistics.mean(completion_tokens):.1f} tok/call; "
        f"{total_tokens / sum(latencies):.1f} completion tokens/s end to end under the JSON grammar"
    )
    print(f"embedded: free-running text, {free_tokens} tokens in {free_s:.2f}s = {free_tokens / free_s:.1f} tokens/s")
    emit(
        f"embedded model: structured call p50 {statistics.median(latencies):.2f} s; "
        f"{total_tokens / sum(latencies):.1f} tokens/s under a JSON grammar, {free_tokens / free_s:.1f} free-running"
    )


async def _free_running(base_url: str) -> tuple[int, float]:
    """One plain-text completion without a grammar: the model's raw generation speed."""
    body = {"model": "m", "messages": _messages(3), "max_tokens": 128, "temperature": 0.7, "seed": 42}
    async with aiohttp.ClientSession() as http:
        begin = time.perf_counter()
        async with http.post(f"{base_url}/chat/completions", json=body) as response:
            data = await response.json()
        return int(data["usage"]["completion_tokens"]), time.perf_counter() - begin


async def _start_fake() -> tuple[asyncio.subprocess.Process, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fake_llm", "--port", "0", "--latency", "0",
        cwd=str(Path(__file__).resolve().parents[1]), stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
    match = re.search(r"(http://\S+/v1)", line)
    if match is None:
        process.terminate()
        raise RuntimeError(f"fake server did not start: {line!r}")
    return process, match.group(1)


async def _run(calls: int, concurrency: int, one_call: Callable[[int], Awaitable[None]]) -> float:
    queue = iter(range(calls))

    async def worker() -> None:
        for index in queue:
            await one_call(index)

    begin = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - begin


def _raw_body() -> dict[str, Any]:
    schema = Opinion.model_json_schema()
    return {
        "model": "fake-model",
        "response_format": build_response_format(ResponseFormatMode.JSON_SCHEMA, schema_name(Opinion), schema),
        "temperature": 0.7,
        "max_tokens": 512,
        "seed": 42,
    }


async def _time_raw_aiohttp(base_url: str, calls: int, concurrency: int) -> float:
    """The same request posted with plain aiohttp, the answer's JSON parsed: the floor."""
    body = _raw_body()
    async with aiohttp.ClientSession() as http:

        async def raw_call(index: int) -> None:
            async with http.post(
                f"{base_url}/chat/completions", json={**body, "messages": _messages(index)}
            ) as response:
                data = await response.json()
            json.loads(data["choices"][0]["message"]["content"])

        await _run(50, concurrency, raw_call)
        return await _run(calls, concurrency, raw_call)


async def _time_client(base_url: str, calls: int, concurrency: int) -> float:
    client = LLMClient(LLMSettings(base_url=base_url, model="fake-model"), metrics_prefix="bench_llm")

    async def client_call(index: int) -> None:
        await client.structured(_messages(index), Opinion, session="bench")

    try:
        await _run(50, concurrency, client_call)
        return await _run(calls, concurrency, client_call)
    finally:
        await client.aclose()


async def bench_client_overhead(calls: int, concurrencies: list[int]) -> None:
    process, base_url = await _start_fake()
    try:
        for concurrency in concurrencies:
            raw_s = await _time_raw_aiohttp(base_url, calls, concurrency)
            client_s = await _time_client(base_url, calls, concurrency)
            overhead_us = (client_s - raw_s) / calls * 1e6
            print(
                f"fake (latency 0), concurrency {concurrency:>3}: raw aiohttp {calls / raw_s:6.0f} calls/s "
                f"({raw_s / calls * 1e6:5.0f} us/call); LLMClient {calls / client_s:6.0f} calls/s "
                f"({client_s / calls * 1e6:5.0f} us/call); client overhead {overhead_us:5.0f} us/call"
            )
            emit(
                f"LLM client overhead per call vs raw aiohttp, zero latency, concurrency {concurrency}: "
                f"{overhead_us / 1000:.2f} ms"
            )
    finally:
        process.terminate()
        await process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--embedded-calls", type=int, default=5, help="0 skips the embedded model")
    parser.add_argument("--fake-calls", type=int, default=2000, help="0 skips the client overhead")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 32])
    arguments = parser.parse_args()
    print("reproduce: .venv/bin/python bench/llm_bench.py " + " ".join(sys.argv[1:]))
    if arguments.fake_calls:
        asyncio.run(bench_client_overhead(arguments.fake_calls, arguments.concurrency))
    if arguments.embedded_calls:
        asyncio.run(bench_embedded(arguments.embedded_calls))


if __name__ == "__main__":
    main()
