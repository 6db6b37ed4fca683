"""`chukan layouts import`: workbooks written from the shipped layouts (fixtures/
layout_workbooks.py) import back to the shipped files byte for byte, whatever 業務 the version
holds; a 基本データリスト-shaped workbook imports too; hostile workbooks are one line, exit 2."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import etl.layout.workbook as workbook
from etl.cli import cli
from etl.convert import format_version
from etl.errors import LayoutError
from etl.layout import (
    DEFAULT_LAYOUT_VERSION,
    available_versions,
    code_table_text,
    layout_text,
    layouts_home,
    layouts_root,
    load_import_map,
    load_layouts,
    read_workbook,
)
from fixtures.layout_workbooks import write_kihon_workbook, write_spec_workbook

SPEC_MAP = layouts_home() / "import-maps" / "spec.yaml"
ROOT = layouts_root(DEFAULT_LAYOUT_VERSION)
GYOMU = sorted(p.stem for p in ROOT.glob("*.yaml"))


def _invoke(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output, result.output
    return result


@pytest.mark.parametrize("one_sheet", [False, True], ids=["sheet-per-file", "one-sheet"])
@pytest.mark.parametrize("gyomu", GYOMU)
def test_a_generated_workbook_imports_to_the_shipped_files(
    tmp_path: Path, gyomu: str, one_sheet: bool
) -> None:
    book = write_spec_workbook(tmp_path, gyomu, DEFAULT_LAYOUT_VERSION, one_sheet)
    imported = read_workbook(book, load_import_map(SPEC_MAP))
    assert layout_text(imported.layout) == (ROOT / f"{gyomu}.yaml").read_text("utf-8")
    assert imported.code_tables, "every shipped 業務 uses code tables"
    for table in imported.code_tables:
        assert code_table_text(table) == (ROOT / "codes" / f"{table.id}.yaml").read_text("utf-8")


def test_the_command_writes_the_files_byte_for_byte_into_out(tmp_path: Path) -> None:
    out = tmp_path / "layouts"
    for gyomu in GYOMU:
        book = write_spec_workbook(tmp_path, gyomu)
        args = ["layouts", "import", str(book), "--map", str(SPEC_MAP), "--version", "v2.1"]
        done = _invoke(*args, "--out", str(out))
        assert done.exit_code == 0, done.output
    written = sorted(p.relative_to(out / "v2.1") for p in (out / "v2.1").rglob("*.yaml"))
    assert written, "nothing written"
    for rel in written:
        assert (out / "v2.1" / rel).read_bytes() == (ROOT / rel).read_bytes(), rel
        assert (out / "v2.1" / rel).stat().st_mode & 0o077 == 0  # owner-only
    assert {p.stem for p in (out / "v2.1").glob("*.yaml")} == set(GYOMU)


def test_a_kihon_shaped_workbook_imports_the_items_and_codes(tmp_path: Path) -> None:
    shipped = load_layouts(DEFAULT_LAYOUT_VERSION)
    for gyomu in GYOMU:
        book, spec = write_kihon_workbook(tmp_path, gyomu)
        imported = read_workbook(book, load_import_map(spec))
        layout = shipped[gyomu]
        assert [rf.id for rf in imported.layout.record_files] == [
            rf.id for rf in layout.record_files
        ]
        for got, want in zip(imported.layout.record_files, layout.record_files, strict=True):
            assert got.key == want.key
            assert [(i.name, i.type, i.digits, i.scale, i.code_table) for i in got.items] == [
                (i.name, i.type, i.digits, i.scale, i.code_table) for i in want.items
            ]
        assert {t.id: dict(t.values) for t in imported.code_tables} == {
            t.id: t.values for t in layout.code_tables.values()
        }


@pytest.mark.parametrize("version", available_versions())
def test_every_shipped_file_is_in_the_canonical_form(version: str) -> None:
    assert format_version(version, write=False) == []


# --- hostile workbooks ------------------------------------------------------------------


def _refused(book: Path, spec: Path = SPEC_MAP) -> str:
    with pytest.raises(LayoutError) as err:
        read_workbook(book, load_import_map(spec))
    message = str(err.value)
    assert message.startswith(str(book)), message
    assert "\n" not in message
    return message


def test_not_a_workbook(tmp_path: Path) -> None:
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    assert "empty" in _refused(empty)
    text = tmp_path / "text.xlsx"
    text.write_text("項目名,データ型\n", "utf-8")
    assert "no ZIP container" in _refused(text)
    ole = tmp_path / "secret.xlsx"
    ole.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    assert "encrypted" in _refused(ole)
    truncated = tmp_path / "cut.xlsx"
    truncated.write_bytes(write_spec_workbook(tmp_path, GYOMU[0]).read_bytes()[:700])
    _refused(truncated)
    other = tmp_path / "other.xlsx"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    assert "xl/workbook.xml" in _refused(other)


def test_a_fifo_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.xlsx"
    os.mkfifo(fifo)
    assert "not a regular file" in _refused(fifo)


def test_a_zip_bomb_is_refused_by_its_declared_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workbook, "MAX_INFLATED_BYTES", 1 << 20)
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        with z.open("xl/worksheets/sheet1.xml", "w") as part:
            for _ in range(4):
                part.write(bytes(1 << 20))
    assert bomb.stat().st_size < 64 << 10
    assert "ZIP bomb" in _refused(bomb)


def test_a_huge_sheet_is_refused_naming_the_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workbook, "MAX_ROWS", 5)
    message = _refused(write_spec_workbook(tmp_path, "juki"))
    assert "業務!A6: more than 5 rows" in message  # the first sheet, before calamine reads it


def _edited(tmp_path: Path, change: dict[tuple[int, int], str | None]) -> Path:
    """The juki workbook with cells of its first item sheet (住民情報) replaced."""
    import openpyxl

    book = write_spec_workbook(tmp_path, "juki")
    wb = openpyxl.load_workbook(book)
    sheet = wb["住民情報"]
    for (row, col), value in change.items():
        sheet.cell(row=row, column=col, value=value)
    wb.save(book)
    return book


def test_a_bad_cell_is_named_by_sheet_and_cell(tmp_path: Path) -> None:
    digits = _refused(_edited(tmp_path, {(3, 5): "abc"}))
    assert "住民情報!E3: 桁数 must be a whole number" in digits
    assert "住民情報!D4: unknown データ型 '漢字'" in _refused(_edited(tmp_path, {(4, 4): "漢字"}))
    flag = _refused(_edited(tmp_path, {(2, 7): "たぶん"}))
    assert "住民情報!G2: required must be one of" in flag
    # a date of 6 digits: the layout file's own check, named by the workbook's cell
    date_row = 8  # 生年月日
    message = _refused(_edited(tmp_path, {(date_row, 5): "6"}))
    assert "住民情報!E8: a date is YYYYMMDD" in message
    dup = _refused(_edited(tmp_path, {(3, 3): "宛名番号"}))
    assert "住民情報!C3" in dup and "duplicate item" in dup
    table = _refused(_edited(tmp_path, {(9, 8): "nothing"}))
    assert "住民情報!H9: unknown code table 'nothing'" in table


def test_wrong_columns_name_the_header_row(tmp_path: Path) -> None:
    message = _refused(_edited(tmp_path, {(1, 4): "型"}))
    assert "住民情報!A1: no column 'データ型' (the map's type)" in message


def test_an_empty_item_sheet_and_a_workbook_without_items(tmp_path: Path) -> None:
    import openpyxl

    book = write_spec_workbook(tmp_path, "inkan")
    wb = openpyxl.load_workbook(book)
    sheet = wb["印鑑登録情報"]
    sheet.delete_rows(2, sheet.max_row)
    wb.save(book)
    assert "no items" in _refused(book)


def test_the_cli_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_text("no", "utf-8")
    args = ["layouts", "import", str(bad), "--map", str(SPEC_MAP), "--version", "v2.1"]
    done = _invoke(*args, "--out", str(tmp_path / "out"))
    assert done.exit_code == 2 and done.output.count("\n") == 1, done.output
    assert not (tmp_path / "out").exists()


def test_nothing_is_written_outside_out(tmp_path: Path) -> None:
    book = write_spec_workbook(tmp_path, "inkan")
    out = tmp_path / "out"
    for version in ("../escape", "..", "conversions", "a/b"):
        args = ["layouts", "import", str(book), "--map", str(SPEC_MAP), "--version", version]
        done = _invoke(*args, "--out", str(out))
        assert done.exit_code == 2, (version, done.output)
    out.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (out / "v9").symlink_to(tmp_path / "elsewhere")
    args = ["layouts", "import", str(book), "--map", str(SPEC_MAP), "--version", "v9"]
    done = _invoke(*args, "--out", str(out))
    assert done.exit_code == 2 and "outside" in done.output
    assert not any((tmp_path / "elsewhere").iterdir())
    assert not (tmp_path / "escape").exists()


def test_a_hostile_import_map_names_the_key(tmp_path: Path) -> None:
    spec = tmp_path / "map.yaml"
    spec.write_text("columns: {name: 項目名}\ntypes: {文字: text}\n", "utf-8")
    with pytest.raises(LayoutError, match=r"map.yaml: columns.type"):
        load_import_map(spec)
    spec.write_text("columns: {name: a, type: b, digits: c}\ntypes: {文字: txt}\n", "utf-8")
    with pytest.raises(LayoutError, match=r"types"):
        load_import_map(spec)


def test_a_code_typed_as_a_number_is_refused(tmp_path: Path) -> None:
    import openpyxl

    book = write_spec_workbook(tmp_path, "juki")
    wb = openpyxl.load_workbook(book)
    wb["コード表"].cell(row=2, column=3, value=1)
    wb.save(book)
    assert "コード表!C2: code '1' is a number" in _refused(book)


def test_a_part_larger_than_declared_is_refused(tmp_path: Path) -> None:
    good = write_spec_workbook(tmp_path, "inkan").read_bytes()
    data = bytearray(good)
    at = data.find(b"PK\x01\x02")  # the first central directory entry: its CRC-32 is wrong now
    data[at + 16] ^= 0xFF
    broken = tmp_path / "crc.xlsx"
    broken.write_bytes(bytes(data))
    assert "broken or truncated ZIP" in _refused(broken)


def test_a_sheet_of_too_many_cells_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workbook, "MAX_CELLS", 30)
    assert "more than 30 cells" in _refused(write_spec_workbook(tmp_path, "inkan"))


def test_a_sheet_the_map_names_must_exist(tmp_path: Path) -> None:
    spec = tmp_path / "map.yaml"
    spec.write_text(
        SPEC_MAP.read_text("utf-8").replace("layout_sheet: 業務", "layout_sheet: 業務一覧"), "utf-8"
    )
    assert "no sheet '業務一覧'" in _refused(write_spec_workbook(tmp_path, "inkan"), spec)


def _sheet_of_rows(path: Path, rows: int) -> Path:
    """A minimal xlsx whose one sheet (項目) has ``rows`` rows of one cell, written as XML."""
    ns = "http://schemas.openxmlformats.org"
    rel = f"{ns}/officeDocument/2006/relationships"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{ns}/spreadsheetml/2006/main" xmlns:r="{rel}"><sheets>'
            '<sheet name="項目" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{ns}/package/2006/relationships"><Relationship Id="rId1"'
            f' Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        with z.open("xl/worksheets/sheet1.xml", "w") as part:
            part.write(f'<worksheet xmlns="{ns}/spreadsheetml/2006/main"><sheetData>'.encode())
            for r in range(1, rows + 1):
                part.write(f'<row r="{r}"><c r="A{r}"><v>1</v></c></row>'.encode())
            part.write(b"</sheetData></worksheet>")
    return path


def test_a_sheet_beyond_the_row_bound_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    import time

    book = _sheet_of_rows(tmp_path / "rows.xlsx", workbook.MAX_ROWS + 1)
    started = time.monotonic()
    message = _refused(book)
    assert "項目!A100001: more than 100,000 rows" in message
    assert time.monotonic() - started < 5  # counted while inflating; calamine never parses it
