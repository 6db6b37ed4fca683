"""Layouts from a spec workbook: an .xlsx read through a small import map into documents.

The official workbooks' column set is not confirmed (facts.md §4.1 [NF]), so which header names
the 項目名, データ型, 桁数, 小数桁, 必須, コード表 … columns is said by an import map
(``ImportMapModel``, docs/layouts.md "Import from a workbook"), not here. The same reader takes
a spec-shaped workbook (one sheet per record file, or one sheet for all with a record-file
column) and a 基本データリスト-shaped one (データ項目名称, データ型, 桁数, コード), each with
its map.

A workbook is hostile input: read as a bounded regular file, its ZIP container checked before
calamine sees it (a bomb is refused by the sizes it declares, and each part is inflated in
blocks once, so none is larger than declared), every sheet bounded in rows, columns and cells.
Each problem is one LayoutError naming the workbook and the cell (``book.xlsx: 住民情報!D12:
…``). Reading uses python-calamine (Rust; the Excel extractor's reader, pinned once in
pyproject.toml): each cell keeps its own type, so a code typed as a number is told from text
and refused (01 would read as 1).

A layout is hundreds of items, not millions of records, so its rows are checked one by one;
10,000 items import in about 0.6 s on the shared 2-core machine (a cell is named, ``Cell``,
only when a message needs it).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

import python_calamine
from pydantic import Field, Strict, StringConstraints, ValidationError

from etl.config import KeyProblem, ModelT, StrictModel, errors_as, read_config_bytes, read_yaml
from etl.errors import ConfigError, KeyPath, LayoutError
from etl.layout.load import CodeTableModel, Id, LayoutFileModel, Name
from etl.layout.model import ItemType
from etl.layout.writer import CodeTableDocument, LayoutDocument

MAX_WORKBOOK_BYTES = 32 << 20  # a spec workbook is kilobytes to a few megabytes
MAX_INFLATED_BYTES = 128 << 20  # all parts of the ZIP container together, as declared
MAX_PARTS = 10_000
MAX_ROWS = 100_000  # per sheet: far more items than any 業務 has
MAX_COLUMNS = 256
MAX_CELLS = 2_000_000  # rows × columns: what a sheet's cells may cost in memory

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
    one_line: Header | None = None  # 一行: the values on one line in the file (first row)


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
    # the workbook's データ型 → item type; chukan's own names (text, date …) need no entry
    types: dict[Name, Annotated[ItemType, Strict(False)]] = Field(default_factory=dict)
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


# --- the workbook as sheets of text cells -------------------------------------------------


def cell_ref(sheet: str, row: int, col: int) -> str:
    """``住民情報!D12`` (row and col 0-based), the sheet quoted as Excel quotes it."""
    letters = ""
    n = col + 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    shown = sheet if re.fullmatch(r"[^\s!'\-()]+", sheet) else "'" + sheet.replace("'", "''") + "'"
    return f"{shown}!{letters}{row + 1}"


class Cell(NamedTuple):
    """Where a value came from; shown as ``住民情報!D12`` only when a message needs it."""

    sheet: str
    row: int  # 0-based
    col: int

    def __str__(self) -> str:
        return cell_ref(self.sheet, self.row, self.col)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).strip()


@dataclass(frozen=True, slots=True)
class Sheet:
    name: str
    rows: tuple[tuple[str, ...], ...]  # every cell as text, from A1
    numbers: frozenset[tuple[int, int]]  # (row, col) of the cells that hold a number

    def text(self, row: int, col: int) -> str:
        cells = self.rows[row] if row < len(self.rows) else ()
        return cells[col] if col < len(cells) else ""


class Workbook:
    """An .xlsx whose container passed the checks; its sheets read into text cells on demand."""

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

    def error(self, reason: str, where: Cell | None = None) -> LayoutError:
        return LayoutError(self.path, reason, key_path=None if where is None else str(where))

    def _check_container(self, data: bytes) -> None:
        """Refuse what is no xlsx, and a container that would inflate beyond the bound: first
        by the sizes it declares, then by inflating each part in blocks (a part larger than
        declared fails its CRC), so calamine is handed only parts of a known, bounded size."""
        if not data:
            raise self.error("the workbook is empty (0 bytes)")
        if data.startswith(b"\xd0\xcf\x11\xe0"):
            raise self.error(
                "an encrypted workbook or a legacy .xls (OLE container): save it as an"
                " unencrypted .xlsx"
            )
        if not data.startswith(b"PK\x03\x04"):
            raise self.error("not an xlsx workbook (no ZIP container)")
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                parts = archive.infolist()
                if len(parts) > MAX_PARTS:
                    raise self.error(f"the workbook has more than {MAX_PARTS:,} parts")
                declared = sum(p.file_size for p in parts)
                if declared > MAX_INFLATED_BYTES:
                    raise self.error(
                        f"the workbook inflates to {declared:,} bytes, more than"
                        f" {MAX_INFLATED_BYTES:,} (a ZIP bomb?)"
                    )
                if not any(p.filename == "xl/workbook.xml" for p in parts):
                    raise self.error("not an xlsx workbook (no xl/workbook.xml)")
                for part in parts:
                    rows, cells = _inflate_counting(archive, part)
                    if rows > MAX_ROWS or cells > MAX_CELLS:
                        self._oversized(archive, part.filename, rows, cells)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError):
            raise self.error("not an xlsx workbook (a broken or truncated ZIP container)") from None
        except (RuntimeError, NotImplementedError) as exc:  # encrypted or unknown compression
            raise self.error(f"the workbook's parts cannot be read: {_short(exc)}") from None

    def _oversized(self, archive: zipfile.ZipFile, part: str, rows: int, cells: int) -> None:
        """A sheet too large to read, refused before calamine would parse all of it."""
        name = _sheet_parts(archive).get(part, part)
        if rows > MAX_ROWS:
            raise self.error(f"more than {MAX_ROWS:,} rows", Cell(name, MAX_ROWS, 0))
        raise self.error(f"more than {MAX_CELLS:,} cells", Cell(name, 0, 0))

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
        except Exception as exc:
            raise self.error(f"sheet {name!r} cannot be read: {_short(exc)}") from None
        if end is not None:
            self._check_size(name, end[0] + 1, end[1] + 1)
        try:
            values = raw.to_python(skip_empty_area=False)
        except Exception as exc:
            raise self.error(f"sheet {name!r} cannot be read: {_short(exc)}") from None
        numbers = frozenset(
            (r, c)
            for r, row in enumerate(values)
            for c, v in enumerate(row)
            if isinstance(v, int | float) and not isinstance(v, bool)
        )
        rows = tuple(tuple(_cell_text(v) for v in row) for row in values)
        return Sheet(name, rows, numbers)

    def _check_size(self, name: str, rows: int, cols: int) -> None:
        if rows > MAX_ROWS:
            raise self.error(f"more than {MAX_ROWS:,} rows", Cell(name, MAX_ROWS, 0))
        if cols > MAX_COLUMNS:
            raise self.error(f"more than {MAX_COLUMNS} columns", Cell(name, 0, MAX_COLUMNS))
        if rows * cols > MAX_CELLS:
            raise self.error(
                f"{rows:,} rows × {cols} columns: more than {MAX_CELLS:,} cells",
                Cell(name, rows - 1, cols - 1),
            )


_WORKSHEET = re.compile(r"^xl/worksheets/[^/]+\.xml$")
# row and cell elements, also with a namespace prefix (<x:row …>); text that happens to hold
# ":c " counts too, so the counts are an upper bound, never too low
_ROW_TOKENS = (b"<row ", b"<row>", b":row ", b":row>")
_CELL_TOKENS = (b"<c ", b"<c>", b"<c/>", b":c ", b":c>", b":c/>")
_OVERLAP = 5  # bytes of a block seen again with the next one, so no token is cut in two


def _inflate_counting(archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> tuple[int, int]:
    """Inflate a part in blocks (never more than it declared: zipfile stops there and checks
    the CRC); for a worksheet, count its row and cell elements on the way (bytes.count: the
    whole of a large sheet in well under a second)."""
    counting = bool(_WORKSHEET.match(part.filename))
    rows = cells = 0
    tail = b""
    with archive.open(part) as fh:
        while block := fh.read(1 << 20):
            if counting:
                text = tail + block
                rows += sum(text.count(t) for t in _ROW_TOKENS)
                cells += sum(text.count(t) for t in _CELL_TOKENS)
                tail = text[-_OVERLAP:]
    return rows, cells


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet part → sheet name, from xl/workbook.xml and its relationships (both read with
    entities and network refused); empty when they cannot be read."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        book = etree.fromstring(archive.read("xl/workbook.xml"), parser)
        rels = etree.fromstring(archive.read("xl/_rels/workbook.xml.rels"), parser)
    except (KeyError, etree.XMLSyntaxError):
        return {}
    targets = {
        r.get("Id"): "xl/" + (r.get("Target") or "").removeprefix("/xl/").lstrip("/") for r in rels
    }
    rel_id = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    return {
        targets[sheet.get(rel_id)]: sheet.get("name") or ""
        for sheet in book.iter("{*}sheet")
        if sheet.get(rel_id) in targets
    }


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


# --- rows of a sheet ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Row:
    """One data row of a sheet, its cells found by the map's field names."""

    sheet: Sheet
    row: int
    cols: Mapping[str, int]  # field → column
    home: int  # the column named for a field the sheet has no column for

    def get(self, field: str) -> str:
        col = self.cols.get(field)
        return "" if col is None else self.sheet.text(self.row, col)

    def ref(self, field: str) -> Cell:
        return Cell(self.sheet.name, self.row, self.cols.get(field, self.home))

    def is_number(self, field: str) -> bool:
        col = self.cols.get(field)
        return col is not None and (self.row, col) in self.sheet.numbers


