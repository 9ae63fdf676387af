"""Benchmark of the population service: GeneratePopulation of 100 agents from demographics at 1 s model latency.

The whole mesh runs as subprocesses (`services.mesh.launcher.LocalMesh`) against the fake OpenAI-compatible
server (`python -m tests.fake_llm`), or `LLM_BASE_URL` when set; this process calls population over gRPC.
Each run begins its own session in control, so the population's response cache (which lives in control)
is used but never answers from an earlier run. Every person is one model call, all made concurrently, so
the critical path is one latency, plus one more when the sampling plan needs the model (it does not when
the demographics carry percentage distributions: the plan is then computed). The seed's standard for
100 agents is < 30 s.

Run: .venv/bin/python bench/population_bench.py [--agents 100] [--latency 1.0] [--repeats 1]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tinytroupe_mesh_api.control.v1 import control_pb2, control_pb2_grpc
from tinytroupe_mesh_api.population.v1 import population_pb2, population_pb2_grpc

from bench.processes import bench_mesh
from bench.results import Result, emit
from bench.studies import DEMOGRAPHICS, plan_needs_model

SEED_STANDARD_S = 30.0
CONTEXT = "a focus group on electric bikes"


async def generate(
    control: control_pb2_grpc.SimulationControlServiceStub,
    population: population_pb2_grpc.PopulationServiceStub,
    demographics_json: str,
    count: int,
) -> dict:
    session = await control.BeginSession(
        control_pb2.BeginSessionRequest(session=control_pb2.Session(display_name="population benchmark")), timeout=10
    )
    request = population_pb2.GeneratePopulationRequest(
        session=session.name, demographics_json=demographics_json, count=count, context=CONTEXT
    )
    names: list[str] = []
    failures: list[str] = []
    summary = None
    plan_at = None
    started_at = time.perf_counter()
    async for message in population.GeneratePopulation(request, timeout=600):
        if message.HasField("plan"):
            plan_at = time.perf_counter() - started_at
        elif message.HasField("agent"):
            names.append(message.agent.name)
        elif message.HasField("failure"):
            failures.append(message.failure.reason)
        elif message.HasField("summary"):
            summary = message.summary
    wall = time.perf_counter() - started_at
    assert summary is not None, "the stream ended without a summary"
    return {
        "wall_s": wall,
        "plan_s": plan_at,
        "generated": len(names),
        "unique_names": len(set(names)),
        "failed": len(failures),
        "first_failure": failures[0] if failures else "",
        "summary_calls": summary.model_calls,
    }


async def bench(agent_count: int, latency: float, repeats: int) -> None:
    demographics_json = DEMOGRAPHICS.read_text()
    needs_model = plan_needs_model(demographics_json)
    runs = []
    with tempfile.TemporaryDirectory(prefix="population-bench-") as directory:
        async with (
            bench_mesh(Path(directory), latency) as mesh,
            mesh.channel("control") as control_channel,
            mesh.channel("population") as population_channel,
        ):
            control = control_pb2_grpc.SimulationControlServiceStub(control_channel)
            population = population_pb2_grpc.PopulationServiceStub(population_channel)
            await generate(control, population, demographics_json, 2)  # warm-up: connections, imports
            for _ in range(repeats):
                calls, tokens = await mesh.model_calls(), await mesh.tokens()
                run = await generate(control, population, demographics_json, agent_count)
                run["model_calls"], run["tokens"] = await mesh.model_calls() - calls, await mesh.tokens() - tokens
                runs.append(run)
            model = mesh.model

    print(
        f"population: GeneratePopulation of {agent_count} agents from {DEMOGRAPHICS.name} at {model.latency_s:g} s "
        f"model latency (plan {'needs' if needs_model else 'computed without'} the model)"
    )
    for index, run in enumerate(runs, start=1):
        print(
            f"  run {index}: wall {run['wall_s']:.2f} s (plan after {run['plan_s']:.3f} s), "
            f"{run['generated']} generated, {run['failed']} failed, {run['unique_names']} unique names, "
            f"{run['model_calls']} model calls (summary reports {run['summary_calls']}), {run['tokens']} tokens"
        )
        if run["first_failure"]:
            print(f"    first failure: {run['first_failure'][:200]}")
    median = statistics.median(run["wall_s"] for run in runs)
    print(f"  seed's standard < {SEED_STANDARD_S:g} s: {'met' if median < SEED_STANDARD_S else 'NOT met'}")
    emit(
        Result(
            scenario=f"generate {agent_count} agents from demographics",
            wall_s=median,
            model_calls=runs[-1]["model_calls"],
            tokens=runs[-1]["tokens"],
            sequential_latencies=1 + needs_model,
            latency_s=model.latency_s,
            requests_per_minute=model.requests_per_minute,
        ).within(1.25)
    )
    print(
        f"reproduce: .venv/bin/python bench/population_bench.py --agents {agent_count} --latency {latency:g} "
        f"--repeats {repeats}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=1)
    arguments = parser.parse_args()
    asyncio.run(bench(arguments.agents, arguments.latency, arguments.repeats))


if __name__ == "__main__":
    main()
