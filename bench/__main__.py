"""`make bench`: every benchmark of the mesh in one run, each against real servers over real sockets.

Each scenario is its own script (run them alone for more options); this runs them in sequence with the
settings of bench/RESULTS.md and prints their tables. `--quick` uses smaller sizes.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FULL = [
    ("population: 100 agents from demographics (1 s latency)",
     ["bench/population_bench.py", "--agents", "100", "--latency", "1"]),
    ("LLM client overhead (fake server, zero latency) and embedded model speed",
     ["bench/llm_bench.py", "--embedded-calls", "5", "--fake-calls", "2000"]),
    ("checkpoint write / restore, 50 and 1000 agents, SQLite and PostgreSQL",
     ["bench/control_bench.py", "--agents", "50", "1000", "--repeats", "5"]),
    ("simulation: 50 agents x 3 rounds focus group; 1000 agents x 1 round survey (1 s latency)",
     ["bench/simulation_bench.py", "--agents", "50", "--rounds", "3", "--latency", "1", "--survey-agents", "1000"]),
    ("extraction: 3 fields from 50 agents with statistics (1 s latency)",
     ["bench/extraction_bench.py", "--agents", "50", "--latency", "1.0", "--repeats", "3"]),
]

QUICK = [
    ("population, 20 agents", ["bench/population_bench.py", "--agents", "20", "--latency", "0.2"]),
    ("LLM client overhead", ["bench/llm_bench.py", "--embedded-calls", "0", "--fake-calls", "300"]),
    ("checkpoints, 50 agents, SQLite", ["bench/control_bench.py", "--agents", "50", "--backends", "sqlite",
                                        "--repeats", "3"]),
    ("simulation, 20 agents x 2 rounds", ["bench/simulation_bench.py", "--agents", "20", "--rounds", "2",
                                          "--latency", "0.2", "--survey-agents", "100"]),
    ("extraction, 20 agents", ["bench/extraction_bench.py", "--agents", "20", "--latency", "0.2",
                               "--repeats", "1"]),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args()
    failures = 0
    for title, command in QUICK if args.quick else FULL:
        print(f"\n== {title}\n$ python {' '.join(command)}", flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, *command], cwd=ROOT)
        print(f"-- {time.perf_counter() - started:.1f} s, exit {result.returncode}", flush=True)
        failures += result.returncode != 0
    raise SystemExit(1 if failures else 0)


if __name__ == "__main__":
    main()