def _rows(
    book: Workbook, name: str, header_row: int, wanted: Mapping[str, str | None], home: str
) -> Iterator[_Row]:
    """The non-empty rows below the header row; a column the map names but the header row
    lacks is an error naming that row."""
    sheet = book.sheet(name)
    at = header_row - 1
    width = len(sheet.rows[at]) if at < len(sheet.rows) else 0
    found: dict[str, int] = {}
    for c in range(width):
        found.setdefault(sheet.text(at, c), c)
    cols: dict[str, int] = {}
    for wanted_field, header in wanted.items():
        if header is None:
            continue
        if header not in found:
            seen = ", ".join(h for h in found if h) or "nothing"
            raise book.error(
                f"no column {header!r} (the map's {wanted_field}) in the header row;"
                f" it has: {seen}",
                Cell(name, at, 0),
            )
        cols[wanted_field] = found[header]
    for r in range(header_row, len(sheet.rows)):
        if any(sheet.rows[r]):
            yield _Row(sheet, r, cols, cols[home])


def _int(book: Workbook, row: _Row, field: str, what: str, text: str | None = None) -> int:
    value = row.get(field) if text is None else text
    if not re.fullmatch(r"[0-9]{1,6}", value):
        raise book.error(f"{what} must be a whole number, got {value[:40]!r}", row.ref(field))
    return int(value)


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


