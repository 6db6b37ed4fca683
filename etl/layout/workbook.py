"""Layouts from a spec workbook: an .xlsx read through a small import map into documents.

The official workbooks' column set is not confirmed (facts.md §4.1 [NF]), so which header names
the 項目名, データ型, 桁数, 小数桁, 必須, コード表 … columns is said by an import map
(``ImportMapModel``, docs/layouts.md "Import from a workbook"), not here. The same reader takes
a spec-shaped workbook (one sheet per record file, or one sheet for all with a record-file
column) and a 基本データリスト-shaped one (データ項目名称, データ型, 桁数, コード), each with
its map.

A workbook is hostile input: read as a bounded regular file, its ZIP container checked before
any part is inflated (a bomb is refused by its declared sizes, never by trying), every sheet
bounded in rows and columns. Each problem is one LayoutError naming the workbook and the cell
(``book.xlsx: 住民情報!D12: …``). Reading uses python-calamine (a Rust reader: a 10,000-row
sheet in milliseconds, no per-cell Python objects until the rows are asked for).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import python_calamine
from pydantic import Field, Strict, StringConstraints, ValidationError

from etl.config import KeyProblem, StrictModel, errors_as, read_config_bytes, read_yaml
from etl.errors import ConfigError, KeyPath, LayoutError
from etl.layout.load import CodeTableModel, Id, LayoutFileModel, Name
from etl.layout.model import ItemType, RecordFile
from etl.layout.writer import CodeTableDocument, LayoutDocument

MAX_WORKBOOK_BYTES = 32 << 20  # a spec workbook is kilobytes to a few megabytes
MAX_INFLATED_BYTES = 256 << 20  # all parts of the ZIP container together, as declared
MAX_PARTS = 10_000
MAX_ROWS = 100_000  # per sheet: far more items than any 業務 has
MAX_COLUMNS = 256

Header = Annotated[str, StringConstraints(min_length=1, max_length=200)]
SheetName = Annotated[str, StringConstraints(min_length=1, max_length=31)]
TRUE_VALUES = ("○", "◯", "●", "1", "true", "TRUE", "True", "必須", "Y", "y", "yes")
FALSE_VALUES = ("", "×", "-", "－", "0", "false", "FALSE", "False", "任意", "N", "n", "no")


class ItemColumns(StrictModel):
    """The header text of each column of an item sheet; only name, type and digits are needed."""

    name: Header  # 項目名 / データ項目名称
    type: Header  # データ型
    digits: Header  # 桁数 ("9,2": precision and scale, when there is no scale column)
    scale: Header | None = None  # 小数桁
    required: Header | None = None  # 必須
    code_table: Header | None = None  # コード表 / コード: the table's id or 名称
    key: Header | None = None  # position of the item in the record file's key (1, 2 …)
    sensitive: Header | None = None
    description: Header | None = None
    record_file: Header | None = None  # ファイルID on each row: one sheet for all files
    record_file_name: Header | None = None  # ファイル名 on each row


class RecordFileEntry(StrictModel):
    """A sheet that is one record file, for what its rows do not say."""

    id: Id
    name: Name | None = None  # default: the sheet's name
    key: list[Name] | None = None  # default: the key column


class ProvenanceEntry(StrictModel):
    source: Literal["authored", "official", "mixed"] = "official"
    authored_parts: list[Name] = Field(default_factory=list)
    note: str = ""


class LayoutEntry(StrictModel):
    """The 業務 itself, when the workbook has no layout sheet saying it."""

    id: Id | None = None
    name: Name | None = None
    version: Name | None = None
    provenance: ProvenanceEntry = ProvenanceEntry()
    comment: list[str] = Field(default_factory=list)


class CodeColumns(StrictModel):
    table: Header  # コード表ID, or the table's 名称 (then ``ids`` gives its id)
    code: Header  # コード
    name: Header  # 名称
    table_name: Header | None = None  # コード表名称 (on the table's first row)
    authored: Header | None = None  # 独自作成 (first row)
    note: Header | None = None  # 注記 (first row; line breaks kept as the file's lines)
    comment: Header | None = None


class CodeSheet(StrictModel):
    sheet: SheetName
    header_row: Annotated[int, Field(ge=1, le=100)] = 1
    columns: CodeColumns
    ids: dict[Name, Id] = Field(default_factory=dict)  # 名称 → id when tables go by 名称


class ImportMapModel(StrictModel):
    """An import map (``--map``): where a workbook keeps each part of a layout."""

    header_row: Annotated[int, Field(ge=1, le=100)] = 1
    item_sheets: list[SheetName] | None = None  # default: every sheet but the two below
    columns: ItemColumns
    types: Annotated[
        dict[Name, Annotated[ItemType, Strict(False)]], Field(min_length=1)
    ]  # workbook データ型 → type
    true_values: list[str] = Field(default_factory=lambda: list(TRUE_VALUES))
    false_values: list[str] = Field(default_factory=lambda: list(FALSE_VALUES))
    record_files: dict[SheetName, RecordFileEntry] = Field(default_factory=dict)  # by sheet
    # a sheet of two columns, key | value: id, name, version, provenance.source,
    # provenance.authored_parts (one row each), provenance.note, comment
    layout_sheet: SheetName | None = None
    layout: LayoutEntry = LayoutEntry()
    codes: CodeSheet | None = None


@dataclass(frozen=True, slots=True)
class ImportedLayout:
    """A workbook's 業務: its layout and the code tables its items use."""

    layout: LayoutDocument
    code_tables: tuple[CodeTableDocument, ...]


