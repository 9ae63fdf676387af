"""Runs the fake server in the foreground: `python -m tests.fake_llm --port 8081 --latency 0.05`."""

from __future__ import annotations

import argparse
import asyncio
import signal

from tests.fake_llm.server import FakeLLMServer


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.fake_llm", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed at start)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument(
        "--latency-from-arrival",
        action="store_true",
        help="make each answer at once and count the latency from the request's arrival",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default="fake-model")
    for fault in ("429", "500", "hang", "truncated", "invalid-json", "schema-violation", "fenced"):
        parser.add_argument(f"--rate-{fault}", type=float, default=0.0, help=f"fraction of {fault} answers")
    parser.add_argument("--hang-every", type=int, default=0, help="hang every k-th request (0: none)")
    return parser.parse_args()


async def _serve(arguments: argparse.Namespace) -> None:
    server = FakeLLMServer(
        host=arguments.host,
        port=arguments.port,
        latency=arguments.latency,
        seed=arguments.seed,
        model=arguments.model,
        rate_429=arguments.rate_429,
        rate_500=arguments.rate_500,
        rate_hang=arguments.rate_hang,
        rate_truncated=arguments.rate_truncated,
        rate_invalid_json=arguments.rate_invalid_json,
        rate_schema_violation=arguments.rate_schema_violation,
        rate_fenced=arguments.rate_fenced,
        hang_every=arguments.hang_every,
        record_bodies=False,
        latency_from_arrival=arguments.latency_from_arrival,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with server:
        print(f"fake LLM server listening on {server.base_url}", flush=True)
        await stop.wait()


def main() -> None:
    asyncio.run(_serve(_arguments()))


if __name__ == "__main__":
    main()