def _lines(text: str) -> tuple[str, ...]:
    """A note cell's lines (the file's folded lines), blank ones dropped."""
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def _validated(
    book: Workbook,
    model: type[ModelT],
    data: dict[str, Any],
    cells: Mapping[KeyPath, Cell],
    fallback: Cell | None,
) -> ModelT:
    """``data`` through the model that reads the YAML file (the same checks), a problem named
    by the cell it came from (the nearest key path that has one)."""
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
        where = next((cells[loc[:n]] for n in range(len(loc), -1, -1) if loc[:n] in cells), None)
        raise book.error(reason, where or fallback) from None


# --- code tables --------------------------------------------------------------------------


@dataclass
class _TableRows:
    """One code table as its rows give it (the first row carries the table's own cells)."""

    id: str
    label: str  # what the sheet calls it (its id or 名称)
    first: _Row
    values: dict[str, str] = field(default_factory=dict)
    cells: dict[str, Cell] = field(default_factory=dict)  # code → its cell

    def document(self, book: Workbook, spec: ImportMapModel) -> CodeTableDocument:
        row, cols = self.first, self.first.cols
        name = row.get("table_name") or (self.label if self.label != self.id else self.id)
        authored = _flag(book, spec, row, "authored") if "authored" in cols else True
        note = _lines(row.get("note"))
        data = {
            "id": self.id,
            "name": name,
            "values": self.values,
            "authored": authored,
            "note": " ".join(note),
        }
        cells: dict[KeyPath, Cell] = {("values", c): ref for c, ref in self.cells.items()}
        model = _validated(book, CodeTableModel, data, cells, row.ref("table"))
        return CodeTableDocument(
            id=self.id,
            name=name,
            values=tuple(model.values.items()),
            authored=model.authored,
            note_lines=note,
            comment=tuple(row.get("comment").splitlines()),
            one_line=_flag(book, spec, row, "one_line") if row.get("one_line") else None,
        )


