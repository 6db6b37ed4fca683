"""Renderers for people and machines: console tables, and the run report as HTML, XLSX, JSON.

The run report is read back from a run folder (``load_run_report``) and written next to it
(``write_reports``): report.html (self-contained), report.xlsx (filterable), report.json.
"""

from __future__ import annotations

import json
from pathlib import Path

from etl.load import write_bytes_atomic
from etl.report.html import render_html
from etl.report.json_report import render_json
from etl.report.model import ReportError, RunMeta, RunReport, load_run_report
from etl.report.xlsx import workbook_bytes, write_xlsx

REPORT_FILES = {"html": "report.html", "xlsx": "report.xlsx", "json": "report.json"}


def write_reports(report: RunReport, out_dir: Path) -> dict[str, Path]:
    """Write the three reports into ``out_dir``, each atomically and owner-only (0600)."""
    contents = {
        "html": render_html(report).encode("utf-8"),
        "xlsx": workbook_bytes(report),
        "json": render_json(report),
    }
    return {
        kind: write_bytes_atomic(out_dir / REPORT_FILES[kind], data).path
        for kind, data in contents.items()
    }


def write_run_reports(run_dir: Path) -> dict[str, Path]:
    """Render the reports of a run folder into it (the reconciliation from its manifest)."""
    manifest = json.loads((run_dir / "manifest.json").read_text("utf-8"))
    extra = {"reconciliation": manifest["reconciliation"]} if "reconciliation" in manifest else {}
    return write_reports(load_run_report(run_dir, extra_sections=extra), run_dir)


__all__ = [
    "REPORT_FILES",
    "ReportError",
    "RunMeta",
    "RunReport",
    "load_run_report",
    "render_html",
    "render_json",
    "write_reports",
    "write_run_reports",
    "write_xlsx",
]
