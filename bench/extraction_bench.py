"""Benchmark of the extraction service: 50 agents, 3 fields, statistics, at a model latency of 1 s.

The extraction service runs as its own process (`python -m services.extraction`), the fake
OpenAI-compatible model as another (`python -m tests.fake_llm --latency 1.0`); this process is the
gRPC client. Per-agent extraction makes one model call per agent, all concurrently, so the whole
request should take about one model latency: the limit is 1 latency and the ratio says how close
the service comes to it.

Run: .venv/bin/python bench/extraction_bench.py [--agents 50] [--latency 1.0] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
from tinytroupe.common.v1 import agent_pb2, study_pb2
from tinytroupe.extraction.v1 import extraction_pb2, extraction_pb2_grpc

from services.runtime.clients import open_channel
from services.runtime.config import MeshSettings

ROOT = Path(__file__).resolve().parents[1]

FIELDS = ["rating", "purchase_intent", "concerns"]
CONCERNS = ["the price", "the noise", "the size", "cleaning it", "how long it lasts"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def request_for(agent_count: int) -> extraction_pb2.ExtractResultsRequest:
    names = [f"Agent {index:02d}" for index in range(agent_count)]
    transcript = [study_pb2.Interaction(round=0, agent_name="moderator", action=study_pb2.ACTION_TYPE_STIMULUS,
                                        content="What do you think of the SolarBrew coffee maker at 89 dollars?")]
    for index, name in enumerate(names):
        for round_number, content in enumerate((
                f"I would give it {1 + index % 10} out of 10.",
                f"My main worry is {CONCERNS[index % len(CONCERNS)]}; I might buy it on sale."), start=1):
            transcript.append(study_pb2.Interaction(round=round_number, agent_name=name,
                                                    action=study_pb2.ACTION_TYPE_TALK, content=content,
                                                    sequence=len(transcript)))
    return extraction_pb2.ExtractResultsRequest(
        agents=[agent_pb2.Agent(name=name, spec_json=json.dumps({"type": "TinyPerson", "persona": {"name": name}}))
                for name in names],
        transcript=transcript,
        config=study_pb2.ExtractionConfig(
            extract_results=True, extraction_objective="Each participant's opinion of the coffee maker.",
            fields=FIELDS, statistical_analysis=True, mode=study_pb2.ExtractionConfig.MODE_PER_AGENT))


@contextlib.asynccontextmanager
async def process(command: list[str], env: dict[str, str], ready: str) -> AsyncIterator[str]:
    """Starts a child process and yields the first stdout line containing `ready`; SIGTERM at the end."""
    child = await asyncio.create_subprocess_exec(
        *command, cwd=ROOT, env={**os.environ, **env}, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    try:
        async with asyncio.timeout(30):
            while True:
                line = (await child.stdout.readline()).decode()
                if not line:
                    raise RuntimeError(f"{command[2]} exited before it was ready")
                if ready in line:
                    break
        drain = asyncio.create_task(child.stdout.read())  # keep its pipe from filling up
        yield line
        drain.cancel()
    finally:
        if child.returncode is None:
            child.terminate()
            await child.wait()


async def fake_requests(fake_url: str) -> int:
    async with aiohttp.ClientSession() as http, http.get(f"{fake_url}/_fake/stats") as response:
        return (await response.json())["total_requests"]


async def bench(agent_count: int, latency: float, repeats: int) -> None:
    python = sys.executable
    fake_port = free_port()
    fake_url = f"http://127.0.0.1:{fake_port}"
    async with process([python, "-m", "tests.fake_llm", "--port", str(fake_port), "--latency", str(latency)],
                       {}, "listening"):
        service_env = {"PORT": "0", "METRICS_PORT": "0", "LLM_BASE_URL": f"{fake_url}/v1",
                       "LLM_MODEL": "fake-model", "LOG_LEVEL": "INFO", "LOG_FORMAT": "json",
                       "CONTROL_ADDRESS": f"127.0.0.1:{free_port()}"}
        async with process([python, "-m", "services.extraction"], service_env, '"serving"') as serving_line:
            port = json.loads(serving_line)["port"]
            settings = MeshSettings()
            async with open_channel(f"127.0.0.1:{port}", settings) as channel:
                stub = extraction_pb2_grpc.ResultsExtractionServiceStub(channel)
                await stub.ExtractResults(request_for(2), timeout=60)  # warm-up: connections, imports
                request = request_for(agent_count)
                walls, calls = [], []
                for _ in range(repeats):
                    before = await fake_requests(fake_url)
                    started = time.perf_counter()
                    response = await stub.ExtractResults(request, timeout=120)
                    walls.append(time.perf_counter() - started)
                    calls.append(await fake_requests(fake_url) - before)
                    assert len(response.results.individual_results) == agent_count
                    assert len(response.results.aggregate_statistics) == len(FIELDS)
    print(f"extraction of {len(FIELDS)} fields from {agent_count} agents with statistics, "
          f"fake model latency {latency:.1f} s, service and model in separate processes")
    for index, (wall, count) in enumerate(zip(walls, calls, strict=True), start=1):
        print(f"  run {index}: wall {wall:.3f} s, model calls {count}")
    median = statistics.median(walls)
    print(f"median wall {median:.3f} s; limit {latency:.3f} s (1 latency); ratio {median / latency:.2f}")
    print(f"reproduce: .venv/bin/python bench/extraction_bench.py --agents {agent_count} --latency {latency} "
          f"--repeats {repeats}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(bench(arguments.agents, arguments.latency, arguments.repeats))


if __name__ == "__main__":
    main()
