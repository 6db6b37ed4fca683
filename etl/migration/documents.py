"""The 移行用データ作成報告書 as HTML (one self-contained page), XLSX (every row, print-ready)
and a printable A4 PDF (headless Chromium's print-to-PDF of the same page)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rvgsrust_xlsxwriter import Workbook

from etl import __version__
from etl.export import Group
from etl.migration.group import MemberRow, group_reports, member_rows
from etl.migration.model import MigrationReport
from etl.passes import PassName
from etl.render import (
    header_format,
    print_pdf,
    print_ready,
    render,
    when,
    with_created,
    workbook_created,
)
from etl.report import CONTROL_KIND_LABELS, PASS_LABELS, SEVERITY_LABELS
from etl.write import make_private_dir, staged_dir, write_bytes_atomic

DOCUMENT = "migration-report"  # .html, .xlsx, .pdf
TITLE = "中間標準レイアウト移行用データ作成報告書"
HTML_ISSUES = 500  # rows of the 課題整理表 on the page; the workbook has every one
SOURCE_HEADERS = (
    "データ",
    "ファイル",
    "バイト数",
    "SHA-256",
    "入力",
    "データ",
    "除外",
    "対象外",
    "一致",
)
GROUP_HEADERS = (
    *("構成団体", "団体", "業務", "到達した回", "最終実行", "日時"),
    *("重大な不備", "突合の差異", "承認", "パッケージ", "報告書"),
)
ISSUE_HEADERS = ("ルール", "重大度", "業務", "ファイル", "キー", "項目", "初出", "状態", "理由")


def _cover_rows(report: MigrationReport) -> list[tuple[str, str]]:
    c = report.cover
    signed = ", ".join(c.signed_off_by) or "—"
    return [
        ("団体", f"{c.municipality_name}（{c.municipality_code}）"),
        ("移行元ベンダー", c.vendor),
        ("業務", "、".join(c.gyomu)),
        ("中間標準レイアウト", "、".join(c.layout_versions)),
        ("期間", f"{when(c.period[0])} 〜 {when(c.period[1])}"),
        ("実施者", ", ".join(c.ran_by)),
        ("承認者", signed),
        ("実施した回", "、".join(s.label for s in report.passes)),
    ]


def _issue_rows(report: MigrationReport, limit: int | None) -> list[list[str]]:
    frame = report.issues if limit is None else report.issues.head(limit)
    frame = frame.with_columns(frame["severity"].replace(SEVERITY_LABELS))
    return [["" if v is None else str(v) for v in row] for row in frame.iter_rows()]


def render_html(report: MigrationReport) -> str:
    c = report.cover
    return render(
        "etl.migration",
        "migration.html.j2",
        title=TITLE,
        subtitle=f"{c.municipality_name}（{c.municipality_code}） 移行元 {c.vendor}",
        toc=[
            ("cover", "表紙"),
            ("trend", "推移"),
            *((f"pass-{s.pass_name}", s.label) for s in report.passes),
            ("issues", "課題整理表"),
        ],
        tool_version=report.tool_version,
        cover_rows=_cover_rows(report),
        written_bars=[
            (s.label, sum(o.written for o in s.outputs), "change") for s in report.passes
        ],
        blocking_bars=[(s.label, s.run.blocking_findings, "error") for s in report.passes],
        passes=report.passes,
        changes=report.changes,
        issues_total=report.issues.height,
        issue_rows=_issue_rows(report, HTML_ISSUES),
        last_label=report.passes[-1].label,
        ISSUE_HEADERS=ISSUE_HEADERS,
        PASS_LABELS={PassName(k): v for k, v in PASS_LABELS.items()},
        SEVERITY_LABELS=SEVERITY_LABELS,
        CONTROL_KINDS=CONTROL_KIND_LABELS,
    )


def _list_sheet(
    wb: Workbook,
    name: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    footer: str,
) -> None:
    """One filterable list, print-ready (etl.render.print_ready): header row, frozen, filter,
    columns as wide as their first 200 values."""
    ws = print_ready(wb.add_worksheet(name), footer)
    ws.write_row(0, 0, list(headers), header_format(wb))
    for r, row in enumerate(rows, start=1):
        ws.write_row(r, 0, list(row))
    ws.freeze_panes(1, 0)
    if rows:
        ws.autofilter(0, 0, len(rows), len(headers) - 1)
    for col, h in enumerate(headers):
        width = max([len(str(h)) * 2, *(len(str(row[col])) for row in rows[:200])])
        ws.set_column_width(col, min(max(width, 8), 60))


def workbook_bytes(report: MigrationReport) -> bytes:
    """Sheets 表紙, one per pass (files and counts), 課題整理表: landscape, fit to the page width,
    header rows repeated on every page, a footer with the page number and the last run id."""
    last = report.passes[-1].run
    footer = f"{TITLE} {last.run_id}"
    wb = Workbook()
    wb.set_properties(title=TITLE, author="chukan-etl")
    _list_sheet(wb, "表紙", ["項目", "内容"], [list(r) for r in _cover_rows(report)], footer)
    for s in report.passes:
        rows: list[list[object]] = [
            [f.name, f.file, f.bytes, f.sha256, f.records_in, f.data_records, f.rejected,
             sum(f.filtered.values()), "一致" if f.balanced else "不一致"]
            for f in s.sources
        ]  # fmt: skip
        _list_sheet(wb, s.label, SOURCE_HEADERS, rows, footer)
    issues = [list(r) for r in _issue_rows(report, None)]
    _list_sheet(wb, "課題整理表", ISSUE_HEADERS, issues, footer)
    return with_created(wb.save_to_buffer(), workbook_created(last.finished_at))


def _write_into(folder: Path, report: MigrationReport, chromium: Path | None) -> list[Path]:
    html = write_bytes_atomic(folder / f"{DOCUMENT}.html", render_html(report).encode("utf-8"))
    xlsx = write_bytes_atomic(folder / f"{DOCUMENT}.xlsx", workbook_bytes(report))
    written = [html.path, xlsx.path]
    if chromium is not None:
        written.append(print_pdf(chromium, html.path, folder / f"{DOCUMENT}.pdf"))
    return written


def write_documents(
    report: MigrationReport, out_dir: Path, chromium: Path | None, *, replace: bool = False
) -> dict[str, Path]:
    """HTML, XLSX and (with Chromium) PDF into ``out_dir``, built in a staging folder and put
    in place together: the documents of one report always agree."""
    with staged_dir(out_dir, replace=replace) as stage:
        names = [p.name for p in _write_into(stage, report, chromium)]
    return {Path(n).suffix.lstrip("."): out_dir / n for n in names}


def group_html(group_name: str, rows: list[MemberRow], tool_version: str) -> str:
    return render(
        "etl.migration",
        "group.html.j2",
        title=f"移行状況一覧 {group_name}",
        subtitle=f"構成団体 {len({r.member for r in rows})}、業務 {len(rows)} 行",
        toc=[("members", "一覧")],
        tool_version=tool_version,
        rows=rows,
        HEADERS=GROUP_HEADERS,
    )


def _group_row(r: MemberRow) -> list[object]:
    return [
        r.member, r.municipality, r.gyomu, r.pass_reached, r.last_run, when(r.last_run_at),
        r.blocking, r.unexplained, "済" if r.signed_off else "未", "済" if r.packaged else "未",
        r.report,
    ]  # fmt: skip


def write_group_documents(
    group: Group, out_dir: Path, chromium: Path | None, *, replace: bool = False
) -> dict[str, Path]:
    """Each member's documents in ``out_dir/<nn>-<code>/`` and the overview beside them."""
    rows: list[MemberRow] = []
    with staged_dir(out_dir, replace=replace) as stage:
        for i, (name, root, report) in enumerate(group_reports(group), start=1):
            folder = f"{i:02d}-{report.cover.municipality_code}"
            make_private_dir(stage / folder)
            _write_into(stage / folder, report, chromium)
            rows += member_rows(name, report, root, f"{folder}/{DOCUMENT}.html")
        html = group_html(group.name, rows, __version__)
        page = write_bytes_atomic(stage / "group-overview.html", html.encode("utf-8"))
        wb = Workbook()
        wb.set_properties(title=f"移行状況一覧 {group.name}", author="chukan-etl")
        listed = [_group_row(r) for r in rows]
        _list_sheet(wb, "移行状況一覧", GROUP_HEADERS, listed, f"移行状況一覧 {group.name}")
        latest = max((r.last_run_at for r in rows), default="")  # reproducible, not now()
        xlsx = with_created(wb.save_to_buffer(), workbook_created(latest))
        write_bytes_atomic(stage / "group-overview.xlsx", xlsx)
        if chromium is not None:
            print_pdf(chromium, page.path, stage / "group-overview.pdf")
    kinds = ("html", "xlsx", "pdf") if chromium is not None else ("html", "xlsx")
    return {k: out_dir / f"group-overview.{k}" for k in kinds}
