"""The code in docs/clients.md is copied from clients that the suite runs: it must stay a copy.

A fenced block whose first line is a comment naming a file (`# clients/python/run_study.py`,
`// clients/node/src/mesh.js`) must appear in that file verbatim.
"""

from __future__ import annotations

import re

from tests.polyglot.conftest import ROOT

DOC = ROOT / "docs" / "clients.md"
BLOCK = re.compile(r"^```(\w+)\n(?:#|//) (clients/\S+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def test_doc_snippets_are_copies_of_tested_code() -> None:
    blocks = BLOCK.findall(DOC.read_text(encoding="utf-8"))
    assert {language for language, _, _ in blocks} == {"python", "js", "ts"}
    for _, path, code in blocks:
        source = (ROOT / path).read_text(encoding="utf-8")
        assert code in source, f"docs/clients.md has a snippet of {path} that is no longer in it:\n{code}"
