"""Benchmark of checkpoint write and restore through the real control server, on both backends.

The payload is a realistic `tinytroupe.simulation.v1.WorldState` after three rounds: every agent carries
a ~3 KB persona spec and 30 memory events, and the transcript holds two interactions per agent per
round. Each write is a CreateCheckpoint call and each restore a GetCheckpoint call plus parsing the
WorldState, measured from this process; the control server runs as its own process
(`python -m services.control`) on 127.0.0.1, configured by environment as in a deployment.

Run: .venv/bin/python bench/control_bench.py [--agents 50 1000] [--backends sqlite postgres]
     [--repeats 10] [--postgres-url postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import grpc
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tinytroupe_mesh_api.common.v1 import agent_pb2, study_pb2
from tinytroupe_mesh_api.control.v1 import control_pb2, control_pb2_grpc
from tinytroupe_mesh_api.simulation.v1 import simulation_pb2

from bench.processes import CHANNEL_OPTIONS, MAX_MESSAGE_BYTES
from bench.results import Result, emit
from services.control.payloads import encode_payload
from services.mesh.processes import ServiceProcess

TARGET_S = 0.2
TARGET_AGENTS = 50

CONTENT_TYPE = "application/x-protobuf; type=tinytroupe.simulation.v1.WorldState"
ROUNDS = 3
MEMORY_EVENTS = 30
WORDS = [
    "price",
    "battery",
    "range",
    "charging",
    "city",
    "family",
    "weekend",
    "commute",
    "design",
    "comfort",
    "safety",
    "brand",
    "trust",
    "service",
    "warranty",
    "insurance",
    "neighbours",
    "colleagues",
    "budget",
    "savings",
    "loan",
    "subscription",
    "feature",
    "software",
    "update",
    "screen",
    "seat",
    "trunk",
    "noise",
    "quality",
    "environment",
    "climate",
    "future",
    "children",
    "school",
    "market",
    "dealer",
    "test",
    "drive",
    "friend",
    "review",
    "video",
    "opinion",
    "doubt",
    "excitement",
    "worry",
    "hope",
]
OCCUPATIONS = ["data scientist", "nurse", "architect", "teacher", "electrician", "lawyer", "chef", "farmer"]
CITIES = ["Lisbon", "Chicago", "Osaka", "Nairobi", "Berlin", "Lima", "Toronto", "Manila"]


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def persona_spec(rng: random.Random, name: str) -> str:
    """A TinyTroupe persona spec of about 3 KB."""
    persona = {
        "name": name,
        "age": rng.randint(18, 80),
        "nationality": rng.choice(CITIES),
        "occupation": {
            "title": rng.choice(OCCUPATIONS),
            "organization": f"{rng.choice(WORDS).title()} Ltd",
            "description": " ".join(sentence(rng, 14) for _ in range(3)),
        },
        "style": sentence(rng, 12),
        "personality": {"traits": [sentence(rng, 10) for _ in range(5)]},
        "preferences": {
            "interests": [rng.choice(WORDS) for _ in range(8)],
            "likes": [sentence(rng, 6) for _ in range(4)],
            "dislikes": [sentence(rng, 6) for _ in range(4)],
        },
        "beliefs": [sentence(rng, 12) for _ in range(5)],
        "skills": [sentence(rng, 8) for _ in range(4)],
        "behaviors": {"general": [sentence(rng, 10) for _ in range(5)]},
        "relationships": [{"name": f"Friend {n}", "description": sentence(rng, 8)} for n in range(3)],
    }
    return json.dumps({"type": "TinyPerson", "persona": persona})


def world_state(agent_count: int, seed: int = 7) -> simulation_pb2.WorldState:
    rng = random.Random(seed)
    names = [f"Agent {index:04d}" for index in range(agent_count)]
    kinds = [
        agent_pb2.MemoryEvent.KIND_STIMULUS,
        agent_pb2.MemoryEvent.KIND_HEARD,
        agent_pb2.MemoryEvent.KIND_THOUGHT,
        agent_pb2.MemoryEvent.KIND_SAID,
    ]
    agents = []
    for name in names:
        memory = [
            agent_pb2.MemoryEvent(
                round=event * ROUNDS // MEMORY_EVENTS,
                kind=rng.choice(kinds),
                source=rng.choice(names),
                content=" ".join(sentence(rng, rng.randint(8, 18)) for _ in range(rng.randint(3, 6))),
            )
            for event in range(MEMORY_EVENTS)
        ]
        agents.append(
            agent_pb2.Agent(
                agent_id=str(uuid.UUID(int=rng.getrandbits(128))),
                name=name,
                spec_json=persona_spec(rng, name),
                cognitive_state=agent_pb2.CognitiveState(
                    goals=[sentence(rng, 8) for _ in range(3)],
                    context=sentence(rng, 20),
                    attention=sentence(rng, 8),
                    emotions=sentence(rng, 6),
                ),
                episodic_memory=memory,
                memory_summary=" ".join(sentence(rng, 15) for _ in range(3)),
                provenance=agent_pb2.Provenance(origin=agent_pb2.Provenance.ORIGIN_SPEC, source=f"{name}.agent.json"),
            )
        )
    transcript = [
        study_pb2.Interaction(
            round=round_,
            agent_name=name,
            action=action,
            sequence=position,
            content=" ".join(sentence(rng, rng.randint(8, 16)) for _ in range(3)),
        )
        for position, (round_, name, action) in enumerate(
            (round_, name, action)
            for round_ in range(1, ROUNDS + 1)
            for name in names
            for action in (study_pb2.ACTION_TYPE_THINK, study_pb2.ACTION_TYPE_TALK)
        )
    ]
    return simulation_pb2.WorldState(
        agents=agents,
        rounds_completed=ROUNDS,
        transcript=transcript,
        stimulus=study_pb2.Stimulus(type="product_concept", content=sentence(rng, 40)),
        config=study_pb2.SimulationConfig(environment_type=study_pb2.ENVIRONMENT_TYPE_FOCUS_GROUP, rounds=ROUNDS),
    )


async def measure(
    stub: control_pb2_grpc.SimulationControlServiceStub, payload: bytes, repeats: int
) -> tuple[list[float], list[float]]:
    session = await stub.BeginSession(
        control_pb2.BeginSessionRequest(session=control_pb2.Session(display_name="control bench"))
    )
    writes, restores = [], []
    for repeat in range(repeats + 1):
        started = time.perf_counter()
        created = await stub.CreateCheckpoint(
            control_pb2.CreateCheckpointRequest(
                parent=session.name,
                checkpoint_id=f"round_{repeat}",
                checkpoint=control_pb2.Checkpoint(payload=payload, content_type=CONTENT_TYPE),
            )
        )
        written = time.perf_counter()
        restored = await stub.GetCheckpoint(control_pb2.GetCheckpointRequest(name=created.name))
        simulation_pb2.WorldState.FromString(restored.payload)
        finished = time.perf_counter()
        if restored.payload != payload:
            raise AssertionError("restored payload differs from the written one")
        if repeat:  # the first round warms connections and caches up
            writes.append(written - started)
            restores.append(finished - written)
    await stub.EndSession(control_pb2.EndSessionRequest(name=session.name))
    return writes, restores


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def bench_backend(
    backend: str, data_dir: Path, database_url: str | None, payloads: dict[int, bytes], repeats: dict[int, int]
) -> list[str]:
    environment = {
        **os.environ,
        "PORT": "0",
        "METRICS_PORT": "0",
        "DATA_DIR": str(data_dir),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "MAX_MESSAGE_BYTES": str(MAX_MESSAGE_BYTES),
    }
    environment.pop("DATABASE_URL", None)
    if database_url:
        environment["DATABASE_URL"] = database_url
    control = ServiceProcess.of("control", environment, data_dir / "logs", name=f"control-{backend}")
    await control.start()
    rows = []
    try:
        address = await control.wait_serving()
        async with grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS) as channel:
            stub = control_pb2_grpc.SimulationControlServiceStub(channel)
            for agents, payload in payloads.items():
                writes, restores = await measure(stub, payload, repeats[agents])
                rows.append(
                    f"{backend:<9} {agents:>6} {len(payload) / 1e6:>9.2f} {len(writes):>4} "
                    f"{statistics.median(writes) * 1000:>10.1f} {percentile(writes, 0.95) * 1000:>9.1f} "
                    f"{statistics.median(restores) * 1000:>12.1f} {percentile(restores, 0.95) * 1000:>11.1f}"
                )
                for what, times in (("write", writes), ("restore", restores)):
                    result = Result(
                        scenario=f"checkpoint {what} after round {ROUNDS}, {agents} agents, {backend} "
                        f"(median of {len(times)}, p95 {percentile(times, 0.95) * 1000:.1f} ms)",
                        wall_s=statistics.median(times),
                    )
                    if agents == TARGET_AGENTS:
                        result.target, result.met = f"< {TARGET_S:g} s", result.wall_s < TARGET_S
                    emit(result)
    finally:
        await control.stop()
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, nargs="+", default=[50, 1000])
    parser.add_argument("--backends", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"])
    parser.add_argument("--repeats", type=int, default=10, help="measured rounds for 50 agents (fewer for more)")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()

    payloads = {agents: world_state(agents).SerializeToString() for agents in args.agents}
    repeats = {agents: max(3, args.repeats * 50 // max(agents, 50)) for agents in args.agents}
    print(
        "payloads: "
        + ", ".join(
            f"{agents} agents = {len(payload) / 1e6:.2f} MB ({len(encode_payload(payload).data) / 1e6:.2f} MB stored)"
            for agents, payload in payloads.items()
        )
    )
    header = (
        f"{'backend':<9} {'agents':>6} {'MB':>9} {'runs':>4} {'write p50':>10} {'write p95':>9} "
        f"{'restore p50':>12} {'restore p95':>11}   (ms)"
    )
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        data_dir = Path(directory)
        for backend in args.backends:
            if backend == "sqlite":
                rows += await bench_backend(backend, data_dir, None, payloads, repeats)
                continue
            schema = f"control_bench_{uuid.uuid4().hex[:8]}"
            try:
                with psycopg.connect(args.postgres_url, autocommit=True) as conn:
                    conn.execute(f'CREATE SCHEMA "{schema}"')
            except psycopg.OperationalError as error:
                emit(f"PostgreSQL checkpoints skipped: {args.postgres_url} cannot be reached ({error})")
                continue
            try:
                url = f"{args.postgres_url}?options={quote(f'-csearch_path={schema}')}"
                rows += await bench_backend(backend, data_dir, url, payloads, repeats)
            finally:
                with psycopg.connect(args.postgres_url, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    print(header, *rows, sep="\n")
    print(
        f"\nreproduce: .venv/bin/python bench/control_bench.py --agents {' '.join(map(str, args.agents))} "
        f"--backends {' '.join(args.backends)} --repeats {args.repeats}"
    )


if __name__ == "__main__":
    asyncio.run(main())
