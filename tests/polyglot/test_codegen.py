"""buf.gen.yaml generates working stubs for Go and Java where their plugins are installed (their output
is never committed; the Python stubs are `make protos`' and checked by `make check`). TypeScript has its
own template, clients/typescript/buf.gen.yaml, which the client's build runs in
tests/polyglot/test_typescript_client.py."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.polyglot.conftest import ROOT

BUF = ROOT / "node_modules" / ".bin" / "buf"
TEMPLATE = yaml.safe_load((ROOT / "buf.gen.yaml").read_text(encoding="utf-8"))

# A file each language's output must hold: the orchestrator's client stub.
EXPECTED = {
    "gen/go": "tinytroupe/orchestrator/v1/orchestrator_grpc.pb.go",
    "gen/java": "io/tinytroupe/orchestrator/v1/OrchestratorServiceGrpc.java",
}


def plugins_for(out: str) -> list[dict]:
    return [plugin for plugin in TEMPLATE["plugins"] if plugin["out"] == out]


def installed(plugin: dict) -> bool:
    if "protoc_builtin" in plugin:
        return shutil.which(plugin.get("protoc_path", "protoc")) is not None
    command = plugin["local"][0] if isinstance(plugin["local"], list) else plugin["local"]
    return (ROOT / command).exists() if "/" in command else shutil.which(command) is not None


def generate(plugins: list[dict], out_dir: Path) -> None:
    if not BUF.exists():
        pytest.skip("buf is not installed (make setup)")
    template = {**TEMPLATE, "plugins": plugins}
    result = subprocess.run(
        [str(BUF), "generate", "--template", json.dumps(template), "-o", str(out_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("out", sorted(EXPECTED))
def test_buf_generates_the_other_languages(out: str, tmp_path: Path) -> None:
    plugins = plugins_for(out)
    missing = [plugin.get("local") or plugin.get("protoc_builtin") for plugin in plugins if not installed(plugin)]
    if missing:
        pytest.skip(f"plugins not installed here: {missing} (see docs/clients.md)")
    generate(plugins, tmp_path)
    assert (tmp_path / out / EXPECTED[out]).is_file()
