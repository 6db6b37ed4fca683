"""What an .xlsx file really is, checked before the workbook reader touches it.

An .xlsx workbook is a ZIP archive of XML parts. A file that only claims to be one is refused
here, in bounded memory and time, with one ExtractError naming the file:

- not a ZIP archive at all; or an OLE/CFB container (an encrypted, password-protected workbook,
  or a legacy .xls): both start with their own signatures;
- a ZIP bomb: too many members, a declared uncompressed size beyond the bounds, or a member that
  inflates to more than it declares (every member is inflated once, as a stream, and counted);
- a worksheet whose cells span more than MAX_SPAN_CELLS (the reader holds a sheet as a dense
  grid: one cell at A1 and one at XFD1048576 would be seventeen billion cells), or cells outside
  Excel's grid; a part holding a DTD (nothing Excel writes has one).

The same streaming pass over the worksheet read collects what the reader does not report:
hidden rows and columns, cells holding an Excel error value (#N/A, #DIV/0! …), which the
reader turns into empty text, and number cells whose style shows them zero-padded (a custom
format "00": the clerk sees 07 where the reader gives 7). The XML is parsed without DTDs,
entities or network access.
"""

from __future__ import annotations

import copy
import posixpath
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

import numpy as np
from lxml import etree

from etl.errors import ExtractError

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header, or an empty archive
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE compound file: encrypted xlsx, legacy .xls
MAX_FILE_BYTES = 256 << 20  # a setup workbook is a few MB
MAX_MEMBERS = 10_000
MAX_UNCOMPRESSED = 512 << 20  # all parts together, inflated
MAX_SHEET_BYTES = 256 << 20  # the worksheet read (4M cells of XML are about 150 MB)
MAX_PART_BYTES = 64 << 20  # a part other than a worksheet (shared strings, styles …)
MAX_SPAN_CELLS = 4_000_000  # rows × columns of a worksheet's used range (rows from row 1)
MAX_COLUMNS = 1024  # a record file of the standard has a few hundred items at most
MAX_MERGED_CELLS = MAX_SPAN_CELLS  # cells covered by merged ranges, all ranges together
EXCEL_ROWS, EXCEL_COLUMNS = 1_048_576, 16_384
MAX_LISTED = 10_000  # hidden rows and error cells remembered per sheet
MAX_PADDED = 1_000_000  # zero-padded number cells remembered per sheet (beyond: read as numbers)
PADDED_FORMAT = re.compile(r"0{2,}")  # a number format that only pads: "00", "00000"
_INFLATE_STEP = 1 << 20

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CELL_REF = re.compile(r"^([A-Z]{1,3})([0-9]{1,7})$")
_REFS = re.compile(r"[A-Z]+[0-9]+(?: [A-Z]+[0-9]+)*")
_ROW, _COL, _CELL, _VALUE = (f"{{{MAIN}}}{t}" for t in ("row", "col", "c", "v"))


@dataclass(frozen=True, slots=True)
class SheetFacts:
    """What the streaming pass saw in one worksheet (rows and columns 1-based)."""

    name: str
    member: str  # the worksheet's part in the archive
    hidden: bool  # the sheet itself (state hidden or veryHidden)
    last_row: int  # 0: no cell
    last_column: int
    hidden_rows: tuple[int, ...] = ()
    hidden_columns: frozenset[int] = field(default_factory=frozenset)
    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col) → "#N/A"
    padded: dict[tuple[int, int], int] = field(default_factory=dict)  # (row, col) → digits shown


def column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _refuse(path: Path, reason: str) -> ExtractError:
    return ExtractError(path, reason)


def _open_archive(path: Path) -> zipfile.ZipFile:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise _refuse(path, f"workbook is {size} bytes; a setup sheet is at most {MAX_FILE_BYTES}")
    with path.open("rb") as f:
        head = f.read(8)
    if head.startswith(CFB_MAGIC):
        raise _refuse(
            path,
            "not an .xlsx workbook but an OLE/CFB file: a password-protected (encrypted) "
            "workbook or an Excel 97-2003 .xls; save it as .xlsx without a password",
        )
    if not head.startswith(ZIP_MAGIC):
        raise _refuse(path, "not an .xlsx workbook (not a ZIP archive)")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise _refuse(path, f"not a readable .xlsx workbook (ZIP archive: {exc})") from None
    return archive


