"""Generates the Python stubs of the mesh's protos into gen/python (`make protos`).

The contracts' proto packages are `tinytroupe.*.v1`, and protoc would install their stubs as the top-level
Python package `tinytroupe`: the import name of Microsoft's TinyTroupe library. So the stubs are generated
into `tinytroupe_mesh_api` instead (imports and module names rewritten; the proto packages, file names and
service names on the wire stay as they are), and both can live in one environment.

`--check` regenerates into a temporary folder and fails when the committed stubs differ, so the stubs
can never drift from the contracts.
"""

from __future__ import annotations

import argparse
import filecmp
import re
import shutil
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parents[1]
PROTOS = ROOT / "protos"
THIRD_PARTY = ROOT / "third_party"
OUTPUT = ROOT / "gen" / "python"
PROTO_PACKAGE = "tinytroupe"
PYTHON_PACKAGE = "tinytroupe_mesh_api"
# `from tinytroupe_mesh_api.common.v1 import …` and the module name given to protobuf's builder.
GENERATED_IMPORT = re.compile(rf"^(from|import) {PROTO_PACKAGE}\.", re.MULTILINE)
BUILDER_MODULE = re.compile(rf"(BuildTopDescriptorsAndMessages\(DESCRIPTOR, '){PROTO_PACKAGE}\.")


def generate(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    proto_files = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    well_known = Path(protoc.__file__).parent / "_proto"
    package = out_dir / PYTHON_PACKAGE
    with tempfile.TemporaryDirectory() as raw:
        args = [
            "grpc_tools.protoc",
            f"-I{PROTOS}",
            f"-I{THIRD_PARTY}",
            f"-I{well_known}",
            f"--python_out={raw}",
            f"--pyi_out={raw}",
            f"--grpc_python_out={raw}",
            *proto_files,
        ]
        if protoc.main(args) != 0:
            raise SystemExit("protoc failed")
        shutil.move(Path(raw) / PROTO_PACKAGE, package)
    for module in package.rglob("*.py*"):
        text = GENERATED_IMPORT.sub(rf"\1 {PYTHON_PACKAGE}.", module.read_text())
        module.write_text(BUILDER_MODULE.sub(rf"\g<1>{PYTHON_PACKAGE}.", text))
    for package_dir in [package, *(p for p in package.rglob("*") if p.is_dir())]:
        (package_dir / "__init__.py").touch()


def differences(expected: Path, actual: Path) -> list[str]:
    expected_files = {p.relative_to(expected) for p in expected.rglob("*") if p.is_file()}
    actual_files = {p.relative_to(actual) for p in actual.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    changed = [
        str(p)
        for p in sorted(expected_files & actual_files)
        if not filecmp.cmp(expected / p, actual / p, shallow=False)
    ]
    missing = [f"{p} (missing)" for p in sorted(expected_files - actual_files)]
    stale = [f"{p} (stale)" for p in sorted(actual_files - expected_files)]
    return changed + missing + stale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail when gen/python differs from the protos")
    args = parser.parse_args()
    if not args.check:
        shutil.rmtree(OUTPUT, ignore_errors=True)
        generate(OUTPUT)
        print(f"generated stubs in {OUTPUT.relative_to(ROOT)}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        generate(fresh)
        diff = differences(fresh, OUTPUT)
    if diff:
        print("generated stubs are out of date; run `make protos`:", *diff, sep="\n  ", file=sys.stderr)
        raise SystemExit(1)
    print("generated stubs match the protos")


if __name__ == "__main__":
    main()
