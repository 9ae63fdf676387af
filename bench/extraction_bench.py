"""Benchmark of the extraction service: 50 agents, 3 fields, statistics, at a model latency of 1 s.

The whole mesh runs as subprocesses (`services.mesh.launcher.LocalMesh`) against the fake OpenAI-compatible
server (`python -m tests.fake_llm`), or `LLM_BASE_URL` when set; this process calls extraction's
ExtractResults. Per-agent extraction makes one model call per agent, all concurrently, so the whole
request should take about one model latency: the limit is 1 latency, and the ratio says how close the
service comes to it.

Run: .venv/bin/python bench/extraction_bench.py [--agents 50] [--latency 1.0] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tinytroupe_mesh_api.common.v1 import agent_pb2, study_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2, control_pb2_grpc
from tinytroupe_mesh_api.extraction.v1 import extraction_pb2, extraction_pb2_grpc

from bench.processes import bench_mesh
from bench.results import Result, emit

FIELDS = ["rating", "purchase_intent", "concerns"]
CONCERNS = ["the price", "the noise", "the size", "cleaning it", "how long it lasts"]


def request_for(agent_count: int, session: str) -> extraction_pb2.ExtractResultsRequest:
    names = [f"Agent {index:02d}" for index in range(agent_count)]
    transcript = [
        study_pb2.Interaction(
            round=0,
            agent_name="moderator",
            action=study_pb2.ACTION_TYPE_STIMULUS,
            content="What do you think of the SolarBrew coffee maker at 89 dollars?",
        )
    ]
    for index, name in enumerate(names):
        for round_number, content in enumerate(
            (
                f"I would give it {1 + index % 10} out of 10.",
                f"My main worry is {CONCERNS[index % len(CONCERNS)]}; I might buy it on sale.",
            ),
            start=1,
        ):
            transcript.append(
                study_pb2.Interaction(
                    round=round_number,
                    agent_name=name,
                    action=study_pb2.ACTION_TYPE_TALK,
                    content=content,
                    sequence=len(transcript),
                )
            )
    return extraction_pb2.ExtractResultsRequest(
        session=session,
        agents=[
            agent_pb2.Agent(name=name, spec_json=json.dumps({"type": "TinyPerson", "persona": {"name": name}}))
            for name in names
        ],
        transcript=transcript,
        config=study_pb2.ExtractionConfig(
            extract_results=True,
            extraction_objective="Each participant's opinion of the coffee maker.",
            fields=FIELDS,
            statistical_analysis=True,
            mode=study_pb2.ExtractionConfig.MODE_PER_AGENT,
        ),
    )


async def bench(agent_count: int, latency: float, repeats: int) -> None:
    walls, calls, tokens = [], [], []
    with tempfile.TemporaryDirectory(prefix="extraction-bench-") as directory:
        async with (
            bench_mesh(Path(directory), latency) as mesh,
            mesh.channel("extraction") as channel,
            mesh.channel("control") as control_channel,
        ):
            stub = extraction_pb2_grpc.ResultsExtractionServiceStub(channel)
            control = control_pb2_grpc.SimulationControlServiceStub(control_channel)

            async def new_session() -> str:
                session = await control.BeginSession(
                    control_pb2.BeginSessionRequest(session=control_pb2.Session(display_name="extraction benchmark")),
                    timeout=10,
                )
                return session.name

            await stub.ExtractResults(request_for(2, await new_session()), timeout=60)  # warm-up
            for _ in range(repeats):
                request = request_for(agent_count, await new_session())  # a fresh cache each time
                calls_before, tokens_before = await mesh.model_calls(), await mesh.tokens()
                started = time.perf_counter()
                response = await stub.ExtractResults(request, timeout=300)
                walls.append(time.perf_counter() - started)
                calls.append(await mesh.model_calls() - calls_before)
                tokens.append(await mesh.tokens() - tokens_before)
                assert len(response.results.individual_results) == agent_count
                assert len(response.results.aggregate_statistics) == len(FIELDS)
            model = mesh.model
    for index, (wall, count) in enumerate(zip(walls, calls, strict=True), start=1):
        print(f"  run {index}: wall {wall:.3f} s, model calls {count}")
    emit(
        Result(
            scenario=f"extract {len(FIELDS)} fields from {agent_count} agents, with statistics",
            wall_s=statistics.median(walls),
            model_calls=calls[-1],
            tokens=tokens[-1],
            sequential_latencies=1,
            latency_s=model.latency_s,
            requests_per_minute=model.requests_per_minute,
        ).within(1.25)
    )
    print(
        f"reproduce: .venv/bin/python bench/extraction_bench.py --agents {agent_count} --latency {latency} "
        f"--repeats {repeats}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(bench(arguments.agents, arguments.latency, arguments.repeats))


if __name__ == "__main__":
    main()
