"""Benchmark of the simulation service over real sockets, against the fake OpenAI-compatible server.

Control, simulation and the fake LLM each run as their own process (`python -m services.control`,
`python -m services.simulation`, `python -m tests.fake_llm`), configured by environment as in a
deployment. Two scenarios, each on a fresh simulation process:

1. focus group: 50 agents x 3 rounds at 1 s model latency. A round's agents act concurrently, so the
   critical path is rounds x latency; the ratio wall time / critical path should stay <= 1.25.
2. survey: 1000 agents x 1 round; wall time and the simulation process's peak RSS (VmHWM).

Run: .venv/bin/python bench/simulation_bench.py [--agents 50] [--rounds 3] [--latency 1.0]
     [--survey-agents 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
from tinytroupe.common.v1 import agent_pb2, study_pb2
from tinytroupe.control.v1 import control_pb2, control_pb2_grpc
from tinytroupe.simulation.v1 import simulation_pb2, simulation_pb2_grpc

ROOT = Path(__file__).resolve().parents[1]

STARTUP_TIMEOUT_S = 60.0
TEMPLATE = ROOT.parent / "shared" / "fixtures" / "tinytroupe" / "agents" / "Lisa.agent.json"


@dataclass
class Process:
    process: asyncio.subprocess.Process
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def peak_rss_mib(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmHWM in /proc status")


async def _wait_for_line(process: Process, predicate) -> str:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.process.returncode is not None:
            raise RuntimeError(f"process exited early, see {process.log}")
        for line in process.log.read_text(errors="replace").splitlines():
            if predicate(line):
                return line
        await asyncio.sleep(0.1)
    raise TimeoutError(f"process did not start within {STARTUP_TIMEOUT_S} s, see {process.log}")


@contextlib.asynccontextmanager
async def started(arguments: list[str], log: Path, env: dict[str, str]) -> AsyncIterator[Process]:
    with log.open("wb") as output:
        child = await asyncio.create_subprocess_exec(
            sys.executable, *arguments, cwd=ROOT, env={**os.environ, **env}, stdout=output,
            stderr=asyncio.subprocess.STDOUT)
    process = Process(child, log)
    try:
        yield process
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
    return record.get("port") if record.get("event") == "serving" else None


@contextlib.asynccontextmanager
async def mesh_service(name: str, workdir: Path, env: dict[str, str]) -> AsyncIterator[tuple[Process, str]]:
    service_env = {"PORT": "0", "METRICS_PORT": "0", "DATA_DIR": str(workdir), **env}
    async with started(["-m", f"services.{name}"], workdir / f"{name}-{time.monotonic_ns()}.log",
                       service_env) as process:
        line = await _wait_for_line(process, lambda text: _serving_port(text) is not None)
        yield process, f"127.0.0.1:{_serving_port(line)}"


@contextlib.asynccontextmanager
async def fake_llm(workdir: Path, latency_s: float) -> AsyncIterator[str]:
    async with started(["-m", "tests.fake_llm", "--port", "0", "--latency", str(latency_s)],
                       workdir / "fake_llm.log", {}) as process:
        line = await _wait_for_line(process, lambda text: "listening on" in text)
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


def agents(count: int) -> list[agent_pb2.Agent]:
    template = json.loads(TEMPLATE.read_text())
    result = []
    for index in range(count):
        template["persona"]["name"] = f"Participant {index:04d}"
        result.append(agent_pb2.Agent(agent_id=f"agents/{index}", spec_json=json.dumps(template)))
    return result


async def run_simulation(control_address: str, simulation_address: str, agent_count: int, rounds: int,
                         environment: int) -> tuple[float, list[float], simulation_pb2.SimulationFinished]:
    options = [("grpc.max_receive_message_length", 256 * 1024 * 1024)]
    async with grpc.aio.insecure_channel(control_address) as control_channel, \
            grpc.aio.insecure_channel(simulation_address, options=options) as simulation_channel:
        control = control_pb2_grpc.SimulationControlServiceStub(control_channel)
        session = await control.BeginSession(control_pb2.BeginSessionRequest(
            session=control_pb2.Session(display_name="simulation benchmark")), timeout=10)
        request = simulation_pb2.RunSimulationRequest(
            session=session.name, agents=agents(agent_count),
            config=study_pb2.SimulationConfig(environment_type=environment, rounds=rounds, enable_memory=True,
                                              enable_thinking=True, broadcast_mode=True),
            stimulus=study_pb2.Stimulus(type="product_concept", content="A kettle that boils water with sunlight.",
                                        context="A consumer study about kitchen products."))
        started_at = time.perf_counter()
        finished = None
        round_ends: list[float] = []
        async for event in simulation_pb2_grpc.SimulationServiceStub(simulation_channel).RunSimulation(
                request, timeout=600):
            if event.HasField("round_checkpointed"):
                round_ends.append(time.perf_counter() - started_at)
            if event.HasField("finished"):
                finished = event.finished
        elapsed = time.perf_counter() - started_at
    assert finished is not None, "the stream ended without a result"
    round_durations = [end - start for start, end in zip([0.0, *round_ends], round_ends, strict=False)]
    return elapsed, round_durations, finished


async def scenario(workdir: Path, control_address: str, llm_url: str, *, agent_count: int, rounds: int,
                   environment: int, latency_s: float) -> dict:
    env = {"CONTROL_ADDRESS": control_address, "LLM_BASE_URL": llm_url, "LLM_MODEL": "fake-model",
           "LLM_MAX_CONCURRENCY": str(max(256, agent_count + 24)), "LLM_REQUESTS_PER_MINUTE": "1000000",
           "LLM_TOKENS_PER_MINUTE": "1000000000", "LLM_TIMEOUT_S": str(max(30.0, latency_s * 10))}
    fake_reset(llm_url)
    async with mesh_service("simulation", workdir, env) as (process, address):
        elapsed, round_durations, finished = await run_simulation(control_address, address, agent_count, rounds,
                                                                  environment)
        peak_rss = process.peak_rss_mib()
    stats = fake_stats(llm_url)
    return {"agents": agent_count, "rounds": rounds, "wall_s": elapsed, "model_calls": stats["total_requests"],
            "peak_in_flight": stats["peak_in_flight"], "usage_calls": finished.usage.calls,
            "successful": finished.participants.successful, "failed": finished.participants.failed,
            "interactions": finished.results.total_interactions, "critical_path_s": rounds * latency_s,
            "ratio": elapsed / (rounds * latency_s), "peak_rss_mib": peak_rss, "rounds_s": round_durations}


async def main(arguments: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="simulation-bench-") as directory:
        workdir = Path(directory)
        async with fake_llm(workdir, arguments.latency) as llm_url, \
                mesh_service("control", workdir, {}) as (_, control_address):
            focus = await scenario(workdir, control_address, llm_url, agent_count=arguments.agents,
                                   rounds=arguments.rounds, environment=study_pb2.ENVIRONMENT_TYPE_FOCUS_GROUP,
                                   latency_s=arguments.latency)
            survey = await scenario(workdir, control_address, llm_url, agent_count=arguments.survey_agents,
                                    rounds=1, environment=study_pb2.ENVIRONMENT_TYPE_SURVEY,
                                    latency_s=arguments.latency)
    for title, result in (("focus group", focus), ("survey", survey)):
        print(f"{title}: {result['agents']} agents x {result['rounds']} rounds at {arguments.latency:g} s latency")
        print(f"  wall time            {result['wall_s']:.2f} s; rounds (to checkpoint) "
              + ", ".join(f"{duration:.2f}" for duration in result["rounds_s"]) + " s")
        print(f"  model calls          {result['model_calls']} (usage reports {result['usage_calls']}), "
              f"peak in flight {result['peak_in_flight']}")
        print(f"  participants         {result['successful']} ok, {result['failed']} failed; "
              f"{result['interactions']} interactions")
        print(f"  critical path        {result['critical_path_s']:.2f} s (rounds x latency); "
              f"ratio {result['ratio']:.2f}")
        print(f"  simulation peak RSS  {result['peak_rss_mib']:.0f} MiB (VmHWM)")
    print(f"focus group ratio {focus['ratio']:.2f} {'<=' if focus['ratio'] <= 1.25 else '>'} 1.25")
    print("reproduce: .venv/bin/python bench/simulation_bench.py "
          f"--agents {arguments.agents} --rounds {arguments.rounds} --latency {arguments.latency:g} "
          f"--survey-agents {arguments.survey_agents}")


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--survey-agents", type=int, default=1000)
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_arguments()))
