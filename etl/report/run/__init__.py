"""The run report of one run folder: report.html (templates/), report.xlsx, report.json, and
the 突合 of its control totals."""

from etl.report.run.html import compile_templates, reconciliation_html, render_html
from etl.report.run.json import render_json
from etl.report.run.reconciliation import control_rows
from etl.report.run.xlsx import workbook_bytes, write_xlsx

__all__ = [
    "compile_templates",
    "control_rows",
    "reconciliation_html",
    "render_html",
    "render_json",
    "workbook_bytes",
    "write_xlsx",
]
