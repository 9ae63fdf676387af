"""Benchmark of a study plan through the orchestrator's RunStudy, on the real mesh over real sockets.

A five-question survey (one step per question, each with its own typed extraction) to 50 people generated
from the Portside demographics. Its critical path is seven sequential model latencies: the persons (all at
once), the five questions (each a round in which every agent answers at once), and the extraction (every
step's, all agents, at once). Held to 1.25 x that limit at the set latency (1 s) on the fake model server.

Run: .venv/bin/python bench/plan_bench.py [--agents 50] [--latency 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.processes import bench_mesh
from bench.results import Result, emit
from bench.studies import run_study, sequential_latencies, survey_plan_request


async def bench(arguments: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="plan-bench-") as directory:
        async with bench_mesh(Path(directory), 0.0) as mesh, mesh.channel("orchestrator") as channel:
            await run_study(channel, survey_plan_request(2, "warm-up"))  # connections, imports, first queries
            if mesh.model.fake:
                zero = await run_study(channel, survey_plan_request(arguments.agents, "zero latency"))
                emit(f"study plan at zero latency (the mesh's own work, fake answers included): {zero.wall_s:.2f} s")
                await mesh.model.set_latency(arguments.latency)
            request = survey_plan_request(arguments.agents, "five-question survey")
            calls, tokens = await mesh.model_calls(), await mesh.tokens()
            run = await run_study(channel, request)
            calls, tokens = await mesh.model_calls() - calls, await mesh.tokens() - tokens
            typed = sum(len(step.extracted_results.individual_results) for step in run.result.step_results)
            result = Result(
                scenario=f"study plan: {arguments.agents} agents from demographics, five-question survey + "
                "per-question extraction",
                wall_s=run.wall_s,
                model_calls=calls,
                tokens=tokens,
                sequential_latencies=sequential_latencies(request),
                latency_s=mesh.model.latency_s,
                requests_per_minute=mesh.model.requests_per_minute,
            ).within(1.25)
            emit(
                result,
                f"study plan: {len(run.result.step_results)} steps, {typed} typed answers; "
                f"{sequential_latencies(request)} sequential latencies (persons, 5 questions, extraction)",
            )
    print(
        f"reproduce: .venv/bin/python bench/plan_bench.py --agents {arguments.agents} --latency {arguments.latency:g}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--latency", type=float, default=1.0)
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
