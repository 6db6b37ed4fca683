"""Full diff lists: every added, removed and changed key, as frames, CSV and full xlsx sheets."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from hypothesis import given, settings

from etl.diff import diff_record_file_lists
from etl.diff.model import FindingsDelta, RunDiff, RunInfo
from etl.layout.model import Item, ItemType, RecordFile
from etl.report import DIFF_REPORT_FILES, write_diff_reports
from etl.report.diff import xlsx as diff_xlsx
from etl.report.diff.xlsx import diff_workbook_bytes

from .test_frames import ITEMS, RF, Case, cases, frame

SECRET = "123456789012"
# a key with a sensitive part: the lists must mask it like every report does
KEYED = RecordFile(
    id="k",
    name="キー",
    items=(
        Item("id", ItemType.DIGITS, 5, required=True),
        Item("番号", ItemType.DIGITS, 12, sensitive=True),
        Item("a", ItemType.TEXT, 10),
    ),
    key=("id", "番号"),
)


@settings(max_examples=40, deadline=None)
@given(cases())
def test_lists_hold_every_edit_not_only_the_samples(case: Case) -> None:
    d, lists = diff_record_file_lists(RF, frame(case.old), frame(case.new), samples=1, gyomu="g")
    assert lists.added["id"].to_list() == sorted(case.added)
    assert lists.removed["id"].to_list() == sorted(case.removed)
    got = set(lists.changed.select("id", "項目").iter_rows())
    assert got == {(k, i) for k, items in case.changed.items() for i in items}
    assert lists.changed.height == sum(c.changed for c in d.item_changes)
    assert lists.changed.columns == ["id", "項目", "旧値", "新値"]
    # sorted by key, then item in layout order; samples are the head of the same list
    order = {n: p for p, n in enumerate(("id", *ITEMS))}
    rows = [(k, order[i]) for k, i in lists.changed.select("id", "項目").iter_rows()]
    assert rows == sorted(rows)
    assert [(s.key, s.item) for s in d.changed_samples] == rows_head(lists.changed, 1)
    assert len(d.added_samples) <= 1 and len(d.removed_samples) <= 1
    for value in lists.changed.filter(pl.col("項目") == "b")["旧値"].to_list():
        assert value == "" or value.startswith("*")  # b is sensitive


def rows_head(changed: pl.DataFrame, n: int) -> list[tuple[str, str]]:
    return [(k, i) for k, i in changed.select("id", "項目").head(n).iter_rows()]


def _keyed(rows: dict[tuple[str, str], str]) -> pl.DataFrame:
    data = {"id": [k[0] for k in rows], "番号": [k[1] for k in rows], "a": list(rows.values())}
    return pl.DataFrame(data, schema=dict.fromkeys(["id", "番号", "a"], pl.String))


def _diff_with_lists(n_added: int) -> RunDiff:
    old = _keyed({("00000", SECRET): "x", ("00001", SECRET): "old"})
    new = _keyed(
        {("00001", SECRET): "new"} | {(f"{i:05d}", SECRET): "n" for i in range(2, 2 + n_added)}
    )
    d, lists = diff_record_file_lists(KEYED, old, new, samples=2, gyomu="g")
    run = RunInfo("p", "", "r", "2026-04-01T09:00:00+09:00", "v", "2.1", "0", "utf-8")
    empty = FindingsDelta(0, 0, 0, 0, 0, (), (), (), ())
    return RunDiff(run, run, (d,), empty, (), (), lists=(lists,))


def test_csv_lists_beside_diff_json_masked_bom_crlf_owner_only(tmp_path: Path) -> None:
    diff = _diff_with_lists(30)
    out = tmp_path / "diffs" / "a__b"
    written = write_diff_reports(diff.to_dict(), out, diff.lists)
    assert set(written) == set(DIFF_REPORT_FILES)
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        ["added_g_k.csv", "removed_g_k.csv", "changed_g_k.csv", *DIFF_REPORT_FILES.values()]
    )
    added = (out / "added_g_k.csv").read_bytes()
    assert (
        added.startswith(b"\xef\xbb\xbf")
        and b"\r\n" in added
        and b"\n" not in added.replace(b"\r\n", b"")
    )
    lines = added.decode("utf-8-sig").splitlines()
    assert lines[0] == "id,番号" and len(lines) == 1 + 30  # every key, not the 2 samples
    assert lines[1] == "00002,**********12"
    changed = (out / "changed_g_k.csv").read_text("utf-8-sig").splitlines()
    assert changed == ["id,番号,項目,旧値,新値", "00001,**********12,a,old,new"]
    removed = (out / "removed_g_k.csv").read_text("utf-8-sig").splitlines()
    assert removed == ["id,番号", "00000,**********12"]
    for path in out.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert SECRET.encode() not in path.read_bytes(), path.name
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp files left


def test_xlsx_full_sheets_and_overflow(monkeypatch: pytest.MonkeyPatch) -> None:
    diff = _diff_with_lists(30)
    wb = openpyxl.load_workbook(io.BytesIO(diff_workbook_bytes(diff.to_dict(), diff.lists)))
    rows = list(wb["追加一覧"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == 30 and rows[0] == ("g", "k", "キー", "00002|**********12")
    assert list(wb["変更一覧"].iter_rows(min_row=2, values_only=True)) == [
        ("g", "k", "キー", "00001|**********12", "a", "old", "new")
    ]
    monkeypatch.setattr(diff_xlsx, "EXCEL_ROWS", 12)  # a sheet of 12 rows: header + 10 + note
    wb = openpyxl.load_workbook(io.BytesIO(diff_workbook_bytes(diff.to_dict(), diff.lists)))
    rows = list(wb["追加一覧"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == 11
    assert rows[-1][0] == "以降の20件はシートに収まりません: 全件は added_g_k.csv にあります"


def test_json_form_leaves_the_lists_out() -> None:
    diff = _diff_with_lists(3)
    plain = diff.to_dict()
    assert "lists" not in plain
    assert plain["files"][0]["added"] == 3