def load_import_map(path: Path) -> ImportMapModel:
    with errors_as(LayoutError):
        return read_yaml(path, what="import map").parse(ImportMapModel)


# --- the workbook as sheets of cells ------------------------------------------------------


def cell_ref(sheet: str, row: int, col: int) -> str:
    """``住民情報!D12`` (row and col 0-based), the sheet quoted as Excel quotes it."""
    letters = ""
    n = col + 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    shown = sheet if re.fullmatch(r"[^\s!'\-()]+", sheet) else "'" + sheet.replace("'", "''") + "'"
    return f"{shown}!{letters}{row + 1}"


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time | timedelta):
        return value.isoformat() if not isinstance(value, timedelta) else str(value)
    return str(value).strip()


@dataclass(frozen=True, slots=True)
class Sheet:
    name: str
    rows: tuple[tuple[str, ...], ...]  # every cell as text, from A1

    def text(self, row: int, col: int) -> str:
        cells = self.rows[row] if row < len(self.rows) else ()
        return cells[col] if col < len(cells) else ""


class Workbook:
    """An .xlsx read whole into text cells, after its container passed the checks."""

    def __init__(self, path: Path) -> None:
        self.path = path
        data = read_config_bytes(path, what="workbook", limit=MAX_WORKBOOK_BYTES)
        self._check_container(data)
        try:
            self._book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
            self.sheet_names: tuple[str, ...] = tuple(self._book.sheet_names)
        except python_calamine.PasswordError:
            raise self.error("the workbook is encrypted; save it without a password") from None
        except Exception as exc:  # calamine's errors carry no stable class per cause
            raise self.error(f"not a readable xlsx workbook: {_short(exc)}") from None
        if not self.sheet_names:
            raise self.error("the workbook has no sheets")
        self._sheets: dict[str, Sheet] = {}

    def error(self, reason: str, where: str | None = None) -> LayoutError:
        return LayoutError(self.path, reason, key_path=where)

    def _check_container(self, data: bytes) -> None:
        if data.startswith(b"\xd0\xcf\x11\xe0"):
            raise self.error(
                "an encrypted workbook or a legacy .xls (OLE container): save it as an"
                " unencrypted .xlsx"
            )
        if not data:
            raise self.error("the workbook is empty (0 bytes)")
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                parts = archive.infolist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            raise self.error("not an xlsx workbook (no ZIP container)") from None
        if len(parts) > MAX_PARTS:
            raise self.error(f"the workbook has more than {MAX_PARTS:,} parts")
        inflated = sum(p.file_size for p in parts)
        if inflated > MAX_INFLATED_BYTES:
            raise self.error(
                f"the workbook inflates to {inflated:,} bytes, more than"
                f" {MAX_INFLATED_BYTES:,} (a ZIP bomb?)"
            )
        if not any(p.filename == "xl/workbook.xml" for p in parts):
            raise self.error("not an xlsx workbook (no xl/workbook.xml)")

    def sheet(self, name: str) -> Sheet:
        if name not in self._sheets:
            self._sheets[name] = self._read(name)
        return self._sheets[name]

    def _read(self, name: str) -> Sheet:
        if name not in self.sheet_names:
            known = ", ".join(self.sheet_names)
            raise self.error(f"no sheet {name!r}; the workbook has: {known}")
        try:
            raw = self._book.get_sheet_by_name(name)
            end = raw.end
            if end is not None and end[0] >= MAX_ROWS:
                raise self.error(f"more than {MAX_ROWS:,} rows", cell_ref(name, MAX_ROWS, 0))
            if end is not None and end[1] >= MAX_COLUMNS:
                raise self.error(f"more than {MAX_COLUMNS} columns", cell_ref(name, 0, MAX_COLUMNS))
            rows = raw.to_python(skip_empty_area=False)
        except LayoutError:
            raise
        except Exception as exc:
            raise self.error(f"sheet {name!r} cannot be read: {_short(exc)}") from None
        return Sheet(name, tuple(tuple(_cell_text(v) for v in row) for row in rows))


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


