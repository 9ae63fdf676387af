"""Benchmark of whole studies through the orchestrator's RunStudy, on the real mesh over real sockets.

All six services run as subprocesses (`services.mesh.launcher.LocalMesh`) against the fake
OpenAI-compatible server (`python -m tests.fake_llm`), or against `LLM_BASE_URL` when it is set.
Scenarios, one mesh for all (the fake's latency is changed between them):

1. a whole study, 50 agents from demographics, 3 focus-group rounds, extraction of 3 fields with
   statistics, at zero latency: every second of it is the mesh's own work (gRPC hops, database writes,
   serialization), reported per model call, as wall time and as the services' CPU time;
2. the same at the set latency (1 s), held to 1.25 x its critical-path limit;
3. one study of 20 agents, then 10 such studies at once, held to 1.5 x the single study's time.

Run: .venv/bin/python bench/study_bench.py [--agents 50] [--rounds 3] [--latency 1.0]
     [--concurrent 10] [--concurrent-agents 20]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.processes import BenchMesh, bench_mesh
from bench.results import Result, emit
from bench.studies import run_study, sequential_latencies, study_request


@dataclass
class Measured:
    wall_s: float
    calls: int
    tokens: int
    cpu_s: float


async def measure(mesh: BenchMesh, channel, requests: list) -> Measured:
    """Runs the studies at once; the model calls, tokens and service CPU time they cost."""
    calls, tokens, cpu = await mesh.model_calls(), await mesh.tokens(), mesh.cpu_seconds()
    started = asyncio.get_running_loop().time()
    await asyncio.gather(*(run_study(channel, request) for request in requests))
    wall = asyncio.get_running_loop().time() - started
    return Measured(wall, await mesh.model_calls() - calls, await mesh.tokens() - tokens, mesh.cpu_seconds() - cpu)


def result(title: str, measured: Measured, mesh: BenchMesh, request) -> Result:
    return Result(
        scenario=title,
        wall_s=measured.wall_s,
        model_calls=measured.calls,
        tokens=measured.tokens,
        sequential_latencies=sequential_latencies(request),
        latency_s=mesh.model.latency_s,
        requests_per_minute=mesh.model.requests_per_minute,
    )


async def bench(arguments: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="study-bench-") as directory:
        async with bench_mesh(Path(directory), 0.0) as mesh, mesh.channel("orchestrator") as channel:
            await run_study(channel, study_request(2, 1, "warm-up"))  # connections, imports, first queries
            whole = study_request(arguments.agents, arguments.rounds, "whole study")
            shape = f"{arguments.agents} agents x {arguments.rounds} rounds + extraction"
            if mesh.model.fake:
                zero = await measure(mesh, channel, [whole])
                emit(
                    Result(
                        scenario=f"whole study, {shape}, zero latency (mesh overhead)",
                        wall_s=zero.wall_s,
                        model_calls=zero.calls,
                        tokens=zero.tokens,
                    ),
                    f"mesh overhead per model call (whole study at zero latency, {zero.calls} calls): "
                    f"{zero.wall_s / zero.calls * 1000:.2f} ms of wall time, "
                    f"{zero.cpu_s / zero.calls * 1000:.2f} ms of CPU time across the six services "
                    "(gRPC hops, database writes, serialization, the fake's answers included in wall time)",
                )
                await mesh.model.set_latency(arguments.latency)
            timed = await measure(mesh, channel, [whole])
            timed_result = result(f"whole study, {shape}", timed, mesh, whole).within(1.25)
            emit(
                timed_result,
                f"whole study: mesh overhead per model call at {mesh.model.latency_s:g} s latency "
                f"(wall - limit) / calls = "
                f"{(timed.wall_s - timed_result.limit_s) / timed.calls * 1000:.2f} ms",
            )

            small = study_request(arguments.concurrent_agents, arguments.rounds, "one study")
            small_shape = f"{arguments.concurrent_agents} agents x {arguments.rounds} rounds + extraction"
            one = await measure(mesh, channel, [small])
            emit(result(f"one study, {small_shape}", one, mesh, small).within(1.25))
            many = await measure(
                mesh,
                channel,
                [
                    study_request(arguments.concurrent_agents, arguments.rounds, f"concurrent study {index}")
                    for index in range(arguments.concurrent)
                ],
            )
            factor = many.wall_s / one.wall_s
            concurrent = result(f"{arguments.concurrent} concurrent studies, {small_shape}", many, mesh, small)
            concurrent.target, concurrent.met = f"<= 1.5 x one study ({factor:.2f} x)", factor <= 1.5
            emit(concurrent)
    print(
        f"reproduce: .venv/bin/python bench/study_bench.py --agents {arguments.agents} --rounds {arguments.rounds} "
        f"--latency {arguments.latency:g} --concurrent {arguments.concurrent} "
        f"--concurrent-agents {arguments.concurrent_agents}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--concurrent", type=int, default=10)
    parser.add_argument("--concurrent-agents", type=int, default=20)
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
