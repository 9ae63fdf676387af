"""Benchmark of the population service: GeneratePopulation of 100 agents from demographics at 1 s model latency.

Control, population and the fake OpenAI-compatible model each run as their own process
(`python -m services.control`, `python -m services.population`, `python -m tests.fake_llm`), configured by
environment as in a deployment; this process is the gRPC client. Each run begins its own session in
control, so the population's response cache (which lives in control) is used but never answers from an
earlier run. Every person is one model call, all made concurrently, so the critical path is one latency,
plus one more when the sampling plan needs the model (it does not when the demographics carry
percentage distributions: the plan is then computed). The limit is the largest of that critical path,
the concurrency bound (waves of LLM_MAX_CONCURRENCY calls) and the rate budget's bound; the ratio is the
median wall time over it. The seed's standard for 100 agents is < 30 s.

Run: .venv/bin/python bench/population_bench.py [--agents 100] [--latency 1.0] [--repeats 1]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
from tinytroupe.control.v1 import control_pb2, control_pb2_grpc
from tinytroupe.population.v1 import population_pb2, population_pb2_grpc

from services.engine.demographics import Demographics
from services.engine.population_plan import find_distributions, select_dimensions

ROOT = Path(__file__).resolve().parents[1]

STARTUP_TIMEOUT_S = 60.0
EXAMPLE = ROOT / "examples" / "populations" / "portside.json"
FALLBACK = ROOT.parent / "shared" / "fixtures" / "tinytroupe" / "populations" / "usa.json"
SEED_STANDARD_S = 30.0
MAX_CONCURRENCY = 256
REQUESTS_PER_MINUTE = 1_000_000
TOKENS_PER_MINUTE = 1_000_000_000
BUDGET_WINDOW_S = 60.0
CONTEXT = "a focus group on electric bikes"


def demographics_file() -> Path:
    """The Portside example if it is a demographics document, else the shared USA fixture."""
    try:
        document = json.loads(EXAMPLE.read_text())
    except (OSError, ValueError):
        return FALLBACK
    if isinstance(document, dict) and {"title", "description", "source", "content"} <= document.keys():
        return EXAMPLE
    return FALLBACK


def plan_needs_model(text: str) -> bool:
    """As the service decides: the plan is computed when the demographics carry percentage distributions."""
    demographics = Demographics.model_validate_json(text)
    return not [d for d in select_dimensions(find_distributions(demographics.content), None) if d.shares]


# -- processes -------------------------------------------------------------------------------------


async def _wait_for_line(child: asyncio.subprocess.Process, log: Path, predicate) -> str:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if child.returncode is not None:
            raise RuntimeError(f"process exited early, see {log}")
        for line in log.read_text(errors="replace").splitlines():
            if predicate(line):
                return line
        await asyncio.sleep(0.1)
    raise TimeoutError(f"process did not start within {STARTUP_TIMEOUT_S} s, see {log}")


@contextlib.asynccontextmanager
async def started(arguments: list[str], log: Path, env: dict[str, str]) -> AsyncIterator[asyncio.subprocess.Process]:
    """A child process writing to `log`; SIGTERM (then SIGKILL after 15 s) at the end."""
    with log.open("wb") as output:
        child = await asyncio.create_subprocess_exec(
            sys.executable, *arguments, cwd=ROOT, env={**os.environ, **env}, stdout=output,
            stderr=asyncio.subprocess.STDOUT)
    try:
        yield child
    finally:
        if child.returncode is None:
            child.terminate()
            try:
                await asyncio.wait_for(child.wait(), 15)
            except TimeoutError:
                child.kill()
                await child.wait()


def _serving_port(line: str) -> int | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record.get("port") if isinstance(record, dict) and record.get("event") == "serving" else None


@contextlib.asynccontextmanager
async def mesh_service(name: str, workdir: Path, env: dict[str, str]) -> AsyncIterator[str]:
    service_env = {"PORT": "0", "METRICS_PORT": "0", "DATA_DIR": str(workdir), "LOG_FORMAT": "json",
                   "LOG_LEVEL": "INFO", **env}
    log = workdir / f"{name}.log"
    async with started(["-m", f"services.{name}"], log, service_env) as child:
        line = await _wait_for_line(child, log, lambda text: _serving_port(text) is not None)
        yield f"127.0.0.1:{_serving_port(line)}"


@contextlib.asynccontextmanager
async def fake_llm(workdir: Path, latency_s: float) -> AsyncIterator[str]:
    log = workdir / "fake_llm.log"
    async with started(["-m", "tests.fake_llm", "--port", "0", "--latency", str(latency_s)], log, {}) as child:
        line = await _wait_for_line(child, log, lambda text: "listening on" in text)
        yield line.rsplit(" ", 1)[1].strip()


def fake_stats(base_url: str) -> dict:
    root = base_url.removesuffix("/v1")
    with urllib.request.urlopen(f"{root}/_fake/stats", timeout=30) as response:
        return json.load(response)


def fake_reset(base_url: str) -> None:
    root = base_url.removesuffix("/v1")
    request = urllib.request.Request(f"{root}/_fake/reset", data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=30).close()


# -- the measurement -------------------------------------------------------------------------------


async def generate(control: control_pb2_grpc.SimulationControlServiceStub,
                   population: population_pb2_grpc.PopulationServiceStub, demographics_json: str,
                   count: int) -> dict:
    session = await control.BeginSession(control_pb2.BeginSessionRequest(
        session=control_pb2.Session(display_name="population benchmark")), timeout=10)
    request = population_pb2.GeneratePopulationRequest(session=session.name, demographics_json=demographics_json,
                                                       count=count, context=CONTEXT)
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
    return {"wall_s": wall, "plan_s": plan_at, "generated": len(names), "unique_names": len(set(names)),
            "failed": len(failures), "first_failure": failures[0] if failures else "",
            "summary_calls": summary.model_calls}


async def bench(agent_count: int, latency: float, repeats: int) -> None:
    source = demographics_file()
    demographics_json = source.read_text()
    needs_model = plan_needs_model(demographics_json)
    runs = []
    with tempfile.TemporaryDirectory(prefix="population-bench-") as directory:
        workdir = Path(directory)
        async with fake_llm(workdir, latency) as llm_url, mesh_service("control", workdir, {}) as control_address:
            env = {"CONTROL_ADDRESS": control_address, "LLM_BASE_URL": llm_url, "LLM_MODEL": "fake-model",
                   "LLM_MAX_CONCURRENCY": str(MAX_CONCURRENCY), "LLM_REQUESTS_PER_MINUTE": str(REQUESTS_PER_MINUTE),
                   "LLM_TOKENS_PER_MINUTE": str(TOKENS_PER_MINUTE), "LLM_BUDGET_WINDOW_S": str(BUDGET_WINDOW_S),
                   "LLM_TIMEOUT_S": str(max(30.0, latency * 10))}
            async with mesh_service("population", workdir, env) as population_address, \
                    grpc.aio.insecure_channel(control_address) as control_channel, \
                    grpc.aio.insecure_channel(population_address) as population_channel:
                control = control_pb2_grpc.SimulationControlServiceStub(control_channel)
                population = population_pb2_grpc.PopulationServiceStub(population_channel)
                await generate(control, population, demographics_json, 2)  # warm-up: connections, imports
                for _ in range(repeats):
                    fake_reset(llm_url)
                    result = await generate(control, population, demographics_json, agent_count)
                    stats = fake_stats(llm_url)
                    result["model_calls"] = stats["total_requests"]
                    result["peak_in_flight"] = stats["peak_in_flight"]
                    runs.append(result)

    persons = agent_count
    critical_path = latency * (1 + (1 if needs_model else 0))
    waves = math.ceil(persons / MAX_CONCURRENCY)
    concurrency_bound = latency * (waves + (1 if needs_model else 0))
    calls = max(run["model_calls"] for run in runs)
    # A request holds its place in the window from admission until a window after its answer.
    rate_bound = (math.ceil(calls / REQUESTS_PER_MINUTE) - 1) * BUDGET_WINDOW_S + critical_path
    limit = max(critical_path, concurrency_bound, rate_bound)
    median = statistics.median(run["wall_s"] for run in runs)
    ratio = median / limit if limit > 0 else math.inf

    print(f"population: GeneratePopulation of {agent_count} agents from {source.relative_to(ROOT.parent)} "
          f"at {latency:g} s model latency (plan {'needs' if needs_model else 'computed without'} the model); "
          "control, population and fake model in separate processes")
    for index, run in enumerate(runs, start=1):
        print(f"  run {index}: wall {run['wall_s']:.2f} s (plan after {run['plan_s']:.3f} s), "
              f"{run['generated']} generated, {run['failed']} failed, {run['unique_names']} unique names, "
              f"{run['model_calls']} model calls (summary reports {run['summary_calls']}), "
              f"peak in flight {run['peak_in_flight']}")
        if run["first_failure"]:
            print(f"    first failure: {run['first_failure'][:200]}")
    last = runs[-1]
    rows = [
        ("wall time (median)", f"{median:.2f} s"),
        ("agents generated", f"{last['generated']} of {agent_count}"),
        ("unique names", f"{last['unique_names']}"),
        ("model calls", f"{last['model_calls']}"),
        ("model calls per agent", f"{last['model_calls'] / max(1, last['generated']):.2f}"),
        ("critical path", f"{critical_path:.2f} s ({'plan + ' if needs_model else ''}1 latency for the persons)"),
        ("concurrency bound", f"{concurrency_bound:.2f} s ({waves} wave(s) of {MAX_CONCURRENCY})"),
        ("rate budget bound", f"{rate_bound:.2f} s ({calls} calls, {REQUESTS_PER_MINUTE} per "
                              f"{BUDGET_WINDOW_S:g} s window)"),
        ("limit", f"{limit:.2f} s"),
        ("ratio", f"{ratio:.2f} ({'<=' if ratio <= 1.25 else '>'} 1.25)"),
        ("seed's standard", f"< {SEED_STANDARD_S:g} s: {'met' if median < SEED_STANDARD_S else 'NOT met'}"),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    print(f"reproduce: .venv/bin/python bench/population_bench.py --agents {agent_count} --latency {latency:g} "
          f"--repeats {repeats}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=1)
    arguments = parser.parse_args()
    asyncio.run(bench(arguments.agents, arguments.latency, arguments.repeats))


if __name__ == "__main__":
    main()
