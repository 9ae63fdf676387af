"""First steps as the docs give them: the image's `docker run` line, a model endpoint given without its `/v1`,
and a study whose model calls the endpoint rejects."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from services.mesh.launcher import LocalMesh, read_state
from services.mesh.processes import MeshStartError, ServiceProcess
from services.runtime.config import DEFAULT_PORTS
from tests.e2e.support import fake_llm_process
from tests.e2e.test_cli import EXAMPLES, mesh_environment, troupe

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def docker_run_line() -> list[str]:
    """deploy/README.md's `docker run` command, its continuation lines joined."""
    text = (ROOT / "deploy" / "README.md").read_text()
    command = re.search(r"^docker run .*?(?<!\\)$", text, re.MULTILINE | re.DOTALL).group(0)
    return shlex.split(command.replace("\\\n", " "))


def image_environment() -> dict[str, str]:
    """The ENV lines of the Dockerfile's runtime stage."""
    runtime = (ROOT / "Dockerfile").read_text().split("AS runtime", 1)[1]
    block = re.search(r"^ENV (.*?)(?<!\\)$", runtime, re.MULTILINE | re.DOTALL).group(1)
    return dict(pair.split("=", 1) for pair in shlex.split(block.replace("\\\n", " ")))


async def test_the_documented_docker_run_line_starts_its_service(tmp_path):
    """The image's environment plus the line's `-e` settings, as the container would run the command."""
    line = docker_run_line()
    given = dict(line[index + 1].split("=", 1) for index, word in enumerate(line) if word == "-e")
    service = line[-1].removeprefix("services.")
    assert line[-3:-1] == ["python", "-m"] and service in DEFAULT_PORTS
    environment = {
        **image_environment(),
        **given,
        "DATA_DIR": str(tmp_path),
        "PORT": "0",
        "METRICS_PORT": "0",
        "PATH": "/usr/bin:/bin",
    }
    assert environment["HOST"] == "0.0.0.0"
    process = ServiceProcess.of(service, environment, tmp_path / "logs")
    await process.start()
    try:
        await process.wait_serving(timeout_s=60)
    finally:
        await process.stop(grace_s=5)

    without = {name: value for name, value in environment.items() if name != "ALLOW_INSECURE"}
    refused = ServiceProcess.of(service, without, tmp_path / "logs", name="refused")
    await refused.start()
    with pytest.raises(MeshStartError, match="exited"):
        await refused.wait_serving(timeout_s=60)
    assert "ALLOW_INSECURE" in refused.log_tail(), "the refusal says what lets it start"


async def test_up_refuses_a_base_url_without_its_v1_and_names_the_fix(tmp_path):
    async with fake_llm_process(tmp_path / "logs", latency_s=0.01) as llm_url:
        root = llm_url.removesuffix("/v1")
        environment = {**mesh_environment({}, tmp_path / "data"), "LLM_BASE_URL": root, "LLM_MODEL": "fake-model"}
        code, output = await troupe("up", environment=environment, timeout_s=60)
    assert code == 1, output
    assert f"Set LLM_BASE_URL={root}/v1" in output.replace("\n", "")
    assert read_state(tmp_path / "data") is None and not list((tmp_path / "data" / "logs").glob("control.log"))


async def test_a_study_whose_model_calls_are_rejected_says_so_and_what_to_check(tmp_path):
    async with fake_llm_process(tmp_path / "logs", latency_s=0.01) as llm_url:
        mesh = LocalMesh(
            data_dir=tmp_path / "mesh",
            ports=dict.fromkeys(DEFAULT_PORTS, 0),
            llm_base_url=llm_url.removesuffix("/v1"),  # every model call answers 404
            extra_environment={"LLM_MODEL": "fake-model", "LLM_BACKOFF_BASE_S": "0.01"},
            check_llm=False,
        )
        await mesh.start()
        try:
            addresses = {key: value for key, value in mesh.environment.items() if key.endswith("_ADDRESS")}
            environment = mesh_environment(addresses, tmp_path / "cli")
            code, output = await troupe("run", str(EXAMPLES / "survey.yaml"), environment=environment)
        finally:
            await mesh.stop(grace_s=5)
    flat = " ".join(output.split())
    assert code == 1, output
    assert "FAILED_PRECONDITION" in flat and "HTTP 404" in flat
    assert "the model endpoint rejects the mesh's requests: check LLM_BASE_URL" in flat
    assert "UNAVAILABLE" not in flat