def _code_tables(
    book: Workbook, spec: ImportMapModel
) -> tuple[list[CodeTableDocument], dict[str, str]]:
    """The code sheet's tables, and every name an item may give one (id, label, 名称) → id."""
    codes = spec.codes
    if codes is None:
        return [], {}
    tables: dict[str, _TableRows] = {}
    wanted = codes.columns.model_dump()
    for row in _rows(book, codes.sheet, codes.header_row, wanted, "code"):
        label = row.get("table")
        table_id = codes.ids.get(label, label)
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", table_id):
            raise book.error(
                f"code table {label[:40]!r} has no id: an ASCII id, or codes.ids in the map",
                row.ref("table"),
            )
        table = tables.setdefault(table_id, _TableRows(table_id, label, row))
        code = row.get("code")
        if row.is_number("code"):
            raise book.error(
                f"code {code[:20]!r} is a number: format the column as text, so that a code"
                " such as 01 stays 01",
                row.ref("code"),
            )
        if code in table.values:
            raise book.error(
                f"code {code[:20]!r} of {table_id} repeats {table.cells[code]}", row.ref("code")
            )
        table.values[code] = row.get("name")
        table.cells[code] = row.ref("code")
    docs = [t.document(book, spec) for t in tables.values()]
    names: dict[str, str] = {}
    for t, doc in zip(tables.values(), docs, strict=True):
        names.update({doc.name: t.id, t.label: t.id, t.id: t.id})
    return docs, names


# --- record files and items ---------------------------------------------------------------


@dataclass
class _FileRows:
    """One record file as its rows give it."""

    id: str
    name: str
    where: Cell  # the cell of its first row
    key: list[str] | None  # from the map (record_files.<sheet>.key)
    items: list[dict[str, Any]] = field(default_factory=list)
    cells: dict[KeyPath, Cell] = field(default_factory=dict)  # ("items", j, field) → cell
    key_at: dict[int, tuple[str, Cell]] = field(default_factory=dict)  # position → name, cell

    def add(
        self, book: Workbook, spec: ImportMapModel, row: _Row, tables: Mapping[str, str]
    ) -> None:
        j = len(self.items)
        self.items.append(_item(book, spec, row, tables))
        self.cells[("items", j)] = row.ref("name")
        for name in row.cols:
            self.cells[("items", j, name)] = row.ref(name)
        if row.get("key"):
            pos = _int(book, row, "key", "キー")
            if pos in self.key_at:
                raise book.error(
                    f"key position {pos} is also {self.key_at[pos][1]}", row.ref("key")
                )
            self.key_at[pos] = (row.get("name"), row.ref("key"))

    def data(self, book: Workbook) -> dict[str, Any]:
        key = self.key or [name for _, (name, _) in sorted(self.key_at.items())]
        if not key:
            raise book.error(
                f"record file {self.id} has no key: a key column or record_files.<sheet>.key",
                self.where,
            )
        return {"id": self.id, "name": self.name, "key": key, "items": self.items}


_PRECISION_SCALE = re.compile(r"([0-9]{1,6})\s*[,.，．]\s*([0-9]{1,6})")


def _item(
    book: Workbook, spec: ImportMapModel, row: _Row, tables: Mapping[str, str]
) -> dict[str, Any]:
    """One item row as the layout file's item mapping (only what differs from the default)."""
    type_text = row.get("type")
    own = {t.value: t for t in ItemType}  # chukan's own names are always understood
    kind = spec.types.get(type_text) or own.get(type_text)
    if kind is None:
        known = ", ".join([*spec.types, *own])
        raise book.error(
            f"unknown データ型 {type_text[:40]!r}; the map knows: {known}", row.ref("type")
        )
    digits_text, scale_text = row.get("digits"), row.get("scale")
    if not scale_text and (m := _PRECISION_SCALE.fullmatch(digits_text)):
        digits_text, scale_text = m.group(1), m.group(2)
    item: dict[str, Any] = {
        "name": row.get("name"),
        "type": kind.value,
        "digits": _int(book, row, "digits", "桁数", digits_text),
    }
    if scale_text:
        item["scale"] = _int(
            book, row, "scale" if row.get("scale") else "digits", "小数桁", scale_text
        )
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
    others = {spec.layout_sheet, spec.codes.sheet if spec.codes else None}
    sheets = spec.item_sheets or [n for n in book.sheet_names if n not in others]
    wanted = spec.columns.model_dump()
    files: dict[str, _FileRows] = {}
    for sheet in sheets:
        entry = spec.record_files.get(sheet)
        for row in _rows(book, sheet, spec.header_row, wanted, "name"):
            file_id = row.get("record_file") or (entry.id if entry else "")
            if not file_id:
                raise book.error(
                    f"no record file: give the map a record_file column or record_files.{sheet}.id",
                    row.ref("record_file"),
                )
            if file_id not in files:
                name = row.get("record_file_name") or (entry.name if entry else None) or sheet
                key = entry.key if entry else None
                files[file_id] = _FileRows(file_id, name, row.ref("record_file"), key)
            files[file_id].add(book, spec, row, tables)
    if not files:
        raise book.error("no items: every item sheet is empty below its header row")
    return list(files.values())


