"""The repository stands alone: no tracked code reads a path outside its own checkout.

A user's clone has nothing beside it, so a test, benchmark or script that reaches for `../something`
above the repository root, or walks up from `__file__` past it, works only on the machine it was
written on. The checker below reads every tracked code file and resolves each such reference.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[1]

CODE_SUFFIXES = {".py", ".js", ".ts", ".mjs", ".cjs", ".sh", ".yaml", ".yml", ".toml", ".json", ".cfg"}
CODE_NAMES = {"Makefile", "Dockerfile", "run"}
# Files run with the repository root as their working directory: a relative path in them is read from there.
ROOT_RELATIVE = {"Makefile", ".ci/run", "buf.yaml", "buf.gen.yaml", "package.json", "pyproject.toml"}
SKIPPED_PREFIXES = ("gen/", "third_party/", "tests/fixtures/")

UP_CHAIN = re.compile(r"(?<![\w.])((?:\.\./)+)([\w.-]+)")
FROM_FILE = re.compile(r"Path\(__file__\)(?:\.resolve\(\))?((?:\.parent\b)*)(?:\.parents\[(\d+)\])?((?:\.parent\b)*)")
ROOT_PARENT = re.compile(r"\b\w*(?:ROOT|REPOSITORY)\w*\.parent\b")
MACHINE_PATHS = re.compile(r"/[w]ork/|[s]hared/fixtures")  # the brackets keep this line from matching itself


def escapes(start: PurePosixPath, up: int) -> bool:
    """Whether going `up` folders from `start` (relative to the root) leaves the repository."""
    return up > len(start.parts)


def outside_references(relative_path: str, text: str) -> list[str]:
    """`path:line: why` for each reference in `text` (the file at `relative_path`) that leaves the repository."""
    path = PurePosixPath(relative_path)
    folder = path.parent if str(path.parent) != "." else PurePosixPath()
    starts = [folder] + ([PurePosixPath()] if relative_path in ROOT_RELATIVE else [])
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        where = f"{relative_path}:{number}"
        for match in UP_CHAIN.finditer(line):
            up = match.group(1).count("../")
            if any(escapes(start, up) for start in starts):
                found.append(f"{where}: {match.group(0)!r} climbs above the repository root")
        if path.suffix == ".py":
            for match in FROM_FILE.finditer(line):
                before, index, after = match.group(1), match.group(2), match.group(3)
                levels = before.count(".parent") + (int(index) + 1 if index else 0) + after.count(".parent")
                # levels - 1 folders above the file's own folder.
                if levels and escapes(folder, levels - 1):
                    found.append(f"{where}: {match.group(0)!r} walks above the repository root")
            if ROOT_PARENT.search(line):
                found.append(f"{where}: the parent of the repository root")
        if MACHINE_PATHS.search(line):
            found.append(f"{where}: a path of one machine's layout")
    return found


def tracked_code_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    return [
        name
        for name in listed
        if not name.startswith(SKIPPED_PREFIXES)
        and (PurePosixPath(name).suffix in CODE_SUFFIXES or PurePosixPath(name).name in CODE_NAMES)
        and (ROOT / name).is_file()
    ]


def test_no_tracked_code_reads_outside_the_repository():
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: no list of tracked files")
    files = tracked_code_files()
    assert len(files) > 100, "the list of tracked code files looks wrong"
    found = []
    for name in files:
        found += outside_references(name, (ROOT / name).read_text(encoding="utf-8", errors="replace"))
    assert not found, "\n".join(found)


def examples(name: str) -> list[tuple[str, str]]:
    """(path, line) pairs from tests/fixtures/outside_paths/{name}.tsv (a data file, so that its lines are
    not themselves references of the repository's code)."""
    text = (ROOT / "tests" / "fixtures" / "outside_paths" / f"{name}.tsv").read_text(encoding="utf-8")
    return [tuple(line.split("\t", 1)) for line in text.splitlines() if line and not line.startswith("#")]


@pytest.mark.parametrize(("path", "line"), examples("outside"))
def test_the_checker_finds_a_path_outside_the_repository(path, line):
    assert outside_references(path, line)


@pytest.mark.parametrize(("path", "line"), examples("inside"))
def test_the_checker_accepts_paths_inside_the_repository(path, line):
    assert not outside_references(path, line)