def _check_directory(path: Path, archive: zipfile.ZipFile) -> None:
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise _refuse(path, f"ZIP archive has {len(infos)} members; at most {MAX_MEMBERS}")
    declared = sum(i.file_size for i in infos)
    if declared > MAX_UNCOMPRESSED:
        raise _refuse(
            path,
            f"ZIP archive declares {declared} bytes uncompressed; at most {MAX_UNCOMPRESSED} "
            "(a ZIP bomb?)",
        )
    for info in infos:
        if info.flag_bits & 0x1:
            raise _refuse(path, f"ZIP member {info.filename} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _refuse(
                path, f"ZIP member {info.filename} uses compression method {info.compress_type}"
            )


def _open_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> IO[bytes]:
    """A member opened to read past its declared size: zipfile stops at the declared size
    (and then checks no CRC), so a member that lies would look whole. Inflating one byte
    more shows the lie; an honest member ends at its size and its CRC is checked."""
    probe = copy.copy(info)
    probe.file_size = info.file_size + 1
    return archive.open(probe)


def _inflate(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """A member's bytes, refused as soon as they pass ``limit`` or its declared size."""
    bound = min(limit, info.file_size)
    parts: list[bytes] = []
    got = 0
    try:
        with _open_member(archive, info) as f:
            while chunk := f.read(_INFLATE_STEP):
                got += len(chunk)
                if got > bound:
                    break
                parts.append(chunk)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        if isinstance(exc, OSError) and not isinstance(exc, zipfile.BadZipFile) and exc.errno:
            raise
        raise _refuse(path, f"ZIP member {info.filename} is damaged ({exc})") from None
    if got > info.file_size:
        raise _refuse(
            path, f"ZIP member {info.filename} inflates beyond its declared {info.file_size} bytes"
        )
    if got > limit:
        raise _refuse(path, f"ZIP member {info.filename} is larger than {limit} bytes inflated")
    return b"".join(parts)


def _count_all(path: Path, archive: zipfile.ZipFile, skip: str) -> None:
    """Inflate every member but ``skip`` (read apart) once, so none lies about its size."""
    for info in archive.infolist():
        if info.filename != skip and not info.is_dir():
            sheet = info.filename.startswith("xl/worksheets/")
            _inflate(path, archive, info, MAX_SHEET_BYTES if sheet else MAX_PART_BYTES)


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _small_xml(path: Path, archive: zipfile.ZipFile, name: str) -> etree._Element:
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise _refuse(path, f"not an .xlsx workbook (no {name})") from None
    data = _inflate(path, archive, info, MAX_PART_BYTES)
    if b"<!DOCTYPE" in data[:4096]:
        raise _refuse(path, f"{name} holds a DTD; no workbook part has one")
    try:
        return etree.fromstring(data, _safe_parser())
    except etree.XMLSyntaxError as exc:
        raise _refuse(path, f"{name} is not well-formed XML (line {exc.lineno})") from None


def _sheet_members(path: Path, archive: zipfile.ZipFile) -> list[tuple[str, str, bool]]:
    """(name, member, hidden) of each worksheet, in workbook order."""
    book = _small_xml(path, archive, "xl/workbook.xml")
    rels = _small_xml(path, archive, "xl/_rels/workbook.xml.rels")
    targets = {
        r.get("Id"): r.get("Target", "") for r in rels.iterfind(f"{{{PACKAGE_REL}}}Relationship")
    }
    out: list[tuple[str, str, bool]] = []
    for sheet in book.iterfind(f"{{{MAIN}}}sheets/{{{MAIN}}}sheet"):
        target = targets.get(sheet.get(f"{{{REL}}}id"), "")
        member = (
            target.lstrip("/")
            if target.startswith("/")
            else posixpath.normpath(str(PurePosixPath("xl") / target))
        )
        hidden = sheet.get("state", "visible") != "visible"
        out.append((sheet.get("name", ""), member, hidden))
    return out


def _padded_styles(path: Path, archive: zipfile.ZipFile) -> dict[str, int]:
    """Cell style index (a cell's ``s``) → digits shown, for the styles whose number format is
    a zero-padding "0…0" (custom formats only: no built-in one pads)."""
    if "xl/styles.xml" not in archive.namelist():
        return {}
    styles = _small_xml(path, archive, "xl/styles.xml")
    codes = {
        f.get("numFmtId"): f.get("formatCode", "")
        for f in styles.iterfind(f"{{{MAIN}}}numFmts/{{{MAIN}}}numFmt")
    }
    return {
        str(i): len(code)
        for i, xf in enumerate(styles.iterfind(f"{{{MAIN}}}cellXfs/{{{MAIN}}}xf"))
        if PADDED_FORMAT.fullmatch(code := codes.get(xf.get("numFmtId", "0"), "") or "")
    }


def _scan_sheet(
    path: Path,
    archive: zipfile.ZipFile,
    name: str,
    member: str,
    hidden: bool,
    padded_styles: dict[str, int],
) -> SheetFacts:
    """Stream the worksheet's XML once: its extent, hidden rows and columns, error cells.

    Per row, not per cell: the row's cell references (one XPath) give its extent through
    numpy, another XPath its error cells (only once the bytes hold one).
    """
    try:
        info = archive.getinfo(member)
    except KeyError:
        raise _refuse(path, f"sheet {name!r}: its part {member} is missing") from None
    if info.file_size > MAX_SHEET_BYTES:
        raise _refuse(
            path,
            f"sheet {name!r}: its part declares {info.file_size} bytes; at most {MAX_SHEET_BYTES}",
        )
    bound = info.file_size
    parser = etree.XMLPullParser(
        events=("end",),
        tag=(_ROW, _COL),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    errors_of = etree.XPath("m:c[@t='e']", namespaces={"m": MAIN})
    styled = " or ".join(f"@s='{s}'" for s in padded_styles)  # digits only: safe in a path
    padded_of = (
        etree.XPath(f"m:c[({styled}) and (not(@t) or @t='n')]", namespaces={"m": MAIN})
        if padded_styles
        else None
    )
    padded: dict[tuple[int, int], int] = {}
    refs_of = etree.XPath("m:c/@r", namespaces={"m": MAIN}, smart_strings=False)
    last_row = last_col = prev_row = 0
    first_row = first_col = 0
    hidden_rows: list[int] = []
    hidden_cols: set[int] = set()
    errors: dict[tuple[int, int], str] = {}
    got = 0
    head = True
    may_err = False
    tail = b""
    batch: list[str] = []  # cell references not yet measured

    def fail(reason: str) -> ExtractError:
        return _refuse(path, f"sheet {name!r}: {reason}")

    def seen(lo_row: int, hi_row: int, lo_col: int, hi_col: int) -> None:
        nonlocal first_row, first_col, last_row, last_col
        first_row = min(first_row or lo_row, lo_row)
        first_col = min(first_col or lo_col, lo_col)
        last_row, last_col = max(last_row, hi_row), max(last_col, hi_col)
        span_check()

    def span_check() -> None:
        rows = last_row  # the reader gives every row from row 1 on
        cols = last_col - first_col + 1
        if cols > MAX_COLUMNS:
            raise fail(f"its cells span {cols} columns; a setup sheet has at most {MAX_COLUMNS}")
        if last_row and rows * cols > MAX_SPAN_CELLS:
            raise fail(
                f"its cells span {rows} rows × {cols} columns; a setup sheet is at most "
                f"{MAX_SPAN_CELLS} cells"
            )

    try:
        with _open_member(archive, info) as f:
            while chunk := f.read(_INFLATE_STEP):
                got += len(chunk)
                if got > bound:
                    raise fail(f"its part inflates beyond its declared {info.file_size} bytes")
                if head and b"<!DOCTYPE" in chunk[:4096]:
                    raise fail("its part holds a DTD; no worksheet has one")
                head = False
                parser.feed(chunk)
                # error cells are rare: look for them only once the bytes hold one (the last
                # bytes of the previous read count too: an attribute may straddle two reads)
                window = tail + chunk[:16]
                may_err = may_err or any(m in chunk or m in window for m in (b't="e"', b"t='e'"))
                tail = chunk[-16:]
                for _event, el in parser.read_events():
                    if el.tag == _COL:
                        if el.get("hidden") in ("1", "true"):
                            lo, hi = int(el.get("min", "0")), int(el.get("max", "0"))
                            hidden_cols.update(range(max(lo, 1), min(hi, EXCEL_COLUMNS) + 1))
                        continue
                    cells = len(el)
                    row_no = int(el.get("r") or prev_row + 1) if _digits(el.get("r")) else 0
                    if not 1 <= row_no <= EXCEL_ROWS:
                        raise fail(f"row {el.get('r', '')[:12]!r} is outside Excel's grid")
                    if cells:
                        refs = refs_of(el)
                        batch.extend(refs)
                        if len(refs) < cells:  # cells without a reference: by position
                            seen(row_no, row_no, 1, cells)
                        if len(batch) >= _REF_BATCH:
                            seen(*_extent(batch, fail))
                            batch.clear()
                        if el.get("hidden") in ("1", "true") and len(hidden_rows) < MAX_LISTED:
                            hidden_rows.append(row_no)
                        for bad in errors_of(el) if may_err else ():
                            if len(errors) < MAX_LISTED:
                                v = bad.find(_VALUE)
                                text = (v.text or "") if v is not None else ""
                                col = _column_of(bad, el.index(bad) + 1, fail)
                                errors[(row_no, col)] = text[:16] or "#ERROR"
                        for cell in padded_of(el) if padded_of is not None else ():
                            if len(padded) < MAX_PADDED:
                                col = _column_of(cell, el.index(cell) + 1, fail)
                                padded[(row_no, col)] = padded_styles[cell.get("s", "")]
                    prev_row = row_no
                    el.clear(keep_tail=False)
                    while el.getprevious() is not None:
                        del el.getparent()[0]
            parser.close()
        if batch:
            seen(*_extent(batch, fail))
    except etree.XMLSyntaxError as exc:
        raise fail(f"its part is not well-formed XML (line {exc.lineno})") from None
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise fail(f"its part is damaged ({exc})") from None
    return SheetFacts(
        name,
        member,
        hidden,
        last_row,
        last_col,
        tuple(hidden_rows),
        frozenset(hidden_cols),
        errors,
        padded,
    )


_LETTERS, _NUMBERS = re.compile(r"[A-Z]+"), re.compile(r"[0-9]+")
_REF_BATCH = 1 << 16  # references measured at once


def _extent(refs: list[str], fail: Callable[[str], ExtractError]) -> tuple[int, int, int, int]:
    """(first row, last row, first column, last column) of cells by their own references,
    which is where the reader puts them (whatever their row says, in whatever order): numpy
    over a batch of references, no Python per cell."""
    joined = " ".join(refs)
    if not _REFS.fullmatch(joined):
        raise fail("a cell reference is not of the form A1")
    letters, numbers = _LETTERS.findall(joined), _NUMBERS.findall(joined)
    if max(map(len, letters)) > 3 or max(map(len, numbers)) > 7:
        raise fail("a cell reference is outside Excel's grid (A1:XFD1048576)")
    codes = np.array(letters, dtype="<U3").view(np.uint32).reshape(-1, 3).astype(np.int64)
    width = (codes != 0).sum(axis=1)
    value = np.where(codes != 0, codes - 64, 0)
    two = value[:, 0] * 26 + value[:, 1]
    columns = np.where(width == 1, value[:, 0], np.where(width == 2, two, two * 26 + value[:, 2]))
    rows = np.array(numbers).astype(np.int64)
    lo_col, hi_col = int(columns.min()), int(columns.max())
    lo_row, hi_row = int(rows.min()), int(rows.max())
    if lo_row < 1 or hi_row > EXCEL_ROWS or hi_col > EXCEL_COLUMNS:
        at = int(np.argmax(columns)) if hi_col > EXCEL_COLUMNS else int(np.argmax(rows))
        raise fail(f"cell reference {refs[at][:20]!r} is outside Excel's grid (A1:XFD1048576)")
    return lo_row, hi_row, lo_col, hi_col


def _digits(text: str | None) -> bool:
    return text is None or (text.isascii() and text.isdigit() and len(text) <= 7)


def _column_of(cell: etree._Element, position: int, fail: Callable[[str], ExtractError]) -> int:
    """The 1-based column of a cell: its A1 reference, or its place in the row without one."""
    ref = cell.get("r")
    if ref is None:
        return position
    m = _CELL_REF.match(ref)
    col = column_number(m.group(1)) if m else 0
    if not 1 <= col <= EXCEL_COLUMNS:
        raise fail(f"cell reference {ref[:20]!r} is outside Excel's grid (A1:XFD1048576)")
    return col


def check_workbook(path: Path, sheet: str) -> SheetFacts:
    """Refuse a file that is no bounded .xlsx workbook; the facts of worksheet ``sheet``.

    ExtractError when the file is something else, or has no worksheet ``sheet`` (the message
    lists the worksheets it has).
    """
    with _open_archive(path) as archive:
        _check_directory(path, archive)
        sheets = _sheet_members(path, archive)
        found = [s for s in sheets if s[0] == sheet]
        if not found:
            names = ", ".join(repr(s[0]) for s in sheets) or "none"
            raise _refuse(path, f"workbook has no sheet {sheet!r}; it has {names}")
        name, member, hidden = found[0]
        _count_all(path, archive, member)
        return _scan_sheet(path, archive, name, member, hidden, _padded_styles(path, archive))
