"""`make bench`: every benchmark of the mesh in one run, each against real servers over real sockets.

Each scenario is its own script (run them alone for more options); this runs them in sequence, each
starting its own mesh, collects the result lines they write to one file, and ends with one table of
every scenario. `--quick` uses smaller sizes; `--skip-demo` leaves out the embedded model's demo study
and its concurrent-turns benchmark (about 2 minutes). With `LLM_BASE_URL` set, the scenarios call
that endpoint instead of the fake server.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.results import RESULTS_VARIABLE, read, table

ROOT = Path(__file__).resolve().parents[1]
FULL = [
    (
        "population: 100 agents from demographics (1 s latency)",
        ["bench/population_bench.py", "--agents", "100", "--latency", "1", "--repeats", "3"],
    ),
    (
        "simulation: 50 agents x 3 rounds focus group; 1000 agents x 1 round survey (1 s latency)",
        ["bench/simulation_bench.py", "--agents", "50", "--rounds", "3", "--latency", "1", "--survey-agents", "1000"],
    ),
    (
        "extraction: 3 fields from 50 agents with statistics (1 s latency)",
        ["bench/extraction_bench.py", "--agents", "50", "--latency", "1.0", "--repeats", "3"],
    ),
    (
        "checkpoint write / restore, 50 and 1000 agents, SQLite and PostgreSQL",
        ["bench/control_bench.py", "--agents", "50", "1000", "--repeats", "5"],
    ),
    (
        "whole studies: 50 agents x 3 rounds + extraction (zero and 1 s latency); 10 concurrent studies of 20 agents",
        [
            "bench/study_bench.py",
            "--agents",
            "50",
            "--rounds",
            "3",
            "--latency",
            "1",
            "--concurrent",
            "10",
            "--concurrent-agents",
            "20",
        ],
    ),
    (
        "study plan: a five-question survey of 50 agents from demographics, per-question extraction (1 s latency)",
        ["bench/plan_bench.py", "--agents", "50", "--latency", "1"],
    ),
    (
        "LLM client overhead (fake server, zero latency)",
        ["bench/llm_bench.py", "--embedded-calls", "0", "--fake-calls", "2000"],
    ),
    (
        "scale-out: 5 replicas sharing 600 calls a minute; 1000-person study with 1 and 3 replicas per service",
        ["bench/scale_out_bench.py", "--agents", "1000", "--replicas", "3", "--latency", "1"],
    ),
]
DEMO = ("`make demo` study on the embedded model", ["bench/demo_bench.py"])
EMBEDDED = (
    "embedded model: 3 concurrent turns on llama.cpp's server and on llama-cpp-python's",
    ["bench/embedded_bench.py"],
)

QUICK = [
    ("population, 20 agents", ["bench/population_bench.py", "--agents", "20", "--latency", "0.2"]),
    (
        "simulation, 20 agents x 2 rounds",
        ["bench/simulation_bench.py", "--agents", "20", "--rounds", "2", "--latency", "0.2", "--survey-agents", "100"],
    ),
    ("extraction, 20 agents", ["bench/extraction_bench.py", "--agents", "20", "--latency", "0.2", "--repeats", "1"]),
    (
        "checkpoints, 50 agents, SQLite",
        ["bench/control_bench.py", "--agents", "50", "--backends", "sqlite", "--repeats", "3"],
    ),
    (
        "whole studies, 10 agents x 2 rounds; 3 concurrent studies of 5 agents",
        [
            "bench/study_bench.py",
            "--agents",
            "10",
            "--rounds",
            "2",
            "--latency",
            "0.2",
            "--concurrent",
            "3",
            "--concurrent-agents",
            "5",
        ],
    ),
    ("study plan, five questions to 10 agents", ["bench/plan_bench.py", "--agents", "10", "--latency", "0.2"]),
    ("LLM client overhead", ["bench/llm_bench.py", "--embedded-calls", "0", "--fake-calls", "300"]),
    (
        "scale-out, 50 persons with 1 and 2 replicas per service",
        ["bench/scale_out_bench.py", "--skip-budget", "--agents", "50", "--replicas", "2", "--latency", "0.2"],
    ),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--skip-demo", action="store_true", help="leave out the embedded model's benchmarks")
    args = parser.parse_args()
    scripts = list(QUICK if args.quick else FULL)
    if not args.skip_demo and not args.quick:
        scripts += [DEMO, EMBEDDED]
    failures = []
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-") as directory:
        results_path = Path(directory) / "results.jsonl"
        environment = {**os.environ, RESULTS_VARIABLE: str(results_path)}
        for title, command in scripts:
            print(f"\n== {title}\n$ python {' '.join(command)}", flush=True)
            started = time.perf_counter()
            returncode = subprocess.run([sys.executable, *command], cwd=ROOT, env=environment).returncode
            print(f"-- {time.perf_counter() - started:.1f} s, exit {returncode}", flush=True)
            if returncode:
                failures.append(command[0])
        results, notes = read(results_path)
    print(
        f"\n== all scenarios ({time.perf_counter() - began:.0f} s; model: "
        f"{os.environ.get('LLM_BASE_URL') or 'the fake server, python -m tests.fake_llm'})"
    )
    print(table(results))
    for note in notes:
        print(f"- {note}")
    missed = [result.scenario for result in results if result.met is False]
    if failures:
        print(f"failed: {', '.join(failures)}")
    if missed:
        print(f"targets not met: {len(missed)}")
    raise SystemExit(1 if failures else 0)


if __name__ == "__main__":
    main()
