"""Renderers for people and machines: the run report and the diff report as HTML, XLSX, JSON.

The run report (etl.report.run) is read back from a run folder (``load_run_report``) and
written next to it (``write_reports``): report.html (self-contained), report.xlsx (filterable),
report.json. A pass-to-pass diff (etl.report.diff, from ``RunDiff.to_dict()``) is written the
same way by ``write_diff_reports``: diff.html, diff.xlsx, diff.json and the change lists. The
Japanese words of both are in etl.report.labels; the pages are rendered through etl.render.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from etl import events
from etl.report.labels import CONTROL_KIND_LABELS, PASS_LABELS, SEVERITY_LABELS
from etl.report.model import (
    PassShown,
    ReportError,
    RuleCount,
    RunReport,
    load_run_report,
    open_run,
    rule_counts,
)
from etl.report.run import (
    compile_templates,
    render_html,
    render_json,
    workbook_bytes,
    write_xlsx,
)
from etl.write import make_private_dir, write_bytes_atomic

REPORT_FILES = {"html": "report.html", "xlsx": "report.xlsx", "json": "report.json"}
DIFF_REPORT_FILES = {"html": "diff.html", "xlsx": "diff.xlsx", "json": "diff.json"}

if TYPE_CHECKING:
    from etl.diff import ChangeLists
    from etl.report.diff import render_diff_html, write_change_lists, write_diff_xlsx

# The diff report's names, imported from etl.report.diff on first use (PEP 562): a run's own
# report does not pay for the pass-to-pass diff (etl.diff, ≈20 ms of a run's imports).
_DIFF_NAMES = ("render_diff_html", "write_change_lists", "write_diff_xlsx")


def __getattr__(name: str) -> Any:
    if name in _DIFF_NAMES:
        return getattr(importlib.import_module("etl.report.diff"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def write_reports(report: RunReport, out_dir: Path) -> dict[str, Path]:
    """Write the three reports into ``out_dir``, each atomically and owner-only (0600).

    The workbook is built on a second thread while the page and the JSON are rendered: its
    writer and its frames work without the GIL, and the workbook is most of the time. All
    three are rendered before the first is written; then they are written side by side (the
    page's and the JSON's fsync wait beside the workbook's)."""
    with ThreadPoolExecutor(max_workers=len(REPORT_FILES), thread_name_prefix="report") as pool:
        xlsx = pool.submit(workbook_bytes, report)
        html = render_html(report).encode("utf-8")
        contents = {"html": html, "xlsx": xlsx.result(), "json": render_json(report)}
        make_private_dir(out_dir)  # once, not raced by the three writers
        writes = {
            kind: pool.submit(write_bytes_atomic, out_dir / REPORT_FILES[kind], data)
            for kind, data in contents.items()
        }
        return {kind: write.result().path for kind, write in writes.items()}


def write_run_reports(
    run_dir: Path,
    out_dir: Path | None = None,
    extra_sections: Mapping[str, object] | None = None,
) -> dict[str, Path]:
    """Render the reports of a run folder into it, or into ``out_dir`` (the reconciliation from
    its manifest; ``extra_sections``: title → JSON-like data, added after it). All three are
    rendered before the first is written, so a bad run folder leaves the old reports in place.
    The page's templates are compiled on a thread while the run folder is read."""
    events.step_started("write reports")  # timed apart in the run's timeline (benchmarks)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="report-templates") as pool:
        templates = pool.submit(compile_templates)
        run = open_run(run_dir)
        reconciliation = run.manifest.reconciliation.model_dump(mode="json")
        extra = {"reconciliation": reconciliation, **(extra_sections or {})}
        report = load_run_report(run, extra_sections=extra)
        templates.result()
    written = write_reports(report, out_dir or run_dir)
    events.step_finished("write reports", len(written))
    return written


def render_diff_json(diff: Mapping[str, Any]) -> bytes:
    """The diff dict as stored: key order as given (RunDiff's field order), UTF-8, indented."""
    return json.dumps(diff, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


def write_diff_reports(
    diff: Mapping[str, Any], out_dir: Path, lists: Sequence[ChangeLists] = ()
) -> dict[str, Path]:
    """Write diff.html, diff.xlsx and diff.json into ``out_dir``, atomically and owner-only;
    with ``lists`` (``RunDiff.lists``) also every added, removed and changed key, as CSV
    (etl.report.diff.lists) and as full sheets of diff.xlsx."""
    from etl.report.diff import diff_workbook_bytes, render_diff_html, write_change_lists

    contents = {
        "html": render_diff_html(diff).encode("utf-8"),
        "xlsx": diff_workbook_bytes(diff, lists),
        "json": render_diff_json(diff),
    }
    write_change_lists(lists, out_dir)
    return {
        kind: write_bytes_atomic(out_dir / DIFF_REPORT_FILES[kind], data).path
        for kind, data in contents.items()
    }


__all__ = [
    "CONTROL_KIND_LABELS",
    "DIFF_REPORT_FILES",
    "PASS_LABELS",
    "REPORT_FILES",
    "SEVERITY_LABELS",
    "PassShown",
    "ReportError",
    "RuleCount",
    "RunReport",
    "load_run_report",
    "open_run",
    "render_diff_html",
    "render_diff_json",
    "render_html",
    "render_json",
    "rule_counts",
    "write_change_lists",
    "write_diff_reports",
    "write_diff_xlsx",
    "write_reports",
    "write_run_reports",
    "write_xlsx",
]
