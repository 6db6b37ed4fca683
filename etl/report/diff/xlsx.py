"""The pass-to-pass diff as an Excel workbook staff can filter: 概要, 変更件数, 変更サンプル,
追加一覧, 削除一覧, 変更一覧 (every record, from the diff's ChangeLists), 不備の増減, 件数の比較.
Built from ``RunDiff.to_dict()`` and the lists; the same diff gives the same bytes (the
workbook's date is the new run's own timestamp). The full lists go to the writer as Arrow
frames (rust_xlsxwriter, as report.xlsx) and their sheets are streamed to a private scratch
folder (constant memory), so a list of millions of keys neither loops in Python nor sits in
memory as cells.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl
from rvgsrust_xlsxwriter import Workbook, Worksheet

from etl.diff import CHANGED_COLUMNS, ChangeLists
from etl.findings import KEY_SEPARATOR
from etl.render import (
    EXCEL_ROWS,
    MAX_CELL,
    header_format,
    print_ready,
    with_created,
    workbook_created,
)
from etl.report.diff.html import Diff, run_label
from etl.report.diff.lists import list_file_name
from etl.report.labels import FINDING_CHANGE_LABELS, PASS_LABELS, SEVERITY_LABELS
from etl.write import write_bytes_atomic

CHANGE_HEADERS = ("業務", "ファイル", "名称", "項目", "変更件数")
SAMPLE_HEADERS = ("業務", "ファイル", "名称", "区分", "キー", "項目", "旧値", "新値")
FINDING_HEADERS = ("区分", "ルール", "重大度", "業務", "ファイル", "レコード番号", "キー", "項目",
                   "値", "内容")  # fmt: skip
COUNT_HEADERS = ("区分", "業務", "ファイル", "件数", "旧", "新", "増減")
KEY_HEADERS = ("業務", "ファイル", "名称", "キー")
LIST_SHEETS = (("added", "追加一覧"), ("removed", "削除一覧"), ("changed", "変更一覧"))


def _text(value: object) -> object:
    return value[:MAX_CELL] if isinstance(value, str) else value


class _DiffBook:
    """Workbook, formats and the filterable-list writers of the diff workbook."""

    def __init__(self, scratch: Path, footer: str) -> None:
        self.footer = footer
        self.wb = Workbook()
        self.wb.set_tempdir(str(scratch))
        self.wb.set_properties(title="パス間差分レポート", author="chukan-etl")
        self.head = header_format(self.wb)
        self.title = self.wb.add_format().set_bold().set_font_size(14)
        self.bold = self.wb.add_format().set_bold()

    def rows(
        self, ws: Worksheet, row: int, headers: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> int:
        """Header + rows from ``row`` (the small tables); returns the last row written."""
        ws.write_row(row, 0, list(headers), self.head)
        for r in rows:
            row += 1
            ws.write_row(row, 0, ["" if v is None else _text(v) for v in r])
        return row

    def _sheet(self, name: str, widths: Sequence[int]) -> Worksheet:
        ws = self.wb.add_worksheet(name, constant_memory=True)  # rows go to a scratch file
        print_ready(ws, self.footer)
        for col, width in enumerate(widths):
            ws.set_column_width(col, width)
        return ws

    @staticmethod
    def _filterable(ws: Worksheet, last: int, columns: int) -> None:
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(last, 1), columns - 1)

    def listing(
        self,
        name: str,
        headers: Sequence[str],
        rows: Iterable[Sequence[Any]],
        widths: Sequence[int],
    ) -> None:
        """A sheet holding one small filterable list: frozen header row, autofilter."""
        ws = self._sheet(name, widths)
        self._filterable(ws, self.rows(ws, 0, headers, rows), len(headers))

    def full_listing(
        self, name: str, headers: Sequence[str], frame: pl.DataFrame, widths: Sequence[int],
        overflow: str,
    ) -> None:  # fmt: skip
        """A sheet holding a whole list (a frame, written columnar). A sheet holds EXCEL_ROWS
        rows: past them, one last row says how many were left out and where they are
        (``overflow``, which names the CSV)."""
        fits = EXCEL_ROWS - 2  # the header row and the note
        shown = frame.head(fits) if frame.height > fits else frame
        shown = shown.with_columns(pl.col(pl.String).str.slice(0, MAX_CELL))
        ws = self._sheet(name, widths)
        ws.write_row(0, 0, list(headers), self.head)
        ws.write_dataframe(1, 0, shown.to_arrow(), write_header=False)
        last = shown.height
        if frame.height > shown.height:
            last += 1
            note = f"以降の{frame.height - shown.height:,}件はシートに収まりません: {overflow}"
            ws.write(last, 0, note, self.bold)
        self._filterable(ws, last, len(headers))


def _overview(book: _DiffBook, diff: Diff) -> None:
    ws = print_ready(book.wb.add_worksheet("概要"), book.footer, header_row=None)
    ws.set_column_width(0, 18)
    for col in range(1, 13):
        ws.set_column_width(col, 14)
    ws.write(0, 0, "パス間差分レポート", book.title)
    old, new = diff["old_run"], diff["new_run"]
    (op, oid), (np_, nid) = run_label(old), run_label(new)
    facts = [
        ("パス", PASS_LABELS.get(op, op), PASS_LABELS.get(np_, np_)),
        ("実行ID", oid, nid),
        ("作成日時", old.get("created_at", ""), new.get("created_at", "")),
        ("ベンダー", old.get("vendor", ""), new.get("vendor", "")),
        ("レイアウト版", old.get("layout_version", ""), new.get("layout_version", "")),
        ("ツール版", old.get("tool_version", ""), new.get("tool_version", "")),
    ]
    row = book.rows(ws, 2, ("", "旧", "新"), facts) + 2
    fd = diff["findings"]
    row = book.rows(
        ws,
        row,
        ("不備", "旧", "新", "解消", "新規", "継続"),
        [("合計", fd["old_total"], fd["new_total"], fd["fixed"], fd["new"], fd["persisting"])]
        + [(r["rule"], r["old_total"], r["new_total"], r["fixed"], r["new"], r["persisting"])
           for r in fd["by_rule"]],
    ) + 2  # fmt: skip
    book.rows(
        ws,
        row,
        ("業務", "ファイル", "名称", "旧件数", "新件数", "追加", "削除", "変更", "変更なし",
         "重複で除外(旧)", "重複で除外(新)"),
        ((f["gyomu"], f["record_file"], f["name"], f["old_records"], f["new_records"],
          f["added"], f["removed"], f["changed"], f["unchanged"], f["excluded_records_old"],
          f["excluded_records_new"]) for f in diff["files"]),
    )  # fmt: skip


def _samples(diff: Diff) -> Iterable[tuple[Any, ...]]:
    for f in diff["files"]:
        where = (f["gyomu"], f["record_file"], f["name"])
        for s in f["changed_samples"]:
            yield (*where, "変更", s["key"], s["item"], s["old"], s["new"])
        for kind, label in (("added", "追加"), ("removed", "削除")):
            for s in f[f"{kind}_samples"]:
                for item, value in s["values"].items():
                    old, new = ("", value) if kind == "added" else (value, "")
                    yield (*where, label, s["key"], item, old, new)


def _list_frame(lists: Sequence[ChangeLists], kind: str) -> pl.DataFrame:
    """Every record (or changed item) of one kind, the key joined like a finding's key, under
    the sheet's headers (KEY_HEADERS, then CHANGED_COLUMNS for changed items)."""
    rest = list(CHANGED_COLUMNS) if kind == "changed" else []
    gyomu, record_file, name, key = KEY_HEADERS
    frames = [
        getattr(one, kind).select(
            pl.lit(one.gyomu, pl.String).alias(gyomu),
            pl.lit(one.record_file, pl.String).alias(record_file),
            pl.lit(one.name, pl.String).alias(name),
            pl.concat_str(list(one.key), separator=KEY_SEPARATOR).alias(key),
            *(pl.col(c).cast(pl.String) for c in rest),
        )
        for one in lists
    ]
    schema = dict.fromkeys([*KEY_HEADERS, *rest], pl.String())
    return pl.concat(frames) if frames else pl.DataFrame(schema=schema)


