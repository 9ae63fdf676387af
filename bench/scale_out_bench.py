"""Benchmark of scale-out: replicas of the inner services sharing one model rate budget, and whole
studies with one and with several processes per service.

All services run as subprocesses (`LocalMesh` with `replicas`, as `troupe up --replicas` starts them)
against the fake OpenAI-compatible server (`python -m tests.fake_llm`), which records when each call
arrives. Scenarios:

1. the shared budget: 2 population and 3 simulation replicas, `LLM_REQUESTS_PER_MINUTE=600` for all of
   them, concurrent survey studies from demographics whose calls exceed it for several minutes: the
   busiest minute the fake server sees (at most 600) and the share of the budget used in the whole
   minutes while demand exceeded it (at least 90 %);
2. a whole study of `--agents` (1000) persons from demographics, a one-round survey and extraction,
   with one process per service and with `--replicas` (3) of population, simulation and extraction, no
   budget holding calls back, the orchestrator fanning the study out in parts of `--chunk` (100)
   agents (`STUDY_FAN_OUT_CHUNK`): wall time, ratio to the critical-path limit, peak memory of each
   process;
3. 100 persons from demographics through the round-robin target of 2 population replicas: as one
   GeneratePopulation call (one replica makes them all), and as the orchestrator makes a study's
   participants, in two parts of 50 (one per replica), held to 1.25 x its limit.

Run: .venv/bin/python bench/scale_out_bench.py [--budget-studies 2] [--budget-agents 250] [--agents 1000]
     [--replicas 3] [--chunk 100] [--latency 1.0] [--skip-budget]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
import grpc
from tinytroupe_mesh_api.common.v1 import study_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2, control_pb2_grpc
from tinytroupe_mesh_api.orchestrator.v1 import orchestrator_pb2
from tinytroupe_mesh_api.population.v1 import population_pb2_grpc

from bench.population_bench import CONTEXT, generate
from bench.processes import CHANNEL_OPTIONS, ModelEndpoint, _port_with_metrics_port, mesh_environment, model_endpoint
from bench.results import Result, emit
from bench.studies import DEMOGRAPHICS, plan_needs_model, run_study, sequential_latencies, study_request
from services.mesh.launcher import LocalMesh
from services.orchestrator.participants import ParticipantFactory
from services.orchestrator.progress import ProgressTracker
from services.runtime.config import DEFAULT_PORTS

BUDGET_PER_MINUTE = 600
WINDOW_S = 60.0


@contextlib.asynccontextmanager
async def replicated_mesh(
    workdir: Path, model: ModelEndpoint, replicas: dict[str, int], **environment: str
) -> AsyncIterator[LocalMesh]:
    ports = {name: _port_with_metrics_port() for name in DEFAULT_PORTS}
    mesh = LocalMesh(
        data_dir=workdir / f"mesh-{time.monotonic_ns()}",
        ports=ports,
        llm_base_url=model.base_url,
        replicas=replicas,
        extra_environment={**mesh_environment(model), "LOG_LEVEL": "WARNING", **environment},
        check_llm=False,
    )
    started = time.perf_counter()
    await mesh.start()
    print(f"  mesh with {replicas or 'one process per service'} started in {time.perf_counter() - started:.1f} s")
    try:
        yield mesh
    finally:
        await mesh.stop()


def fresh(workdir: Path, name: str) -> Path:
    """A folder of its own for one scenario's model server (its log names the port it listens on)."""
    folder = workdir / name
    folder.mkdir()
    return folder


def channel(mesh: LocalMesh, service: str) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(mesh.address(service), options=CHANNEL_OPTIONS)


def peak_rss_mib(mesh: LocalMesh) -> dict[str, float]:
    peaks = {}
    for name, process in mesh.services.items():
        for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks[name] = int(line.split()[1]) / 1024
    return peaks


async def arrivals(model: ModelEndpoint) -> list[float]:
    """When each model call reached the fake server (its clock), in order."""
    root = model.base_url.removesuffix("/v1")
    async with aiohttp.ClientSession() as http, http.get(f"{root}/_fake/stats") as response:
        stats = await response.json()
    return sorted(record["started_at"] for record in stats["requests"])


