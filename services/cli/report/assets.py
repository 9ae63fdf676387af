"""The chart library a report inlines: Chart.js's UMD bundle from the npm package the Makefile installs.

`make setup` runs `npm ci` on the repository's package.json, which pins `chart.js` (MIT licence); the bundle
keeps its licence banner when it is inlined. `CHARTJS_BUNDLE` may name another copy of the same file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from services.mesh.processes import PROJECT_ROOT

PACKAGE_DIR = PROJECT_ROOT / "node_modules" / "chart.js"
BUNDLE = "dist/chart.umd.min.js"
BUNDLE_VARIABLE = "CHARTJS_BUNDLE"


class ReportError(Exception):
    """A report cannot be written (the chart library is missing, the operation has no result, ...)."""


@dataclass(frozen=True)
class ChartLibrary:
    source: str
    version: str
    licence: str


def chart_library() -> ChartLibrary:
    """Chart.js as installed by `make setup` (or the file `CHARTJS_BUNDLE` names)."""
    override = os.environ.get(BUNDLE_VARIABLE)
    bundle = Path(override) if override else PACKAGE_DIR / BUNDLE
    try:
        source = bundle.read_text(encoding="utf-8")
    except OSError:
        raise ReportError(
            f"the chart library is missing ({bundle}): install it with `make setup` (or `npm ci` in {PROJECT_ROOT})"
        ) from None
    version, licence = "", ""
    manifest = bundle.parent.parent / "package.json"
    if manifest.is_file():
        try:
            package = json.loads(manifest.read_text(encoding="utf-8"))
            version, licence = str(package.get("version", "")), str(package.get("license", ""))
        except ValueError:
            pass
    return ChartLibrary(source, version or "(version unknown)", licence or "MIT")
