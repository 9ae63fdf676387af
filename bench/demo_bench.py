"""Benchmark of `make demo`'s study on the embedded model (Gemma 3 270M on llama.cpp), under a minute.

The mesh starts as `troupe demo` starts it (six service subprocesses plus the embedded model server, no
`LLM_BASE_URL`), on free ports and a temporary data directory; the study is `troupe demo`'s own file,
sent to the orchestrator's RunStudy and followed with WaitOperation. The embedded server decodes one
request per slot at once, and the study's time is mostly the model's; no limit is computed for it.

Run: .venv/bin/python bench/demo_bench.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.processes import BenchMesh, ModelEndpoint, started_mesh
from bench.results import Result, emit
from bench.studies import run_study
from services.cli.local_mesh import DEMO_STUDY
from services.orchestrator.study_file import load_study_file


async def bench() -> None:
    with tempfile.TemporaryDirectory(prefix="demo-bench-") as directory:
        started = time.perf_counter()
        async with started_mesh(Path(directory), None, {}) as local:
            mesh_start_s = time.perf_counter() - started
            mesh = BenchMesh(local, ModelEndpoint(local.llm_base_url or "", latency_s=0.0))
            async with mesh.channel("orchestrator") as channel:
                run = await run_study(channel, load_study_file(DEMO_STUDY))
            calls, tokens = await mesh.model_calls(), await mesh.tokens()
    emit(
        Result(
            scenario=f"`make demo` study ({DEMO_STUDY.name}), embedded model",
            wall_s=run.wall_s,
            model_calls=calls,
            tokens=tokens,
        ),
        f"embedded demo: mesh and model started in {mesh_start_s:.1f} s, study {run.wall_s:.1f} s, "
        f"{calls} model requests, {tokens} tokens, "
        f"{run.result.participants.successful} of {run.result.participants.total} participants",
    )
    print("reproduce: .venv/bin/python bench/demo_bench.py")


if __name__ == "__main__":
    asyncio.run(bench())