# --- items --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Row:
    sheet: str
    row: int
    cols: Mapping[str, int]  # field → column
    cells: tuple[str, ...]
    home: int = 0  # the column named for a field the sheet has no column for

    def get(self, field: str) -> str:
        col = self.cols.get(field)
        if col is None or col >= len(self.cells):
            return ""
        return self.cells[col]

    def ref(self, field: str) -> str:
        return cell_ref(self.sheet, self.row, self.cols.get(field, self.home))


def _header(
    book: Workbook, sheet: Sheet, header_row: int, wanted: Mapping[str, str | None]
) -> dict[str, int]:
    """field → column of the header row; a mapped column missing is an error naming the row."""
    row = header_row - 1
    found = {
        sheet.text(row, c): c for c in range(len(sheet.rows[row]) if row < len(sheet.rows) else 0)
    }
    cols: dict[str, int] = {}
    for field, header in wanted.items():
        if header is None:
            continue
        if header not in found:
            seen = ", ".join(h for h in found if h) or "nothing"
            raise book.error(
                f"no column {header!r} (the map's {field}) in the header row; it has: {seen}",
                cell_ref(sheet.name, row, 0),
            )
        cols[field] = found[header]
    return cols


def _item_rows(book: Workbook, spec: ImportMapModel) -> Iterator[_Row]:
    others = {spec.layout_sheet, spec.codes.sheet if spec.codes else None}
    names = spec.item_sheets or [n for n in book.sheet_names if n not in others]
    wanted = spec.columns.model_dump()
    for name in names:
        sheet = book.sheet(name)
        cols = _header(book, sheet, spec.header_row, wanted)
        for r in range(spec.header_row, len(sheet.rows)):
            cells = sheet.rows[r]
            if any(cells):
                yield _Row(name, r, cols, cells, cols["name"])


def _int(book: Workbook, text: str, where: str, what: str) -> int:
    if not re.fullmatch(r"[0-9]{1,6}", text):
        raise book.error(f"{what} must be a whole number, got {text[:40]!r}", where)
    return int(text)


def _flag(book: Workbook, spec: ImportMapModel, row: _Row, field: str) -> bool:
    text = row.get(field)
    if text in spec.true_values:
        return True
    if text in spec.false_values:
        return False
    raise book.error(
        f"{field} must be one of {', '.join(spec.true_values)} (yes) or"
        f" {', '.join(repr(v) for v in spec.false_values)} (no), got {text[:40]!r}",
        row.ref(field),
    )


@dataclass
class _FileRows:
    id: str
    name: str
    where: str  # cell or sheet of its first row
    items: list[dict[str, Any]]
    cells: dict[KeyPath, str]  # item index + field → cell
    key_at: dict[int, tuple[str, str]]  # key position → (item name, cell)
    key: list[str] | None


def _item(
    book: Workbook, spec: ImportMapModel, row: _Row, tables: Mapping[str, str]
) -> dict[str, Any]:
    type_text = row.get("type")
    if type_text not in spec.types:
        known = ", ".join(spec.types)
        raise book.error(
            f"unknown データ型 {type_text[:40]!r}; the map knows: {known}", row.ref("type")
        )
    kind = spec.types[type_text]
    digits_text, scale_text = row.get("digits"), row.get("scale")
    if (
        m := re.fullmatch(r"([0-9]{1,6})\s*[,.，．]\s*([0-9]{1,6})", digits_text)
    ) and not scale_text:
        digits_text, scale_text = m.group(1), m.group(2)
    item: dict[str, Any] = {
        "name": row.get("name"),
        "type": kind.value,
        "digits": _int(book, digits_text, row.ref("digits"), "桁数"),
    }
    if scale_text:
        item["scale"] = _int(book, scale_text, row.ref("scale"), "小数桁")
    elif kind is ItemType.DECIMAL:
        item["scale"] = 0
    table = row.get("code_table")
    if table:
        if table not in tables:
            known = ", ".join(sorted(set(tables.values()))) or "none (the map names no code sheet)"
            raise book.error(
                f"unknown code table {table[:60]!r}; the workbook has: {known}",
                row.ref("code_table"),
            )
        item["code_table"] = tables[table]
    for flag in ("required", "sensitive"):
        if flag in row.cols and _flag(book, spec, row, flag):
            item[flag] = True
    if row.get("description"):
        item["description"] = row.get("description")
    return item


