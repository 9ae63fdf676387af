"""Benchmark of the simulation service over real sockets, against the fake OpenAI-compatible server.

The whole mesh runs as subprocesses (`services.mesh.launcher.LocalMesh`) against the fake server
(`python -m tests.fake_llm`), or `LLM_BASE_URL` when set; this process calls simulation's RunSimulation
with the agents. Two scenarios on one mesh:

1. focus group: 50 agents x 3 rounds at 1 s model latency. A round's agents act concurrently, so the
   critical path is rounds x latency; the ratio wall time / limit should stay <= 1.25.
2. survey: 1000 agents x 1 round; wall time and the peak RSS (VmHWM) of every service (0 skips it).
3. with --quality-checks: the focus group again with every turn's quality checked (all four checks,
   threshold 0.7, 3 attempts); the fake model scores at random, so many turns are regenerated: close to
   the most the checks can cost.

Run: .venv/bin/python bench/simulation_bench.py [--agents 50] [--rounds 3] [--latency 1.0]
     [--survey-agents 1000] [--quality-checks]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tinytroupe_mesh_api.common.v1 import agent_pb2, study_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2, control_pb2_grpc
from tinytroupe_mesh_api.simulation.v1 import simulation_pb2, simulation_pb2_grpc

from bench.processes import BenchMesh, bench_mesh
from bench.results import Result, emit
from tests.fixtures import TINYTROUPE_FIXTURES

TEMPLATE = TINYTROUPE_FIXTURES / "agents" / "Lisa.agent.json"


def agents(count: int) -> list[agent_pb2.Agent]:
    template = json.loads(TEMPLATE.read_text())
    result = []
    for index in range(count):
        template["persona"]["name"] = f"Participant {index:04d}"
        result.append(agent_pb2.Agent(agent_id=f"agents/{index}", spec_json=json.dumps(template)))
    return result


async def run_simulation(
    mesh: BenchMesh, agent_count: int, rounds: int, environment: int, quality_checks: bool = False
) -> tuple[float, list[float], simulation_pb2.SimulationFinished]:
    async with mesh.channel("control") as control_channel, mesh.channel("simulation") as simulation_channel:
        control = control_pb2_grpc.SimulationControlServiceStub(control_channel)
        session = await control.BeginSession(
            control_pb2.BeginSessionRequest(session=control_pb2.Session(display_name="simulation benchmark")),
            timeout=10,
        )
        request = simulation_pb2.RunSimulationRequest(
            session=session.name,
            agents=agents(agent_count),
            config=study_pb2.SimulationConfig(
                environment_type=environment,
                rounds=rounds,
                enable_memory=True,
                enable_thinking=True,
                broadcast_mode=True,
                quality_checks=study_pb2.QualityChecks(enabled=quality_checks),
            ),
            stimulus=study_pb2.Stimulus(
                type="product_concept",
                content="A kettle that boils water with sunlight.",
                context="A consumer study about kitchen products.",
            ),
        )
        started_at = time.perf_counter()
        finished = None
        round_ends: list[float] = []
        async for event in simulation_pb2_grpc.SimulationServiceStub(simulation_channel).RunSimulation(
            request, timeout=600
        ):
            if event.HasField("round_checkpointed"):
                round_ends.append(time.perf_counter() - started_at)
            if event.HasField("finished"):
                finished = event.finished
        elapsed = time.perf_counter() - started_at
    assert finished is not None, "the stream ended without a result"
    round_durations = [end - start for start, end in zip([0.0, *round_ends], round_ends, strict=False)]
    return elapsed, round_durations, finished


async def scenario(
    mesh: BenchMesh, title: str, *, agent_count: int, rounds: int, environment: int, quality_checks: bool = False
) -> Result:
    calls, tokens = await mesh.model_calls(), await mesh.tokens()
    elapsed, round_durations, finished = await run_simulation(mesh, agent_count, rounds, environment, quality_checks)
    result = Result(
        scenario=title,
        wall_s=elapsed,
        model_calls=await mesh.model_calls() - calls,
        tokens=await mesh.tokens() - tokens,
        sequential_latencies=rounds,
        latency_s=mesh.model.latency_s,
        requests_per_minute=mesh.model.requests_per_minute,
    )
    print(
        f"{title}: rounds (to checkpoint) "
        + ", ".join(f"{duration:.2f}" for duration in round_durations)
        + f" s; {finished.participants.successful} ok, {finished.participants.failed} failed; "
        f"{finished.results.total_interactions} interactions; usage reports {finished.usage.calls} calls"
    )
    quality = finished.results.turn_quality
    if quality_checks:
        print(
            f"{title}: {quality.turns_checked} turns checked, {quality.turns_regenerated} regenerated, "
            f"{quality.turns_below_threshold} still under the threshold; the checks cost {quality.extra_calls} "
            f"calls, ~{quality.extra_prompt_tokens + quality.extra_completion_tokens} tokens (estimated)"
        )
    if finished.participants.successful != agent_count:
        result.target, result.met = "completes", False
    return result


async def main(arguments: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="simulation-bench-") as directory:
        async with bench_mesh(Path(directory), arguments.latency) as mesh:
            await run_simulation(mesh, 2, 1, study_pb2.ENVIRONMENT_TYPE_FOCUS_GROUP)  # warm-up
            focus = await scenario(
                mesh,
                f"simulate {arguments.agents} agents x {arguments.rounds} rounds, focus group",
                agent_count=arguments.agents,
                rounds=arguments.rounds,
                environment=study_pb2.ENVIRONMENT_TYPE_FOCUS_GROUP,
            )
            emit(focus.within(1.25) if focus.met is None else focus)
            if arguments.quality_checks:
                checked = await scenario(
                    mesh,
                    f"simulate {arguments.agents} agents x {arguments.rounds} rounds, focus group, quality checks",
                    agent_count=arguments.agents,
                    rounds=arguments.rounds,
                    environment=study_pb2.ENVIRONMENT_TYPE_FOCUS_GROUP,
                    quality_checks=True,
                )
                if checked.met is None:
                    checked.target, checked.met = "completes", True
                emit(checked)
            if arguments.survey_agents > 0:
                survey = await scenario(
                    mesh,
                    f"{arguments.survey_agents} agents x 1 round survey",
                    agent_count=arguments.survey_agents,
                    rounds=1,
                    environment=study_pb2.ENVIRONMENT_TYPE_SURVEY,
                )
                if survey.met is None:
                    survey.target, survey.met = "completes", True
                peaks = mesh.peak_rss_mib()
                emit(
                    survey,
                    f"{arguments.survey_agents}-agent survey, peak RSS (VmHWM) per service: "
                    + ", ".join(f"{name} {peak:.0f} MiB" for name, peak in peaks.items()),
                )
    print(
        "reproduce: .venv/bin/python bench/simulation_bench.py "
        f"--agents {arguments.agents} --rounds {arguments.rounds} --latency {arguments.latency:g} "
        f"--survey-agents {arguments.survey_agents}" + (" --quality-checks" if arguments.quality_checks else "")
    )


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--survey-agents", type=int, default=1000)
    parser.add_argument(
        "--quality-checks", action="store_true", help="also run the focus group with every turn's quality checked"
    )
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_arguments()))