def _findings(diff: Diff) -> Iterable[tuple[Any, ...]]:
    fd = diff["findings"]
    for key, label in FINDING_CHANGE_LABELS.items():
        for s in fd[f"{key}_samples"]:
            yield (label, s["rule"], SEVERITY_LABELS.get(s["severity"], s["severity"]),
                   s["gyomu"], s["file"], s["record_no"], s["key"], s["item"], s["value"],
                   s["message"])  # fmt: skip


def _counts(diff: Diff) -> Iterable[tuple[Any, ...]]:
    def line(kind: str, g: str, f: str, what: str, p: Mapping[str, Any]) -> tuple[Any, ...]:
        return (kind, g, f, what, p["old"], p["new"], (p["new"] or 0) - (p["old"] or 0))

    for s in diff["sources"]:
        for key, what in (("records_in", "入力件数"), ("data_records", "出力"),
                          ("rejected", "除外(読取不可)")):  # fmt: skip
            yield line("入力ファイル", "", s["name"], what, s[key])
        for r in s["filtered"]:
            yield line("入力ファイル", "", s["name"], f"対象外: {r['reason']}", r["count"])
    for o in diff["outputs"]:
        for key, what in (("source_data_records", "元データ件数"), ("written", "出力件数")):
            yield line("V2.1 ファイル", o["gyomu"], o["record_file"], what, o[key])
        for r in o["filtered"]:
            yield line("V2.1 ファイル", o["gyomu"], o["record_file"], f"対象外: {r['reason']}",
                       r["count"])  # fmt: skip


