"""The pass-to-pass diff report: diff.html (templates/), diff.xlsx and the full change lists
(added / removed / changed keys as CSV), from ``RunDiff.to_dict()`` and its ChangeLists."""

from etl.report.diff.html import render_diff_html
from etl.report.diff.lists import list_file_name, write_change_lists
from etl.report.diff.xlsx import diff_workbook_bytes, write_diff_xlsx

__all__ = [
    "diff_workbook_bytes",
    "list_file_name",
    "render_diff_html",
    "write_change_lists",
    "write_diff_xlsx",
]