# --- the 業務 -----------------------------------------------------------------------------


@dataclass
class _LayoutFacts:
    """What a layout file says besides its record files (layout sheet over the map's layout)."""

    id: str | None
    name: str | None
    version: str | None
    source: str
    authored_parts: list[str]
    note: tuple[str, ...]
    comment: tuple[str, ...]
    where: Cell | None  # the layout sheet's first cell


_LAYOUT_KEYS = (
    "id, name, version, provenance.source, provenance.authored_parts, provenance.note, comment"
)


def _layout_facts(book: Workbook, spec: ImportMapModel) -> _LayoutFacts:
    base = spec.layout
    facts = _LayoutFacts(
        id=base.id,
        name=base.name,
        version=base.version,
        source=base.provenance.source,
        authored_parts=list(base.provenance.authored_parts),
        note=_lines(base.provenance.note),
        comment=tuple(base.comment),
        where=None,
    )
    if spec.layout_sheet is None:
        return facts
    sheet = book.sheet(spec.layout_sheet)
    facts.where = Cell(sheet.name, 0, 0)
    parts: list[str] = []
    for r in range(len(sheet.rows)):
        key, value = sheet.text(r, 0), sheet.text(r, 1)
        match key:
            case "":
                continue
            case "id":
                facts.id = value or None
            case "name":
                facts.name = value or None
            case "version":
                facts.version = value or None
            case "provenance.source":
                facts.source = value
            case "provenance.authored_parts":
                parts.append(value)
            case "provenance.note":
                facts.note = _lines(value)
            case "comment":
                facts.comment = tuple(value.splitlines())
            case _:
                raise book.error(
                    f"unknown key {key[:40]!r}; a layout sheet has {_LAYOUT_KEYS}",
                    Cell(sheet.name, r, 0),
                )
    if parts:
        facts.authored_parts = parts
    return facts


def read_workbook(path: Path, spec: ImportMapModel) -> ImportedLayout:
    """One 業務 from a workbook: its layout, and the code tables its items use."""
    try:
        book = Workbook(path)
        tables, table_ids = _code_tables(book, spec)
        facts = _layout_facts(book, spec)
        files = _record_files(book, spec, table_ids)
    except ConfigError as exc:  # the workbook itself unreadable (etl.config's reader)
        if isinstance(exc, LayoutError):
            raise
        raise LayoutError(path, exc.reason, key_path=exc.key_path) from None
    if not facts.id or not facts.name:
        raise book.error(
            "the 業務's id and name are not given: a layout sheet (layout_sheet) or the map's"
            " layout.id and layout.name",
            facts.where,
        )
    cells: dict[KeyPath, Cell] = {}
    for i, rf in enumerate(files):
        cells[("record_files", i)] = rf.where
        cells.update({("record_files", i, *at): ref for at, ref in rf.cells.items()})
        for k, (_, ref) in enumerate(v for _, v in sorted(rf.key_at.items())):
            cells[("record_files", i, "key", k)] = ref
    data = {
        "id": facts.id,
        "name": facts.name,
        "version": facts.version,
        "provenance": {
            "source": facts.source,
            "authored_parts": facts.authored_parts,
            "note": " ".join(facts.note),
        },
        "record_files": [rf.data(book) for rf in files],
    }
    model = _validated(book, LayoutFileModel, data, cells, facts.where)
    layout = LayoutDocument(
        id=model.id,
        name=model.name,
        version=model.version,
        source=model.provenance.source,
        authored_parts=tuple(model.provenance.authored_parts),
        note_lines=facts.note,
        record_files=tuple(rf.to_record_file() for rf in model.record_files),
        comment=facts.comment,
    )
    used = {it.code_table for rf in layout.record_files for it in rf.items if it.code_table}
    return ImportedLayout(layout, tuple(t for t in tables if t.id in used))