def _record_files(
    book: Workbook, spec: ImportMapModel, tables: Mapping[str, str]
) -> list[_FileRows]:
    files: dict[str, _FileRows] = {}
    for row in _item_rows(book, spec):
        entry = spec.record_files.get(row.sheet)
        file_id = row.get("record_file") or (entry.id if entry else "")
        if not file_id:
            raise book.error(
                f"no record file: give the map a record_file column or record_files.{row.sheet}.id",
                row.ref("record_file"),
            )
        name = row.get("record_file_name") or (entry.name if entry and entry.name else row.sheet)
        rf = files.get(file_id)
        if rf is None:
            rf = files[file_id] = _FileRows(
                file_id, name, row.ref("record_file"), [], {}, {}, entry.key if entry else None
            )
        j = len(rf.items)
        rf.items.append(_item(book, spec, row, tables))
        for field in row.cols:
            rf.cells[("items", j, field)] = row.ref(field)
        rf.cells[("items", j)] = row.ref("name")
        if row.get("key"):
            pos = _int(book, row.get("key"), row.ref("key"), "キー")
            if pos in rf.key_at:
                raise book.error(f"key position {pos} is also {rf.key_at[pos][1]}", row.ref("key"))
            rf.key_at[pos] = (row.get("name"), row.ref("key"))
    if not files:
        raise book.error("no items: every item sheet is empty below its header row")
    return list(files.values())


# --- layout sheet and code tables ---------------------------------------------------------


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def _layout_sheet(book: Workbook, spec: ImportMapModel) -> dict[str, Any]:
    base = spec.layout
    found: dict[str, Any] = {
        "id": base.id,
        "name": base.name,
        "version": base.version,
        "source": base.provenance.source,
        "authored_parts": list(base.provenance.authored_parts),
        "note": _lines(base.provenance.note),
        "comment": tuple(base.comment),
    }
    if spec.layout_sheet is None:
        return found
    sheet = book.sheet(spec.layout_sheet)
    parts: list[str] = []
    for r, cells in enumerate(sheet.rows):
        key, value = (*cells, "", "")[:2]
        where = cell_ref(sheet.name, r, 0)
        match key:
            case "":
                continue
            case "id" | "name" | "version":
                found[key] = value or None
            case "provenance.source":
                found["source"] = value
            case "provenance.authored_parts":
                parts.append(value)
            case "provenance.note":
                found["note"] = _lines(value)
            case "comment":
                found["comment"] = tuple(value.splitlines())
            case _:
                raise book.error(
                    f"unknown key {key[:40]!r}; a layout sheet has id, name, version,"
                    " provenance.source, provenance.authored_parts, provenance.note, comment",
                    where,
                )
    if parts:
        found["authored_parts"] = parts
    return found


def _code_tables(
    book: Workbook, spec: ImportMapModel
) -> tuple[list[CodeTableDocument], dict[str, str]]:
    """The code sheet's tables, and every name an item may use for one (id or 名称) → id."""
    if spec.codes is None:
        return [], {}
    codes = spec.codes
    sheet = book.sheet(codes.sheet)
    cols = _header(book, sheet, codes.header_row, codes.columns.model_dump())
    tables: dict[str, dict[str, Any]] = {}
    for r in range(codes.header_row, len(sheet.rows)):
        row = _Row(sheet.name, r, cols, sheet.rows[r], cols["code"])
        if not any(row.cells):
            continue
        label = row.get("table")
        table_id = codes.ids.get(label, label)
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", table_id):
            raise book.error(
                f"code table {label[:40]!r} has no id: an ASCII id, or codes.ids in the map",
                row.ref("table"),
            )
        table = tables.get(table_id)
        if table is None:
            table = tables[table_id] = {
                "id": table_id,
                "name": row.get("table_name") or (label if label != table_id else table_id),
                "label": label,
                "authored": True if "authored" not in cols else _flag(book, spec, row, "authored"),
                "note": _lines(row.get("note")) if "note" in cols else (),
                "comment": tuple(row.get("comment").splitlines()) if "comment" in cols else (),
                "values": {},
                "cells": {},
            }
        code, value = row.get("code"), row.get("name")
        if code in table["values"]:
            raise book.error(
                f"code {code[:20]!r} of {table_id} repeats {table['cells'][code]}", row.ref("code")
            )
        table["values"][code] = value
        table["cells"][code] = row.ref("code")
    docs = []
    for t in tables.values():
        data = {
            "id": t["id"],
            "name": t["name"],
            "values": t["values"],
            "authored": t["authored"],
            "note": " ".join(t["note"]),
        }
        model = _validated(
            book,
            CodeTableModel,
            data,
            {("values", c): ref for c, ref in t["cells"].items()},
            t["cells"][next(iter(t["cells"]))],
        )
        docs.append(
            CodeTableDocument(
                id=t["id"],
                name=model.name or t["id"],
                values=tuple(model.values.items()),
                authored=model.authored,
                note_lines=t["note"],
                comment=t["comment"],
            )
        )
    names = (
        {t["id"]: t["id"] for t in tables.values()}
        | {t["label"]: t["id"] for t in tables.values()}
        | {t["name"]: t["id"] for t in tables.values()}
    )
    return docs, names