def diff_workbook_bytes(diff: Diff, lists: Sequence[ChangeLists] = ()) -> bytes:
    with tempfile.TemporaryDirectory(prefix="chukan-diff-xlsx-") as tmp:
        ids = (run_label(diff["old_run"])[1], run_label(diff["new_run"])[1])
        book = _DiffBook(Path(tmp), f"パス間差分レポート {ids[0]} → {ids[1]}")
        _overview(book, diff)
        changes = ((f["gyomu"], f["record_file"], f["name"], c["item"], c["changed"])
                   for f in diff["files"] for c in f["item_changes"])  # fmt: skip
        book.listing("変更件数", CHANGE_HEADERS, changes, (10, 12, 18, 20, 10))
        book.listing("変更サンプル", SAMPLE_HEADERS, _samples(diff),
                     (10, 12, 18, 8, 20, 18, 24, 24))  # fmt: skip
        for kind, sheet in LIST_SHEETS:
            headers = (*KEY_HEADERS, *CHANGED_COLUMNS) if kind == "changed" else KEY_HEADERS
            overflow = "全件は {} にあります".format(
                "、".join(list_file_name(kind, one) for one in lists)
            )
            widths = (10, 12, 18, 24, 18, 24, 24)
            book.full_listing(sheet, headers, _list_frame(lists, kind), widths, overflow)
        book.listing("不備の増減", FINDING_HEADERS, _findings(diff),
                     (8, 24, 8, 8, 10, 12, 20, 14, 20, 70))  # fmt: skip
        book.listing("件数の比較", COUNT_HEADERS, _counts(diff), (14, 10, 12, 36, 10, 10, 10))
        created = workbook_created(str(diff["new_run"].get("created_at", "")))
        return with_created(book.wb.save_to_buffer(), created)


def write_diff_xlsx(diff: Diff, path: Path, lists: Sequence[ChangeLists] = ()) -> None:
    write_bytes_atomic(path, diff_workbook_bytes(diff, lists))
