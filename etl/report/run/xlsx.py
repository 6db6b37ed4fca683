"""The run report as an Excel workbook municipal staff can filter: 概要, 件数, 不備一覧, a sheet
per V2.1 file. Built in memory, then written atomically and owner-only (findings hold personal
data, even masked).

rust_xlsxwriter writes every sheet, the lists of findings with their header row only: their
rows (a findings-heavy run lists ~300k per million records) are written by columns into the
sheet XML, byte for byte what the writer gives, and deflated on threads (etl.render's
list_sheets and with_created; benchmarks/bench_reports.py). Values stay text: no string becomes
a formula, a link or a number.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import polars as pl
from rvgsrust_xlsxwriter import Workbook, Worksheet

from etl.findings import Severity
from etl.render import (
    EXCEL_ROWS,
    MAX_CELL,
    SHARED_STRINGS,
    filled_lists,
    header_format,
    print_ready,
    with_created,
    workbook_created,
)
from etl.report.labels import (
    CONTROL_HEADERS,
    CONTROL_KIND_LABELS,
    FINDING_HEADERS,
    PASS_LABELS,
    SEVERITY_LABELS,
    UNEXPLAINED_WARNING,
)
from etl.report.model import RunReport
from etl.report.run.reconciliation import control_rows
from etl.write import write_bytes_atomic

MAX_ROWS = EXCEL_ROWS - 1  # the header row takes one
SHEET_NAME_MAX = 31
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
WIDTHS = {"重大度": 8, "ルール": 24, "業務": 8, "ファイル": 10, "レコード番号": 12, "キー": 20,
          "項目": 14, "値": 20, "内容": 70}  # fmt: skip


def sheet_name(name: str, taken: set[str]) -> str:
    """A legal, unique sheet name: no []:*?/\\, not quoted, at most 31 characters."""
    base = _BAD_SHEET_CHARS.sub("_", name).strip("'").strip() or "sheet"
    candidate = base[:SHEET_NAME_MAX]
    n = 2
    while candidate.lower() in taken:  # Excel compares sheet names case-insensitively
        suffix = f" ({n})"
        candidate = base[: SHEET_NAME_MAX - len(suffix)] + suffix
        n += 1
    taken.add(candidate.lower())
    return candidate


def staff_rows(findings: pl.DataFrame) -> pl.DataFrame:
    """Findings with Japanese headers and severities, cells cut to Excel's limit."""
    sev = pl.col("severity").replace_strict(SEVERITY_LABELS, default=pl.col("severity"))
    text = [c for c in FINDING_HEADERS if c not in ("severity", "record_no")]
    return (
        findings.with_columns(sev, pl.col(text).str.slice(0, MAX_CELL))
        .select(list(FINDING_HEADERS))
        .rename(FINDING_HEADERS)
    )


class _Book:
    """A thin wrapper keeping the workbook's formats and sheet names in one place.

    ``rows_by_writer``: rust_xlsxwriter writes the lists' rows itself, cell by cell (the
    oracle the tests and benchmarks/bench_reports.py compare the columnar lists with)."""

    def __init__(self, report: RunReport, rows_by_writer: bool = False) -> None:
        self.wb = Workbook()
        self.wb.set_properties(title=f"移行実行レポート {report.vendor}", author="chukan-etl")
        self.head = header_format(self.wb)
        self.title = self.wb.add_format().set_bold().set_font_size(14)
        self.bold = self.wb.add_format().set_bold()
        self.alert = self.wb.add_format().set_bold().set_font_color("#FFFFFF")
        self.alert.set_background_color("#C62828")
        self.wrap = self.wb.add_format().set_text_wrap().set_vertical_align("top")
        self.taken: set[str] = set()
        self.members: list[str] = []  # the archive member of each sheet, in sheet order
        self.lists: dict[str, pl.DataFrame] = {}  # member → the rows filled in after writing
        self.rows_by_writer = rows_by_writer
        run = report.meta.run_id or report.created_at
        self.footer = f"移行実行レポート {report.vendor} {run}"

    def sheet(self, name: str, header_row: int | None = 0) -> Worksheet:
        """A new sheet, print-ready (etl.render.print_ready); ``header_row`` repeats on every
        printed page (None: a sheet of several small tables)."""
        self.members.append(f"xl/worksheets/sheet{len(self.members) + 1}.xml")
        return print_ready(
            self.wb.add_worksheet(sheet_name(name, self.taken)), self.footer, header_row
        )

    def table(
        self, ws: Worksheet, row: int, headers: Sequence[str], rows: Iterable[Sequence[object]]
    ) -> int:
        """Header + rows from ``row`` (the small tables: counts, rules); returns the next free
        row."""
        ws.write_row(row, 0, list(headers), self.head)
        for r in rows:
            row += 1
            ws.write_row(row, 0, ["" if v is None else v for v in r])
        return row + 2

    def findings(self, ws: Worksheet, frame: pl.DataFrame, twin_of: str | None = None) -> str:
        """A filterable list: frozen header, autofilter, Japanese headers. Returns the sheet's
        archive member. The writer gets the header and settings; the rows are filled in when
        the book closes (etl.render.filled_lists).

        ``twin_of``: the member of a list with exactly these rows, whose sheet bytes (and
        deflate) this one shares."""
        rows = staff_rows(frame.head(MAX_ROWS)) if twin_of is None else self.lists[twin_of]
        for col, header in enumerate(rows.columns):
            ws.set_column_width(col, WIDTHS.get(header, 12))
            if header == "内容":
                ws.set_column_format(col, self.wrap)
        ws.write_row(0, 0, rows.columns, self.head)  # also over an empty list
        member = self.members[-1]
        if self.rows_by_writer:
            ws.write_dataframe(1, 0, rows.to_arrow(), write_header=False)
        else:
            self.lists[member] = rows
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(rows.height, 1), len(rows.columns) - 1)
        return member

    def close(self, created: str) -> bytes:
        xlsx = self.wb.save_to_buffer()
        if not self.lists:  # rows_by_writer
            return with_created(xlsx, workbook_created(created))
        with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
            written = {m: archive.read(m) for m in [*self.lists, SHARED_STRINGS]}
        return with_created(xlsx, workbook_created(created), filled_lists(written, self.lists))