def _validated(
    book: Workbook,
    model: type[Any],
    data: dict[str, Any],
    cells: Mapping[KeyPath, str],
    fallback: str | None,
) -> Any:
    """``data`` through the file model that reads the YAML (the same checks), a problem named
    by the cell it came from."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc: KeyPath = tuple(first["loc"])
        error = (first.get("ctx") or {}).get("error")
        reason = first["msg"]
        if isinstance(error, KeyProblem):
            loc += error.key_path
            reason = error.reason
        for end in range(len(loc), -1, -1):
            if loc[:end] in cells:
                raise book.error(reason, cells[loc[:end]]) from None
        raise book.error(reason, fallback) from None


# --- the whole --------------------------------------------------------------------------


def read_workbook(path: Path, spec: ImportMapModel) -> ImportedLayout:
    """One 業務 from a workbook: its layout, and the code tables its items use."""
    try:
        book = Workbook(path)
        tables, table_ids = _code_tables(book, spec)
        meta = _layout_sheet(book, spec)
        files = _record_files(book, spec, table_ids)
    except ConfigError as exc:
        if isinstance(exc, LayoutError):
            raise
        raise LayoutError(path, exc.reason, key_path=exc.key_path) from None
    where = spec.layout_sheet or book.sheet_names[0]
    if not meta["id"] or not meta["name"]:
        raise book.error(
            "the 業務's id and name are not given: a layout sheet (layout_sheet) or the map's"
            " layout.id and layout.name",
            f"{where}!A1" if spec.layout_sheet else None,
        )
    cells: dict[KeyPath, str] = {}
    record_files = []
    for i, rf in enumerate(files):
        key = rf.key or [name for _, (name, _) in sorted(rf.key_at.items())]
        if not key:
            raise book.error(
                f"record file {rf.id} has no key: a key column or record_files.<sheet>.key",
                rf.where,
            )
        for field_path, ref in rf.cells.items():
            cells[("record_files", i, *field_path)] = ref
        for k, (pos, (_, ref)) in enumerate(sorted(rf.key_at.items())):
            cells[("record_files", i, "key", k)] = ref
            del pos
        cells[("record_files", i)] = rf.where
        record_files.append({"id": rf.id, "name": rf.name, "key": key, "items": rf.items})
    data = {
        "id": meta["id"],
        "name": meta["name"],
        "version": meta["version"],
        "provenance": {
            "source": meta["source"],
            "authored_parts": meta["authored_parts"],
            "note": " ".join(meta["note"]),
        },
        "record_files": record_files,
    }
    if spec.layout_sheet:
        cells[()] = f"{spec.layout_sheet}!A1"
    model = _validated(book, LayoutFileModel, data, cells, None)
    used = {it.code_table for rf in model.record_files for it in rf.items if it.code_table}
    layout = LayoutDocument(
        id=model.id,
        name=model.name,
        version=model.version,
        source=model.provenance.source,
        authored_parts=tuple(model.provenance.authored_parts),
        note_lines=meta["note"],
        record_files=tuple(
            RecordFile(
                id=rf.id,
                name=rf.name,
                key=tuple(rf.key),
                items=tuple(i.to_item() for i in rf.items),
            )
            for rf in model.record_files
        ),
        comment=meta["comment"],
    )
    return ImportedLayout(layout, tuple(t for t in tables if t.id in used))
