"""`troupe report`: one self-contained HTML page of a study or an experiment, charts included."""

from services.cli.report.assets import ChartLibrary, ReportError, chart_library
from services.cli.report.page import render

__all__ = ["ChartLibrary", "ReportError", "chart_library", "render"]