def _overview(book: _Book, report: RunReport) -> None:
    ws = book.sheet("概要", header_row=None)
    ws.set_column_width(0, 22)
    ws.set_column_width(1, 60)
    ws.write(0, 0, "移行実行レポート", book.title)
    row = 2
    meta = report.meta
    if meta.override:
        ws.write(row, 0, "ゲートを上書きして実行されました", book.alert)
        ws.write(row, 1, f"理由: {meta.override}", book.alert)
        row += 2
    facts: list[tuple[str, object]] = [
        ("ベンダー", report.vendor),
        ("パス", PASS_LABELS.get(meta.pass_name or "", meta.pass_name or "")),
        ("実行ID", meta.run_id or ""),
        ("実行者", meta.started_by or ""),
        ("開始日時", meta.started_at or ""),
        ("作成日時", report.created_at),
        ("レイアウト版", report.layout_version),
        ("ツール版", f"chukan-etl {report.tool_version}"),
        ("件数の整合", "一致" if report.balanced else "不一致あり"),
        ("不備 合計", report.total),
        ("エラー", report.severity_total(Severity.ERROR)),
        ("警告", report.severity_total(Severity.WARNING)),
    ]
    facts += [("ゲートの警告", w) for w in meta.gate_warnings]
    if report.total > MAX_ROWS:
        facts.append(("注意", f"不備一覧は先頭 {MAX_ROWS:,} 件のみ。全件は findings.csv を参照"))
    for label, value in facts:
        ws.write(row, 0, label, book.bold)
        ws.write(row, 1, value)
        row += 1
    row += 1
    rules = (
        (c.rule, SEVERITY_LABELS.get(c.severity, c.severity), c.count) for c in report.rule_counts
    )
    book.table(ws, row, ["ルール", "重大度", "件数"], rules)


def _counts(book: _Book, report: RunReport) -> None:
    ws = book.sheet("件数", header_row=None)
    for col in range(9):
        ws.set_column_width(col, 14)
    row = book.table(
        ws,
        0,
        ["ソース", "ファイル", "入力件数", "出力", "除外(読取不可)", "対象外", "整合"],
        (
            (s.name, s.file, s.records_in, s.data_records, s.rejected, s.filtered_total,
             "一致" if s.adds_up else "不一致")
            for s in report.sources
        ),
    )  # fmt: skip
    book.table(
        ws,
        row,
        ["業務", "ファイル", "名称", "元データ", "元データ件数", "出力件数", "集約元件数",
         "除外(変換不可)", "除外の理由", "除外の一覧", "対象外", "整合"],
        (
            (o.gyomu, o.path, o.name, o.source, o.source_data_records, o.written,
             "" if o.aggregated_records is None else o.aggregated_records, o.rejected_total,
             "\n".join(f"{r}: {n}" for r, n in o.rejected), o.rejects_path or "",
             o.filtered_total, "一致" if o.adds_up else "不一致")
            for o in report.outputs
        ),
    )  # fmt: skip


def _reconciliation(book: _Book, report: RunReport) -> None:
    """Sheet 突合, when the run has control rows: one row per control."""
    rows = control_rows(report.extra_sections.get("reconciliation"))
    if rows is None:
        return
    names = {(o.gyomu, o.record_file): o.name for o in report.outputs}
    headers = ("業務", "ファイル", "名称", *CONTROL_HEADERS)
    ws = book.sheet("突合", header_row=None)
    for col, width in enumerate((12, 12, 12, 16, 12, 12, 12, 12, 12, 12, 12)):
        ws.set_column_width(col, width)
    book.table(
        ws,
        0,
        headers,
        (
            (r.gyomu, r.record_file, names.get((r.gyomu, r.record_file), ""), r.label,
             CONTROL_KIND_LABELS.get(r.kind, r.kind), r.code or "", r.source, r.target,
             r.filtered, r.unexplained, "✗ " + UNEXPLAINED_WARNING if r.unexplained else "✓")
            for r in rows
        ),
    )  # fmt: skip
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(rows), 1), len(headers) - 1)


def workbook_bytes(report: RunReport, *, rows_by_writer: bool = False) -> bytes:
    book = _Book(report, rows_by_writer)
    _overview(book, report)
    _counts(book, report)
    _reconciliation(book, report)
    everything = book.findings(book.sheet("不備一覧"), report.findings)

    def listed(name: str, own: pl.DataFrame) -> None:
        # a list holding every finding (one file has them all) is the 不備一覧 again
        twin = everything if own.height == report.total and not book.rows_by_writer else None
        book.findings(book.sheet(name), own, twin)

    for o in report.outputs:
        own = report.findings.filter(
            (pl.col("gyomu") == o.gyomu) & (pl.col("file") == o.record_file)
        )
        listed(f"{o.gyomu}_{o.record_file} {o.name}", own)
    # Findings on input files (undecodable records, missing trailers) belong to no V2.1 file.
    inputs = report.findings.filter(pl.col("gyomu") == "")
    if inputs.height:
        listed("入力ファイル", inputs)
    return book.close(report.created_at)


def write_xlsx(report: RunReport, path: Path) -> None:
    write_bytes_atomic(path, workbook_bytes(report))