def survey(agents: int, name: str):
    request = study_request(agents, 1, name)
    request.simulation_config.environment_type = study_pb2.ENVIRONMENT_TYPE_SURVEY
    request.simulation_config.broadcast_mode = False
    return request


async def budget_scenario(workdir: Path, studies: int, agents: int) -> None:
    async with (
        model_endpoint(fresh(workdir, "budget"), 0.2) as model,
        replicated_mesh(
            workdir,
            model,
            {"population": 2, "simulation": 3},
            LLM_REQUESTS_PER_MINUTE=str(BUDGET_PER_MINUTE),
            LLM_RATE_BUDGET="shared",
            LLM_TIMEOUT_S="900",
        ) as mesh,
        channel(mesh, "orchestrator") as orchestrator,
    ):
        started = time.perf_counter()
        await asyncio.gather(*(run_study(orchestrator, survey(agents, f"budget study {i}")) for i in range(studies)))
        wall = time.perf_counter() - started
        times = await arrivals(model)
    first, last = times[0], times[-1]
    busiest, low = 0, 0
    for high, moment in enumerate(times):
        while times[low] <= moment - WINDOW_S:
            low += 1
        busiest = max(busiest, high - low + 1)
    whole = int((last - first) // WINDOW_S)
    per_minute = [sum(1 for t in times if first + k * WINDOW_S <= t < first + (k + 1) * WINDOW_S) for k in range(whole)]
    used = sum(per_minute) / (whole * BUDGET_PER_MINUTE) if whole else 0.0
    emit(
        Result(
            scenario=f"shared budget {BUDGET_PER_MINUTE}/min, 2 population + 3 simulation replicas: busiest minute",
            wall_s=wall,
            model_calls=len(times),
            target=f"<= {BUDGET_PER_MINUTE} calls in any 60 s ({busiest})",
            met=busiest <= BUDGET_PER_MINUTE,
        ),
        Result(
            scenario="shared budget: share used in the whole minutes while demand exceeded it",
            wall_s=wall,
            model_calls=sum(per_minute),
            target=f">= 90 % ({used:.1%}, minutes {per_minute})",
            met=used >= 0.9,
        ),
        f"shared budget: {studies} surveys of {agents} persons, {len(times)} calls over {last - first:.0f} s; "
        f"busiest 60 s window {busiest} calls; calls per whole minute {per_minute}",
    )


async def whole_study(workdir: Path, agents: int, replicas: int, latency: float, chunk: int) -> None:
    walls = {}
    for count in (1, replicas):
        layout = {name: count for name in ("population", "simulation", "extraction")} if count > 1 else {}
        async with (
            model_endpoint(fresh(workdir, f"whole-{count}"), latency) as model,
            replicated_mesh(workdir, model, layout, STUDY_FAN_OUT_CHUNK=str(chunk)) as mesh,
            channel(mesh, "orchestrator") as orchestrator,
        ):
            await run_study(orchestrator, survey(2, "warm-up"))
            request = survey(agents, "whole study")
            before = len(await arrivals(model))
            run = await run_study(orchestrator, request)
            calls = len(await arrivals(model)) - before
            peaks = peak_rss_mib(mesh)
        heaviest = max(peaks, key=peaks.get)
        walls[count] = run.wall_s
        emit(
            Result(
                scenario=f"whole study, {agents} persons from demographics, survey + extraction, "
                f"{'1 process' if count == 1 else f'{count} replicas'} per service, parts of {chunk}",
                wall_s=run.wall_s,
                model_calls=calls,
                sequential_latencies=sequential_latencies(request),
                latency_s=model.latency_s,
                requests_per_minute=model.requests_per_minute,
            ),
            f"whole study of {agents} with {count} process(es) per inner service: peak memory "
            + ", ".join(f"{name} {mib:.0f} MiB" for name, mib in sorted(peaks.items()))
            + f" (largest: {heaviest})",
        )
    emit(f"whole study of {agents}: {replicas} replicas per service: {walls[replicas] / walls[1]:.2f} x the time of 1")


async def population_scenario(workdir: Path, latency: float) -> None:
    async with (
        model_endpoint(fresh(workdir, "population"), latency) as model,
        replicated_mesh(workdir, model, {"population": 2}) as mesh,
        channel(mesh, "control") as control_channel,
        channel(mesh, "population") as population_channel,
    ):
        control = control_pb2_grpc.SimulationControlServiceStub(control_channel)
        population = population_pb2_grpc.PopulationServiceStub(population_channel)
        demographics = DEMOGRAPHICS.read_text()
        await generate(control, population, demographics, 2)
        runs = [await generate(control, population, demographics, 100) for _ in range(3)]
        parted = [await generate_in_parts(control, population, demographics, 100, 50) for _ in range(3)]
    latencies = 1 + plan_needs_model(demographics)
    assert all(run["unique_names"] == run["generated"] == 100 for run in parted), parted
    emit(
        Result(
            scenario="100 persons as one GeneratePopulation call through 2 population replicas (one makes them)",
            wall_s=sorted(run["wall_s"] for run in runs)[1],
            model_calls=runs[-1]["summary_calls"],
            sequential_latencies=latencies,
            latency_s=model.latency_s,
            requests_per_minute=model.requests_per_minute,
        ),
        Result(
            scenario="100 persons made as a study's participants, 2 parts of 50 over 2 population replicas",
            wall_s=sorted(run["wall_s"] for run in parted)[1],
            model_calls=parted[-1]["model_calls"],
            sequential_latencies=latencies,
            latency_s=model.latency_s,
            requests_per_minute=model.requests_per_minute,
        ).within(1.25),
    )


async def generate_in_parts(
    control: control_pb2_grpc.SimulationControlServiceStub,
    population: population_pb2_grpc.PopulationServiceStub,
    demographics: str,
    count: int,
    chunk: int,
) -> dict:
    """`count` persons made as the orchestrator makes a study's participants: the plan once, then
    parts of `chunk` sent at once (services/orchestrator/fan_out.py)."""
    session = await control.BeginSession(
        control_pb2.BeginSessionRequest(session=control_pb2.Session(display_name="fan-out benchmark")), timeout=10
    )
    factory = ParticipantFactory(
        SimpleNamespace(population=population),
        session.name,
        ProgressTracker(orchestrator_pb2.StudyProgress()),
        concurrency=16,
        long_call_timeout_s=600,
        fan_out_chunk=chunk,
    )
    participants = orchestrator_pb2.Participants(
        mode=orchestrator_pb2.Participants.MODE_FROM_DEMOGRAPHICS,
        specifications=[demographics],
        count=count,
        context=CONTEXT,
    )
    started = time.perf_counter()
    created = await factory.create(participants)
    wall = time.perf_counter() - started
    names = [agent.name for agent in created.agents]
    return {
        "wall_s": wall,
        "generated": len(names),
        "unique_names": len(set(names)),
        "model_calls": created.usage.calls,
    }


async def bench(arguments: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="scale-out-bench-") as directory:
        workdir = Path(directory)
        if not arguments.skip_budget:
            await budget_scenario(workdir, arguments.budget_studies, arguments.budget_agents)
        await whole_study(workdir, arguments.agents, arguments.replicas, arguments.latency, arguments.chunk)
        await population_scenario(workdir, arguments.latency)
    print(
        f"reproduce: .venv/bin/python bench/scale_out_bench.py --budget-studies {arguments.budget_studies} "
        f"--budget-agents {arguments.budget_agents} --agents {arguments.agents} --replicas {arguments.replicas} "
        f"--chunk {arguments.chunk} --latency {arguments.latency:g}"
        + (" --skip-budget" if arguments.skip_budget else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget-studies", type=int, default=2)
    parser.add_argument("--budget-agents", type=int, default=250)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=100, help="STUDY_FAN_OUT_CHUNK of the whole study's mesh")
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--skip-budget", action="store_true", help="leave out the minutes-long budget scenario")
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
