"""The run report as ONE self-contained HTML page in Japanese (templates/report.html.j2).

Inline CSS, inline JS, charts as inline SVG: the page opens offline, from a USB stick or a mail
attachment, and never fetches anything (etl.render inlines the assets). Every value comes from
data and is escaped by the template environment. This module prepares what the template shows:
totals, labels, the sample rows of each rule, the extra sections.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from etl.findings import Severity
from etl.reconcile import ControlRow
from etl.render import environment, render
from etl.report.labels import (
    CONTROL_HEADERS,
    CONTROL_KIND_LABELS,
    EXTRA_SECTION_TITLES,
    PASS_LABELS,
    SEVERITY_LABELS,
    UNEXPLAINED_WARNING,
)
from etl.report.model import RuleCount, RunReport
from etl.report.run.reconciliation import control_rows, rows_by_file

CHART_RULES = 15  # bars in the chart; the table below it lists every rule
PACKAGE = "etl.report.run"  # whose templates/ folder holds report.html.j2


@dataclass(frozen=True, slots=True)
class RuleDetail:
    """One rule's 明細: its first rows (report.samples) and how many more there are."""

    index: int  # 1-based, the anchor rule-<index>
    count: RuleCount
    rows: list[dict[str, Any]]
    more: int


@dataclass(frozen=True, slots=True)
class ReconciliationView:
    """The 突合 section: control rows grouped per V2.1 file (caption, rows), or, when the data
    is not the run's own reconciliation, the data itself (shown as a nested value)."""

    data: object
    rows: tuple[ControlRow, ...] | None
    files: list[tuple[str, list[ControlRow]]]
    unexplained: int  # rows with a difference nothing explains
    files_counted: int  # input and V2.1 files whose record counts the 件数 section checks
    balanced: bool


@dataclass(frozen=True, slots=True)
class ExtraSection:
    anchor: str
    title: str
    key: str
    data: object


def _file_labels(report: RunReport) -> dict[tuple[str, str], str]:
    """(業務, file) of a finding → what staff recognise: the V2.1 path or the delivered file."""
    labels = {
        (o.gyomu, o.record_file): f"{o.gyomu}/{o.record_file} {o.name}" for o in report.outputs
    }
    labels |= {("", s.name): f"入力 {s.file}" for s in report.sources}
    return labels


def _rule_details(report: RunReport) -> list[RuleDetail]:
    details = []
    for index, rc in enumerate(report.rule_counts, 1):  # one per rule, not per finding
        rows = report.samples.filter(
            (pl.col("rule") == rc.rule) & (pl.col("severity") == rc.severity)
        )
        details.append(RuleDetail(index, rc, rows.to_dicts(), rc.count - rows.height))
    return details


def reconciliation_view(data: object, report: RunReport) -> ReconciliationView:
    rows = control_rows(data)
    names = {(o.gyomu, o.record_file): f"{o.path} {o.name}" for o in report.outputs}
    files = [
        (names.get(key, f"{key[0]}/{key[1]}"), file_rows)
        for key, file_rows in rows_by_file(rows or ()).items()
    ]
    return ReconciliationView(
        data=data,
        rows=rows,
        files=files,
        unexplained=sum(1 for r in rows or () if r.unexplained),
        files_counted=len(report.sources) + len(report.outputs),
        balanced=report.balanced,
    )


def _extra_sections(report: RunReport) -> list[ExtraSection]:
    return [
        ExtraSection(
            "reconciliation" if key == "reconciliation" else f"extra-{i}",
            EXTRA_SECTION_TITLES.get(key, key),
            key,
            data,
        )
        for i, (key, data) in enumerate(report.extra_sections.items(), 1)
    ]


def _labels() -> dict[str, object]:
    return {
        "PASS_LABELS": PASS_LABELS,
        "SEVERITY_LABELS": SEVERITY_LABELS,
        "CONTROL_HEADERS": CONTROL_HEADERS,
        "CONTROL_KIND_LABELS": CONTROL_KIND_LABELS,
        "UNEXPLAINED_WARNING": UNEXPLAINED_WARNING,
    }


def compile_templates() -> None:
    """Compile every template of the page into the environment's cache (pure Python, under the
    GIL: a run does it on a thread while the findings are read, which hold the GIL little)."""
    env = environment(PACKAGE)
    for name in env.list_templates():
        env.get_template(name)


def reconciliation_html(data: object, report: RunReport) -> str:
    """The body of the 突合 section alone: status, one table per V2.1 file, the link to the
    record counts."""
    module: Any = environment(PACKAGE).get_template("reconciliation.html.j2").make_module(_labels())
    return str(module.reconciliation(reconciliation_view(data, report)))


def render_html(report: RunReport) -> str:
    meta = report.meta
    extra = _extra_sections(report)
    toc: Sequence[tuple[str, str]] = [
        ("summary", "概要"),
        ("counts", "件数"),
        ("findings", "検査結果"),
        *((s.anchor, s.title) for s in extra),
    ]
    labels = _file_labels(report)
    return render(
        PACKAGE,
        "report.html.j2",
        **_labels(),
        title=f"移行実行レポート {report.vendor} {meta.pass_name or ''}".strip(),
        toc=toc,
        tool_version=report.tool_version,
        report=report,
        meta=meta,
        pass_label=PASS_LABELS.get(meta.pass_name or "", meta.pass_name or ""),
        errors=report.severity_total(Severity.ERROR),
        warnings=report.severity_total(Severity.WARNING),
        file_label=lambda gyomu, file: labels.get((gyomu, file), f"{gyomu}/{file}"),
        chart_bars=[(c.rule, c.count, c.severity) for c in report.rule_counts[:CHART_RULES]],
        rule_details=_rule_details(report),
        extra_sections=extra,
        reconciliation_view=lambda data: reconciliation_view(data, report),
    )
