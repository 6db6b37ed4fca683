"""A spreadsheet that is really something else is refused, in one line naming the file, exit 2,
before the workbook reader touches it, in bounded time and memory; nothing is written.

Through ``chukan run`` on the setup-sheet vendor, with its kokunen.xlsx replaced.
"""

from __future__ import annotations

import io
import re
import shutil
import struct
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from etl.cli import cli
from etl.extract.sheet import container
from etl.resources import data_dir
from fixtures._setup_sheet import SHEET, WORKBOOK, write_setup_sheet

SECONDS = 20  # a bound far above what each case takes, far below a hang


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    folder = tmp_path_factory.mktemp("good")
    write_setup_sheet(folder, 12, 1, corrected=True)
    return (folder / WORKBOOK).read_bytes()


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def _sheet_part(data: bytes) -> str:
    """The worksheet part of the setup sheet (the template's second sheet)."""
    return "xl/worksheets/sheet2.xml"


def _with_sheet_xml(good: bytes, body: bytes) -> bytes:
    members = _members(good)
    members[_sheet_part(good)] = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + body
        + b"</worksheet>"
    )
    return _zip(members)


def _size_lie(good: bytes) -> bytes:
    """The worksheet declares fewer bytes than it inflates to (both headers patched)."""
    data = bytearray(good)
    with zipfile.ZipFile(io.BytesIO(good)) as z:
        info = z.getinfo(_sheet_part(good))
    small = struct.pack("<I", 100)
    data[info.header_offset + 22 : info.header_offset + 26] = small  # local header
    name = info.filename.encode()
    at = data.find(b"PK\x01\x02")
    while at != -1:  # the central directory entry of the same member
        if bytes(data[at + 46 : at + 46 + len(name)]) == name:
            data[at + 24 : at + 28] = small
        at = data.find(b"PK\x01\x02", at + 4)
    return bytes(data)


def _encrypted_member(good: bytes) -> bytes:
    data = bytearray(good)
    data[6] |= 0x1  # the first member's general purpose flag: encrypted
    central = data.find(b"PK\x01\x02")
    data[central + 8] |= 0x1
    return bytes(data)


def _bomb(good: bytes) -> bytes:
    members = _members(good)
    members["xl/media/image1.bin"] = bytes(container.MAX_PART_BYTES + 1)  # inflates past it
    return _zip(members)


LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    + b"".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">'.encode() for i in range(1, 10))
    + b"]><worksheet>&lol9;</worksheet>"
)
Case = Callable[[bytes], bytes]
CASES: dict[str, tuple[Case, str]] = {
    "empty": (lambda g: b"", "not an .xlsx workbook (not a ZIP archive)"),
    "text": (lambda g: "宛名番号,氏名\n1,山田\n".encode(), "not a ZIP archive"),
    "csv-named-xlsx": (lambda g: b"PK" + b"x" * 100, "not a ZIP archive"),
    "cfb-encrypted-or-xls": (
        lambda g: container.CFB_MAGIC + bytes(4096),
        "OLE/CFB file: a password-protected (encrypted) workbook or an Excel 97-2003 .xls",
    ),
    "truncated": (lambda g: g[: len(g) // 2], "not a readable .xlsx workbook"),
    "no-workbook-part": (
        lambda g: _zip({"content.xml": b"<office:document/>", "mimetype": b"x"}),
        "not an .xlsx workbook (no xl/workbook.xml)",
    ),
    "size-lie": (_size_lie, "is damaged"),
    "encrypted-member": (_encrypted_member, "is encrypted"),
    "zip-bomb": (_bomb, f"is larger than {container.MAX_PART_BYTES} bytes inflated"),
    "million-columns": (
        lambda g: _with_sheet_xml(
            g,
            b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c>'
            b'<c r="XFD1"><v>1</v></c></row></sheetData>',
        ),
        "its cells span 16384 columns; a setup sheet has at most 1024",
    ),
    "a-billion-cells": (  # two cells: the reader would hold the grid between them
        lambda g: _with_sheet_xml(
            g,
            b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
            b'<row r="1048576"><c r="AMJ1048576"><v>1</v></c></row></sheetData>',
        ),
        "its cells span 1048576 rows × 1024 columns",
    ),
    "cells-out-of-order": (  # the widest cell is not the row's last one
        lambda g: _with_sheet_xml(
            g,
            b'<sheetData><row r="1"><c r="A1"><v>1</v></c><c r="XFD1"><v>1</v></c>'
            b'<c r="B1"><v>1</v></c></row></sheetData>',
        ),
        "its cells span 16384 columns",
    ),
    "cell-below-its-row": (  # the reader places a cell by its own reference
        lambda g: _with_sheet_xml(
            g,
            b'<sheetData><row r="1"><c r="A1"><v>1</v></c><c r="AMJ1048576"><v>1</v></c>'
            b"</row></sheetData>",
        ),
        "its cells span 1048576 rows × 1024 columns",
    ),
    "malformed-reference": (
        lambda g: _with_sheet_xml(
            g, b'<sheetData><row r="1"><c r="1A"><v>1</v></c></row></sheetData>'
        ),
        "a cell reference is not of the form A1",
    ),
    "outside-the-grid": (
        lambda g: _with_sheet_xml(
            g, b'<sheetData><row r="1"><c r="XFE1"><v>1</v></c></row></sheetData>'
        ),
        "cell reference 'XFE1' is outside Excel's grid",
    ),
    "row-outside-the-grid": (
        lambda g: _with_sheet_xml(
            g, b'<sheetData><row r="99999999"><c><v>1</v></c></row></sheetData>'
        ),
        "outside Excel's grid",
    ),
    "billion-laughs": (
        lambda g: _zip({**_members(g), _sheet_part(g): LAUGHS}),
        "holds a DTD",
    ),
    "not-xml": (lambda g: _with_sheet_xml(g, b"<sheetData><row"), "is not well-formed XML"),
    "styles-with-a-dtd": (  # read for the zero-padding number formats
        lambda g: _zip({**_members(g), "xl/styles.xml": LAUGHS}),
        "xl/styles.xml holds a DTD",
    ),
    "styles-not-xml": (
        lambda g: _zip({**_members(g), "xl/styles.xml": b"<styleSheet><numFmts"}),
        "xl/styles.xml is not well-formed XML",
    ),
}


def _vendor_and_dump(tmp_path: Path, data: bytes) -> tuple[Path, Path]:
    vendor = tmp_path / "vendor"
    shutil.copytree(data_dir("mappings") / "setup-sheet", vendor)
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / WORKBOOK).write_bytes(data)
    return vendor, dump


def _run(tmp_path: Path, data: bytes) -> tuple[int, str, Path]:
    vendor, dump = _vendor_and_dump(tmp_path, data)
    out = tmp_path / "out"
    args = ["run", "--vendor", str(vendor), "--dump", str(dump), "--out", str(out)]
    result = CliRunner().invoke(cli, args)
    return result.exit_code, result.output, out


@pytest.mark.parametrize("case", sorted(CASES))
def test_what_is_no_workbook_is_refused_in_one_line(tmp_path: Path, good: bytes, case: str) -> None:
    make, words = CASES[case]
    t0 = time.perf_counter()
    code, output, out = _run(tmp_path, make(good))
    assert time.perf_counter() - t0 < SECONDS
    assert code == 2, output
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, output
    assert WORKBOOK in lines[0] and words in lines[0], lines[0]
    assert not out.exists()


def test_a_huge_file_is_refused_before_it_is_read(
    tmp_path: Path, good: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(container, "MAX_FILE_BYTES", len(good) - 1)
    code, output, _ = _run(tmp_path, good)
    assert code == 2 and f"a setup sheet is at most {len(good) - 1}" in output


def test_a_declared_total_beyond_the_bound_is_refused(
    tmp_path: Path, good: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(container, "MAX_UNCOMPRESSED", 1000)
    code, output, _ = _run(tmp_path, good)
    assert code == 2 and "uncompressed; at most 1000 (a ZIP bomb?)" in output


def test_a_part_the_reader_refuses_is_one_line(tmp_path: Path, good: bytes) -> None:
    members = _members(good)
    members["xl/sharedStrings.xml"] = b"<sst><si><t>unclosed"
    code, output, _ = _run(tmp_path, _zip(members))
    assert code == 2 and "Traceback" not in output
    assert "the workbook reader refused the file" in output and WORKBOOK in output


def test_a_sheet_that_is_not_there_is_named(tmp_path: Path, good: bytes) -> None:
    members = _members(good)
    members["xl/workbook.xml"] = members["xl/workbook.xml"].replace(SHEET.encode(), "別名".encode())
    code, output, _ = _run(tmp_path, _zip(members))
    assert code == 2 and f"workbook has no sheet {SHEET!r}" in output and "'別名'" in output


def test_a_fifo_in_place_of_the_workbook_never_blocks(tmp_path: Path, good: bytes) -> None:
    vendor, dump = _vendor_and_dump(tmp_path, good)
    (dump / WORKBOOK).unlink()
    import os

    os.mkfifo(dump / WORKBOOK)
    args = ["run", "--vendor", str(vendor), "--dump", str(dump), "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert WORKBOOK in result.output


def test_merged_ranges_covering_too_much_are_refused(
    tmp_path: Path, good: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    from etl.extract.sheet import extractor

    monkeypatch.setattr(extractor, "MAX_MERGED_CELLS", 10)
    members = _members(good)
    part = _sheet_part(good)
    members[part] = members[part].replace(
        b"</sheetData>", b'</sheetData><mergeCells count="1"><mergeCell ref="A3:J4"/></mergeCells>'
    )
    code, output, _ = _run(tmp_path, _zip(members))
    assert code == 2 and "merged ranges cover more than 10 cells" in output


def test_one_cell_far_below_the_data_is_read_in_bounded_time(tmp_path: Path, good: bytes) -> None:
    """A million rows, all but two blank: every row accounted for, one finding for the run."""
    from etl.extract import FieldType
    from tests.sheet.conftest import read, source_for

    body = (
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>宛名番号</t></is></c></row>'
        '<row r="1000000"><c r="A1000000" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    )
    path = tmp_path / WORKBOOK
    path.write_bytes(_with_sheet_xml(good, body.encode()))
    t0 = time.perf_counter()
    got = read(path, source_for([("宛名番号", FieldType.DIGITS)], sheet=SHEET))
    assert time.perf_counter() - t0 < 3 * SECONDS  # a million rows on a shared machine
    assert (got.records_in, got.records.height, got.filtered.height) == (1_000_000, 1, 999_999)
    blank = got.findings.filter(got.findings["rule"] == "sheet.blank_row")["message"].to_list()
    assert blank == [
        f"{SHEET}!A2〜A999999の999998行は空行です（読み飛ばしました）。途中に空行を入れないでください。"
    ]


def test_a_declared_million_column_dimension_is_not_trusted(tmp_path: Path, good: bytes) -> None:
    """<dimension ref="A1:XFD1048576"/> claims the whole grid; the cells decide (few here), so
    the sheet is read as usual, in the time of a small one."""
    members = _members(good)
    part = _sheet_part(good)
    members[part] = re.sub(
        rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', members[part]
    )
    assert b'<dimension ref="A1:XFD1048576"/>' in members[part]
    t0 = time.perf_counter()
    code, output, out = _run(tmp_path, _zip(members))
    assert time.perf_counter() - t0 < SECONDS
    assert code == 0, output
    assert (out / "kokunen" / "kokunen.csv").is_file()
