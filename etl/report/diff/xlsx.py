"""The pass-to-pass diff as an Excel workbook staff can filter: 概要, 変更件数, 変更サンプル,
追加一覧, 削除一覧, 変更一覧 (every record, from the diff's ChangeLists), 不備の増減, 件数の比較.
Built from ``RunDiff.to_dict()`` and the lists; the same diff gives the same bytes (the
workbook's date is the new run's own timestamp). Rows are streamed to a scratch file
(xlsxwriter's constant_memory), so a list of millions of keys does not sit in memory as cells.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter  # type: ignore[import-untyped]  # no type information shipped

from etl.diff import CHANGED_COLUMNS, ChangeLists
from etl.findings import KEY_SEPARATOR
from etl.render import DATA_ONLY, EXCEL_ROWS, HEADER_FORMAT, MAX_CELL, workbook_created
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
    """Workbook, formats and the filterable-list writer of the diff workbook."""

    def __init__(self, path: Path, diff: Diff) -> None:
        options = {"constant_memory": True, "tmpdir": str(path.parent), **DATA_ONLY}
        self.wb: Any = xlsxwriter.Workbook(str(path), options)
        self.wb.set_properties(
            {
                "title": "パス間差分レポート",
                "author": "chukan-etl",
                "created": workbook_created(str(diff["new_run"].get("created_at", ""))),
            }
        )
        self.head = self.wb.add_format(HEADER_FORMAT)
        self.title = self.wb.add_format({"bold": True, "font_size": 14})
        self.bold = self.wb.add_format({"bold": True})

    def rows(
        self,
        ws: Any,
        row: int,
        headers: Sequence[str],
        rows: Iterable[Sequence[Any]],
        overflow: str = "",
    ) -> int:
        """Header + rows from ``row``; returns the last row written (cell by cell: xlsxwriter).

        A sheet holds EXCEL_ROWS rows: past them, one last row says how many were left out
        and where they are (``overflow``, which names the CSV).
        """
        ws.write_row(row, 0, headers, self.head)
        left_out = 0
        for r in rows:
            if row + 2 >= EXCEL_ROWS:
                left_out += 1
                continue
            row += 1
            ws.write_row(row, 0, ["" if v is None else _text(v) for v in r])
        if left_out:
            row += 1
            ws.write(row, 0, f"以降の{left_out:,}件はシートに収まりません: {overflow}", self.bold)
        return row

    def listing(
        self,
        name: str,
        headers: Sequence[str],
        rows: Iterable[Sequence[Any]],
        widths: Sequence[int],
        overflow: str = "",
    ) -> None:
        """A sheet holding one filterable list: frozen header row, autofilter."""
        ws = self.wb.add_worksheet(name)
        for col, width in enumerate(widths):
            ws.set_column(col, col, width)
        last = self.rows(ws, 0, headers, rows, overflow)
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(last, 1), len(headers) - 1)


def _overview(book: _DiffBook, diff: Diff) -> None:
    ws = book.wb.add_worksheet("概要")
    ws.set_column(0, 0, 18)
    ws.set_column(1, 12, 14)
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


def _list_rows(lists: Sequence[ChangeLists], kind: str) -> Iterable[tuple[Any, ...]]:
    """Every record (or changed item) of one kind, the key joined like a finding's key."""
    for one in lists:
        frame: pl.DataFrame = getattr(one, kind)
        where = (one.gyomu, one.record_file, one.name)
        rest = list(CHANGED_COLUMNS) if kind == "changed" else []
        keyed = frame.select(pl.concat_str(list(one.key), separator=KEY_SEPARATOR), *rest)
        for row in keyed.iter_rows():  # xlsxwriter writes cell by cell anyway
            yield (*where, *row)


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
        path = Path(tmp) / "diff.xlsx"
        book = _DiffBook(path, diff)
        _overview(book, diff)
        changes = ((f["gyomu"], f["record_file"], f["name"], c["item"], c["changed"])
                   for f in diff["files"] for c in f["item_changes"])  # fmt: skip
        book.listing("変更件数", CHANGE_HEADERS, changes, (10, 12, 18, 20, 10))
        book.listing("変更サンプル", SAMPLE_HEADERS, _samples(diff),
                     (10, 12, 18, 8, 20, 18, 24, 24))  # fmt: skip
        for kind, sheet in LIST_SHEETS:
            headers = (*KEY_HEADERS, *CHANGED_COLUMNS) if kind == "changed" else KEY_HEADERS
            csvs = "、".join(list_file_name(kind, one) for one in lists)
            book.listing(sheet, headers, _list_rows(lists, kind), (10, 12, 18, 24, 18, 24, 24),
                         overflow=f"全件は {csvs} にあります")  # fmt: skip
        book.listing("不備の増減", FINDING_HEADERS, _findings(diff),
                     (8, 24, 8, 8, 10, 12, 20, 14, 20, 70))  # fmt: skip
        book.listing("件数の比較", COUNT_HEADERS, _counts(diff), (14, 10, 12, 36, 10, 10, 10))
        book.wb.close()
        return path.read_bytes()


def write_diff_xlsx(diff: Diff, path: Path, lists: Sequence[ChangeLists] = ()) -> None:
    write_bytes_atomic(path, diff_workbook_bytes(diff, lists))
