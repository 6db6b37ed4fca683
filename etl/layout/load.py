"""Read layouts/<version>/<id>.yaml and layouts/<version>/codes/*.yaml into Layout objects.

Each file is read by etl.config (bounded, strict YAML) and validated by a typed model below;
every problem is a LayoutError naming the file, the key path and the line
(docs/schemas/layout.schema.json and code-table.schema.json are generated from these models).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, Strict, StringConstraints, model_validator

from etl.config import Document, KeyProblem, StrictModel, errors_as, read_yaml
from etl.errors import LayoutError
from etl.layout.model import CodeTable, Item, ItemType, Layout, Provenance, RecordFile
from etl.layout.types import DATE_DIGITS, DATE_TYPES, MAX_DECIMAL_DIGITS
from etl.layout.versions import DEFAULT_LAYOUT_VERSION, layouts_root

# Ids end up in output file names and on the command line: plain ASCII, no path separators.
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=64)]
MAX_DIGITS = 100_000  # 桁数 of the longest free-text item, with room to spare


class ItemModel(StrictModel):
    """One item (項目) of a record file."""

    name: Name
    type: Annotated[ItemType, Strict(False)]
    digits: Annotated[int, Field(ge=1, le=MAX_DIGITS)]
    required: bool = False
    code_table: Id | None = None
    sensitive: bool = False
    description: str = ""
    scale: Annotated[int, Field(ge=0, lt=MAX_DECIMAL_DIGITS)] | None = None  # 小数桁数

    @model_validator(mode="after")
    def _type_fits(self) -> Self:
        if self.type is ItemType.CODE and self.code_table is None:
            raise KeyProblem(("code_table",), "type code needs a code_table")
        if self.type is not ItemType.CODE and self.code_table is not None:
            raise KeyProblem(("code_table",), f"only type code has a code_table, not {self.type}")
        if self.type in DATE_TYPES and self.digits != DATE_DIGITS:
            raise KeyProblem(("digits",), f"a date is YYYYMMDD: digits must be {DATE_DIGITS}")
        if self.type is ItemType.DECIMAL:
            self._decimal_fits()
        elif self.scale is not None:
            raise KeyProblem(("scale",), f"only type decimal has a scale, not {self.type}")
        return self

    def _decimal_fits(self) -> None:
        if self.scale is None:
            raise KeyProblem(("scale",), "type decimal needs a scale (小数桁数, 0 or more)")
        if self.digits > MAX_DECIMAL_DIGITS:
            raise KeyProblem(
                ("digits",), f"a decimal has at most {MAX_DECIMAL_DIGITS} digits (precision)"
            )
        if self.scale >= self.digits:
            raise KeyProblem(
                ("scale",),
                f"scale {self.scale} leaves no digit before the point: digits is {self.digits}"
                " (digits counts the digits on both sides)",
            )

    def to_item(self) -> Item:
        return Item(
            name=self.name,
            type=self.type,
            digits=self.digits,
            required=self.required,
            code_table=self.code_table,
            sensitive=self.sensitive,
            description=self.description,
            scale=self.scale or 0,
        )


class RecordFileModel(StrictModel):
    """One record file: its items in order and the key that identifies a record."""

    id: Id
    name: Name
    key: Annotated[list[Name], Field(min_length=1)]
    items: Annotated[list[ItemModel], Field(min_length=1)]

    @model_validator(mode="after")
    def _names_and_key(self) -> Self:
        first: dict[str, int] = {}
        for j, item in enumerate(self.items):
            if item.name in first:
                raise KeyProblem(
                    ("items", j, "name"),
                    f"duplicate item {item.name!r} (also items[{first[item.name]}])",
                )
            first[item.name] = j
        for k, name in enumerate(self.key):
            if name not in first:
                raise KeyProblem(("key", k), f"key item {name!r} is not among the items")
            if name in self.key[:k]:
                raise KeyProblem(("key", k), f"key item {name!r} is listed twice")
        return self

    def to_record_file(self) -> RecordFile:
        return RecordFile(
            id=self.id,
            name=self.name,
            items=tuple(it.to_item() for it in self.items),
            key=tuple(self.key),
        )


class ProvenanceModel(StrictModel):
    source: Literal["authored", "official", "mixed"] = "authored"
    authored_parts: list[Name] = Field(default_factory=list)
    note: str = ""


class LayoutFileModel(StrictModel):
    """``layouts/<version>/<id>.yaml``: the standard for one 業務 (docs/layouts.md)."""

    id: Id
    name: Name
    version: Name | None = None  # default: the version folder's name
    provenance: ProvenanceModel = ProvenanceModel()
    record_files: Annotated[list[RecordFileModel], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique_files(self) -> Self:
        first: dict[str, int] = {}
        for i, rf in enumerate(self.record_files):
            for key in (rf.id, rf.name):  # Layout.record_file finds a file by either
                if key in first and first[key] != i:
                    raise KeyProblem(
                        ("record_files", i, "id" if key == rf.id else "name"),
                        f"record file {key!r} repeats record_files[{first[key]}]",
                    )
                first[key] = i
        return self


class CodeTableModel(StrictModel):
    """``layouts/<version>/codes/<id>.yaml``: code → 名称 (codes are text: "01", not 01)."""

    id: Id | None = None  # default: the file's stem
    name: Name | None = None
    values: Annotated[dict[Code, Name], Field(min_length=1)]
    authored: bool = True
    note: str = ""


def load_code_table(path: Path) -> CodeTable:
    with errors_as(LayoutError):
        model = read_yaml(path, what="code table").parse(CodeTableModel)
    return CodeTable(
        id=model.id or path.stem,
        name=model.name or path.stem,
        values=dict(model.values),
        authored=model.authored,
        note=model.note,
    )


def load_code_tables(version: str = DEFAULT_LAYOUT_VERSION) -> dict[str, CodeTable]:
    return _cached_code_tables(layouts_root(version))


@lru_cache(maxsize=8)
def _cached_code_tables(root: Path) -> dict[str, CodeTable]:
    return _code_tables(root)


def _code_tables(root: Path) -> dict[str, CodeTable]:
    tables: dict[str, CodeTable] = {}
    for path in sorted((root / "codes").glob("*.yaml")):
        table = load_code_table(path)
        if table.id in tables:
            raise LayoutError(path, f"code table {table.id!r} is defined twice", key_path="id")
        tables[table.id] = table
    return tables


def _check_code_tables(doc: Document, model: LayoutFileModel, tables: dict[str, CodeTable]) -> None:
    for i, rf in enumerate(model.record_files):
        for j, item in enumerate(rf.items):
            if item.code_table is not None and item.code_table not in tables:
                known = ", ".join(sorted(tables)) or "none"
                raise doc.error(
                    ("record_files", i, "items", j, "code_table"),
                    f"unknown code table {item.code_table!r}; known: {known}",
                )


def load_layout_file(path: Path, tables: dict[str, CodeTable]) -> Layout:
    with errors_as(LayoutError):
        doc = read_yaml(path, what="layout file")
        model = doc.parse(LayoutFileModel)
        _check_code_tables(doc, model, tables)
    files = tuple(rf.to_record_file() for rf in model.record_files)
    used = {it.code_table for rf in files for it in rf.items if it.code_table}
    prov = model.provenance
    return Layout(
        id=model.id,
        name=model.name,
        version=model.version or path.parent.name,
        record_files=files,
        provenance=Provenance(
            source=prov.source, authored_parts=tuple(prov.authored_parts), note=prov.note
        ),
        code_tables={k: tables[k] for k in sorted(used)},
    )


def load_layouts(version: str = DEFAULT_LAYOUT_VERSION) -> dict[str, Layout]:
    """All layouts of a version, by id (UnknownLayoutVersion when there is no such version)."""
    return _cached_layouts(layouts_root(version))


@lru_cache(maxsize=8)
def _cached_layouts(root: Path) -> dict[str, Layout]:  # by folder: "2.1" and "v2.1" are one
    return load_layout_folder(root)


def load_layout_folder(root: Path) -> dict[str, Layout]:
    """All layouts in a folder shaped like layouts/<version>/ (e.g. a run's snapshot of it)."""
    if not root.is_dir():
        raise LayoutError(root, "layout version folder not found")
    tables = _code_tables(root)
    layouts: dict[str, Layout] = {}
    for path in sorted(root.glob("*.yaml")):
        layout = load_layout_file(path, tables)
        if layout.id in layouts:
            raise LayoutError(path, f"layout {layout.id!r} is defined twice", key_path="id")
        layouts[layout.id] = layout
    return layouts


def get_layout(name: str, version: str = DEFAULT_LAYOUT_VERSION) -> Layout:
    """Find a layout by id (``juki``) or 業務名 (``住民基本台帳``)."""
    layouts = load_layouts(version)
    for lay in layouts.values():
        if name in (lay.id, lay.name):
            return lay
    known = ", ".join(f"{lay.id} ({lay.name})" for lay in layouts.values())
    raise LayoutError(layouts_root(version), f"no layout {name!r}; known: {known}")
