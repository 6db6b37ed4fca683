"""The sheet extractor: cells read as the clerk sees them, located by sheet and cell, every row
accounted for (tests/extract/conftest.py ``run`` asserts records_in per chunk)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from etl.errors import ExtractError
from etl.extract import CELLS, FieldType, reject_schema
from tests.sheet.conftest import read, source_for, write_book

T, D, DATE = FieldType.TEXT, FieldType.DIGITS, FieldType.DATE
FIELDS = [("番号", D), ("続柄", D), ("日付", DATE), ("金額", T), ("備考", T)]


def _rows(wb: Any, ws: Any, rows: list[list[Any]], header: list[str] | None = None) -> None:
    date_format = wb.add_format({"num_format": "yyyy/mm/dd"})
    ws.write_row(0, 0, header or [n for n, _ in FIELDS])
    for i, row in enumerate(rows, start=1):
        for j, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, dt.date):
                ws.write_datetime(i, j, value, date_format)
            elif isinstance(value, str):
                ws.write_string(i, j, value)
            else:
                ws.write(i, j, value)


def _findings(got: Any, rule: str) -> list[str]:
    f = got.findings.filter(pl.col("rule") == rule)
    return f["message"].to_list()


def test_cells_as_text_located_by_sheet_and_cell(tmp_path: Path) -> None:
    rows = [
        ["0001", "02 世帯主", dt.date(2024, 1, 5), 1200, "a"],
        ["0002", "20 子", dt.datetime(2024, 1, 6, 0, 0), 1200.5, True],
        ["0003", "51 父", dt.datetime(2024, 1, 7, 13, 2, 3), 0.1 + 0.2, "=1+1"],
    ]
    path = write_book(tmp_path / "book.xlsx", lambda wb, ws: _rows(wb, ws, rows))
    got = read(path, source_for(FIELDS))
    assert got.records_in == 4  # the header row is a record too: filtered
    assert got.filtered["reason"].to_list() == ["header row"]
    assert got.filtered.columns == ["source", "record_no", "sheet", "cell", "reason"]
    r = got.records
    assert r["_record_no"].to_list() == [2, 3, 4]  # the sheet row
    assert r["_sheet"].to_list() == ["世帯"] * 3 and r["_cell"].to_list() == ["A2", "A3", "A4"]
    assert r["番号"].to_list() == ["0001", "0002", "0003"]
    assert r["日付"].to_list() == ["20240105", "20240106", "2024/01/07 13:02:03"]
    assert r["金額"].to_list() == ["1200", "1200.5", "0.3"]  # as Excel's General shows them
    assert r["備考"].to_list() == ["a", "TRUE", "=1+1"]  # text stays text, never a formula
    assert got.findings.height == 0


def test_a_number_in_a_digits_field_is_a_finding_not_a_repair(tmp_path: Path) -> None:
    rows = [["0001", "02 世帯主", None, None, None], [12, 2, None, None, None]]
    path = write_book(tmp_path / "book.xlsx", lambda wb, ws: _rows(wb, ws, rows))
    got = read(path, source_for(FIELDS))
    assert got.records["番号"].to_list() == ["0001", "12"]  # not padded back to 0012
    assert got.records["続柄"].to_list() == ["02 世帯主", "2"]
    found = got.findings.filter(pl.col("rule") == "sheet.number_cell")
    assert found["record_no"].to_list() == [3, 3]
    assert found["item"].to_list() == ["番号", "続柄"]
    assert found["value"].to_list() == ["12", "2"]
    assert found["severity"].to_list() == ["warning", "warning"]
    assert found["message"][0].startswith("世帯!A3は数値として入力されています")
    assert found["message"][1].startswith("世帯!B3は数値")


def test_dates_typed_serial_as_text_and_as_number(tmp_path: Path) -> None:
    def fill(wb: Any, ws: Any) -> None:
        ws.write_row(0, 0, ["日付"])
        date_format = wb.add_format({"num_format": "yyyy/mm/dd"})
        ws.write_datetime(1, 0, dt.datetime(2024, 4, 1), date_format)  # typed date
        ws.write_number(2, 0, 45296, date_format)  # a serial in a date format: a date
        ws.write_string(3, 0, "2024/1/5")  # a date typed as text
        ws.write_string(4, 0, "2024年1月5日")
        ws.write_string(5, 0, "令和6年1月5日")  # text the reader cannot read as a date
        ws.write_number(6, 0, 45296)  # a number in General: the clerk sees 45296
        ws.write_string(7, 0, "20240105")

    path = write_book(tmp_path / "book.xlsx", fill)
    got = read(path, source_for([("日付", DATE)]))
    assert got.records["日付"].to_list() == [
        "20240401",
        "20240105",
        "20240105",
        "20240105",
        "令和6年1月5日",
        "45296",
        "20240105",
    ]
    as_text = got.findings.filter(pl.col("rule") == "sheet.date_as_text")
    assert as_text["record_no"].to_list() == [4, 5, 6, 8]
    assert "世帯!A4の日付は文字列として入力されています" in as_text["message"][0]
    assert _findings(got, "sheet.date_as_number") == [
        "世帯!A7の日付は数値として入力されています（読み取った値のまま残しました）。"
        "日付として入力し直してください。"
    ]


def test_blank_rows_middle_filtered_and_named_trailing_ones_are_not_rows(tmp_path: Path) -> None:
    def fill(wb: Any, ws: Any) -> None:
        _rows(wb, ws, [["0001"], [], ["0003"], ["  "]])
        text = wb.add_format({"num_format": "@"})
        for r in range(6, 40):  # formatted, empty: what a template's unused rows are
            ws.write_blank(r, 0, None, text)

    path = write_book(tmp_path / "book.xlsx", fill)
    got = read(path, source_for(FIELDS))
    assert got.records_in == 5  # rows 1..5; the formatted empty rows below are no rows
    assert got.records["_record_no"].to_list() == [2, 4]
    assert got.filtered.select("record_no", "cell", "reason").rows() == [
        (1, "A1", "header row"),
        (3, "A3", "blank row"),
        (5, "A5", "blank row"),  # spaces only: blank to a clerk
    ]
    assert _findings(got, "sheet.blank_row") == [
        "世帯!A3の行は空行です（読み飛ばしました）。途中に空行を入れないでください。"
    ]


def test_extra_columns_are_named_at_their_header_or_first_cell(tmp_path: Path) -> None:
    rows = [["0001", "", None, None, None, "メモ", None], ["0002", "", None, None, None, None, "x"]]
    header = [n for n, _ in FIELDS] + ["メモ欄"]
    path = write_book(tmp_path / "book.xlsx", lambda wb, ws: _rows(wb, ws, rows, header))
    got = read(path, source_for(FIELDS))
    messages = _findings(got, "sheet.extra_column")
    assert messages[0].startswith("世帯!F1の列「メモ欄」はレイアウトにない列です")
    assert messages[1].startswith("世帯!G3ほか、見出しのない列にデータがあります")
    items = got.findings.filter(pl.col("rule") == "sheet.extra_column")["item"].to_list()
    assert items == ["メモ欄", "G"]  # one extra column told from another across passes
    assert got.records.columns[3:] == [n for n, _ in FIELDS]


def test_merged_cells_give_every_cell_their_value(tmp_path: Path) -> None:
    def fill(wb: Any, ws: Any) -> None:
        _rows(wb, ws, [[None, "02 世帯主"], [None, "20 子"], ["0009", "51 父"]])
        ws.merge_range(1, 0, 2, 0, "0004")

    path = write_book(tmp_path / "book.xlsx", fill)
    for chunk in (1, 2, 100):  # a range may cross chunks
        got = read(path, source_for(FIELDS), chunk_records=chunk)
        assert got.records["番号"].to_list() == ["0004", "0004", "0009"], chunk
        assert _findings(got, "sheet.merged_cells") == [
            "世帯!A2:A3は結合されたセルです。先頭のセル（A2）の値を結合範囲のすべてのセルに"
            "読み込みました。セルの結合を解除してください。"
        ]


def test_hidden_rows_columns_and_sheets_are_read_and_named(tmp_path: Path) -> None:
    def fill(wb: Any, ws: Any) -> None:
        _rows(wb, ws, [["0001", "02 世帯主"], ["0002", "20 子"]])
        ws.set_row(2, None, None, {"hidden": True})
        ws.set_column(1, 1, None, None, {"hidden": True})
        ws.hide()

    path = write_book(tmp_path / "book.xlsx", fill, extra={"表紙": lambda wb, ws: ws.activate()})
    got = read(path, source_for(FIELDS))
    assert got.records["番号"].to_list() == ["0001", "0002"]
    assert _findings(got, "sheet.hidden_row") == [
        "世帯!A3の行は非表示になっています（データは読み込みました）。"
    ]
    assert _findings(got, "sheet.hidden_column") == [
        "世帯!B1の列（続柄）は非表示になっています（データは読み込みました）。"
    ]
    assert _findings(got, "sheet.hidden_sheet") == [
        "シート「世帯」は非表示になっています（データは読み込みました）。"
    ]


def test_an_error_value_in_a_field_rejects_its_row_naming_the_cell(tmp_path: Path) -> None:
    def fill(wb: Any, ws: Any) -> None:
        _rows(wb, ws, [["0001", "02 世帯主"], ["0002"], ["0003", "20 子"]])
        ws.write_formula(2, 1, "=NA()", None, "#N/A")
        ws.write_formula(3, 6, "=1/0", None, "#DIV/0!")  # not a field's cell: no matter

    path = write_book(tmp_path / "book.xlsx", fill)
    got = read(path, source_for(FIELDS))
    assert got.records["_record_no"].to_list() == [2, 4]
    assert got.rejects.schema == reject_schema(CELLS)
    assert got.rejects.select("record_no", "sheet", "cell", "item", "reason").rows() == [
        (3, "世帯", "B3", "続柄", "cell B3 holds an Excel error value #N/A")
    ]


def test_header_and_data_rows_come_from_the_profile(tmp_path: Path) -> None:
    def fill(wb: Any, ws: Any) -> None:
        ws.write_row(0, 0, ["令和6年度 世帯一覧"])
        ws.write_row(1, 0, [n for n, _ in FIELDS])
        ws.write_row(2, 0, ["数字", "コード"])
        ws.write_row(3, 0, ["0001", "02 世帯主"])

    path = write_book(tmp_path / "book.xlsx", fill)
    got = read(path, source_for(FIELDS, header_row=2, data_row=4))
    assert got.records["番号"].to_list() == ["0001"]
    assert got.filtered["reason"].to_list() == [
        "row above the data rows",
        "header row",
        "row above the data rows",
    ]


def test_sensitive_values_are_masked_in_findings(tmp_path: Path) -> None:
    rows = [[123456789012, "02 世帯主"]]
    path = write_book(tmp_path / "book.xlsx", lambda wb, ws: _rows(wb, ws, rows))
    got = read(path, source_for(FIELDS, sensitive=("番号",)))
    found = got.findings.filter(pl.col("rule") == "sheet.number_cell")
    assert found["value"].to_list() == ["**********12"]
    assert "123456789012" not in " ".join(found["message"].to_list())


def test_an_empty_sheet_is_one_empty_chunk(tmp_path: Path) -> None:
    path = write_book(tmp_path / "book.xlsx", lambda wb, ws: None)
    got = read(path, source_for(FIELDS))
    assert (got.records_in, got.records.height, got.chunks) == (0, 0, 1)
    assert got.records.columns[:3] == ["_record_no", "_sheet", "_cell"]


def test_chunks_account_for_every_row(tmp_path: Path) -> None:
    rows = [[f"{i:04d}", "02 世帯主"] if i % 5 else [] for i in range(1, 23)]
    path = write_book(tmp_path / "book.xlsx", lambda wb, ws: _rows(wb, ws, rows))
    whole = read(path, source_for(FIELDS))
    for size in (1, 3, 7):
        got = read(path, source_for(FIELDS), chunk_records=size)
        assert got.records_in == whole.records_in == 23  # the header and 22 rows
        assert got.records.equals(whole.records)
        assert got.filtered.equals(whole.filtered)
        assert got.findings.sort("record_no").equals(whole.findings.sort("record_no"))


@pytest.mark.parametrize(
    ("header", "words"),
    [
        (["番号", "続柄", "日付", "金額"], "row 1 has no header '備考'"),
        (
            ["番号", "続柄", "日付", "金額", "備考", "番号"],
            "header '番号' is in two columns (A1, F1)",
        ),
    ],
)
def test_a_header_that_does_not_fit_is_one_error(
    tmp_path: Path, header: list[str], words: str
) -> None:
    path = write_book(tmp_path / "book.xlsx", lambda wb, ws: _rows(wb, ws, [["x"]], header))
    with pytest.raises(ExtractError, match=re.escape(words)) as exc:
        read(path, source_for(FIELDS))
    assert str(exc.value).startswith(str(path))


def test_a_missing_sheet_lists_the_sheets_there_are(tmp_path: Path) -> None:
    path = write_book(tmp_path / "book.xlsx", lambda wb, ws: None, sheet="住民")
    with pytest.raises(ExtractError, match="workbook has no sheet '世帯'; it has '住民'"):
        read(path, source_for(FIELDS))


def test_two_source_files_read_two_sheets_of_one_workbook(tmp_path: Path) -> None:
    def second(wb: Any, ws: Any) -> None:
        ws.write_row(0, 0, ["世帯番号"])
        ws.write_string(1, 0, "000000000000042")

    path = write_book(
        tmp_path / "book.xlsx",
        lambda wb, ws: _rows(wb, ws, [["0001", "02 世帯主"]]),
        extra={"世帯員": second},
    )
    first = read(path, source_for(FIELDS))
    other = read(path, source_for([("世帯番号", D)], sheet="世帯員"))
    assert first.records["番号"].to_list() == ["0001"]
    assert other.records["世帯番号"].to_list() == ["000000000000042"]
    assert other.records["_sheet"].to_list() == ["世帯員"]


def test_found_through_its_entry_point_as_a_cells_format() -> None:
    from etl.extract import Extractor, get_extractor, known_extractors
    from etl.extract.sheet import SheetExtractor, SheetOptions

    assert "sheet" in known_extractors()
    extractor = get_extractor("sheet")
    assert isinstance(extractor, SheetExtractor) and isinstance(extractor, Extractor)
    assert extractor.location is CELLS and extractor.options_model is SheetOptions


def test_a_number_formatted_00_reads_as_the_clerk_sees_it(tmp_path: Path) -> None:
    """Custom format "00" / "00000" (xl/styles.xml): 7 shows as 07, and is read as 07, text;
    a General number keeps its number-cell finding, a fraction or a negative its own text."""

    def fill(wb: Any, ws: Any) -> None:
        two, five = wb.add_format({"num_format": "00"}), wb.add_format({"num_format": "00000"})
        ws.write_row(0, 0, ["番号", "続柄"])
        ws.write_number(1, 0, 12, five)
        ws.write_number(1, 1, 7, two)
        ws.write_number(2, 0, 12)  # General: 12, a finding
        ws.write_number(2, 1, 123, two)  # wider than the format: shown whole
        ws.write_number(3, 0, 1.5, five)  # not a whole number: as shown by General
        ws.write_number(3, 1, -3, two)

    path = write_book(tmp_path / "book.xlsx", fill)
    got = read(path, source_for([("番号", D), ("続柄", D)]), chunk_records=2)
    assert got.records["番号"].to_list() == ["00012", "12", "1.5"]
    assert got.records["続柄"].to_list() == ["07", "123", "-3"]
    found = got.findings.filter(pl.col("rule") == "sheet.number_cell")
    assert sorted(zip(found["record_no"], found["item"], strict=True)) == [
        (3, "番号"),
        (4, "番号"),
        (4, "続柄"),
    ]
