"""SourceProfile: what the outgoing vendor's dump looks like (mappings/<vendor>/source.yaml).

Think of it as a COBOL copybook in YAML: files, format, encoding, gaiji table, record types
(header/data/trailer by a discriminator), and fields with byte offsets or CSV columns.
The format is documented in docs/source-profile.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from etl.errors import ProfileError
from etl.paths import inside
from etl.resources import data_dir


class FieldType(StrEnum):
    TEXT = "text"  # decoded with the file's encoding, gaiji table applied → String
    DIGITS = "digits"  # ASCII digits, not decoded (fast path) → String
    ZONED = "zoned"  # zoned decimal (ASCII or EBCDIC sign nibble) → Int64
    PACKED = "packed"  # packed decimal / COMP-3 → Int64


class LineBreak(StrEnum):
    NONE = "none"  # records follow each other with no separator
    LF = "lf"
    CRLF = "crlf"


@dataclass(frozen=True, slots=True)
class SourceField:
    name: str
    type: FieldType = FieldType.TEXT
    offset: int | None = None  # fixed width: byte offset in the record (0-based)
    length: int | None = None  # fixed width: byte length
    column: str | None = None  # delimited: header name …
    index: int | None = None  # … or 0-based column position
    scale: int = 0  # implied decimals for zoned/packed (reported, values stay integers)
    sensitive: bool = False  # masked wherever chukan shows source values (inspect previews)


@dataclass(frozen=True, slots=True)
class RecordTypes:
    """Record types told apart by a discriminator at a byte offset."""

    offset: int
    length: int
    data: tuple[str, ...]
    header: tuple[str, ...] = ()
    trailer: tuple[str, ...] = ()
    trailer_count: SourceField | None = None  # trailer field that holds the data record count


@dataclass(frozen=True, slots=True)
class SourceFile:
    name: str  # id referenced by mappings
    path: str  # file name (glob allowed) inside the dump folder
    fields: tuple[SourceField, ...]
    encoding: str | None = None  # overrides the profile's encoding
    record_length: int | None = None  # fixed width
    line_break: LineBreak = LineBreak.NONE
    record_types: RecordTypes | None = None
    delimiter: str = ","
    quote: str = '"'
    header: bool = True
    options: dict[str, Any] = field(default_factory=dict)  # extractor-specific extras

    def field(self, name: str) -> SourceField:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"source file {self.name} has no field {name!r}")


@dataclass(frozen=True, slots=True)
class SourceProfile:
    vendor: str
    format: str  # extractor name, looked up through the chukan.extractors entry points
    encoding: str  # cp932 | shift_jis | euc_jp | utf-8 | utf-8-sig | auto
    files: tuple[SourceFile, ...]
    folder: Path  # where source.yaml lives; relative paths resolve from here
    gaiji_table: Path | None = None
    description: str = ""

    def file(self, name: str) -> SourceFile:
        for f in self.files:
            if f.name == name:
                return f
        known = ", ".join(f.name for f in self.files)
        raise KeyError(f"profile {self.vendor} has no source file {name!r}; known: {known}")

    def encoding_of(self, source: SourceFile) -> str:
        return source.encoding or self.encoding


def _field(path: Path, raw: dict[str, Any]) -> SourceField:
    try:
        return SourceField(
            name=str(raw["name"]),
            type=FieldType(raw.get("type", "text")),
            offset=raw.get("offset"),
            length=raw.get("length"),
            column=raw.get("column"),
            index=raw.get("index"),
            scale=int(raw.get("scale", 0)),
            sensitive=bool(raw.get("sensitive", False)),
        )
    except (KeyError, ValueError) as exc:
        raise ProfileError(path, f"bad field {raw!r}: {exc}") from exc


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return (str(value),)


def _record_types(path: Path, raw: dict[str, Any] | None) -> RecordTypes | None:
    if raw is None:
        return None
    tc = raw.get("trailer_count")
    return RecordTypes(
        offset=int(raw["offset"]),
        length=int(raw.get("length", 1)),
        data=_as_tuple(raw["data"]),
        header=_as_tuple(raw.get("header")),
        trailer=_as_tuple(raw.get("trailer")),
        trailer_count=_field(path, {"name": "trailer_count", "type": "digits", **tc})
        if tc
        else None,
    )


def _source_file(path: Path, raw: dict[str, Any], fmt: str) -> SourceFile:
    fields = tuple(_field(path, f) for f in raw.get("fields", []))
    src = SourceFile(
        name=str(raw["name"]),
        path=str(raw["path"]),
        fields=fields,
        encoding=raw.get("encoding"),
        record_length=raw.get("record_length"),
        line_break=LineBreak(raw.get("line_break", "none")),
        record_types=_record_types(path, raw.get("record_types")),
        delimiter=str(raw.get("delimiter", ",")),
        quote=str(raw.get("quote", '"')),
        header=bool(raw.get("header", True)),
        options=dict(raw.get("options", {})),
    )
    if fmt == "fixed_width":
        if not src.record_length:
            raise ProfileError(path, f"file {src.name}: fixed_width needs record_length")
        for f in fields:
            if f.offset is None or f.length is None:
                raise ProfileError(path, f"file {src.name} field {f.name}: needs offset and length")
            if f.offset + f.length > src.record_length:
                raise ProfileError(
                    path,
                    f"file {src.name} field {f.name}: bytes {f.offset}..{f.offset + f.length} "
                    f"exceed record_length {src.record_length}",
                )
    return src


def load_profile(path: Path) -> SourceProfile:
    """Load a source.yaml (or the folder holding one)."""
    if path.is_dir():
        path = path / "source.yaml"
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ProfileError(path, "source profile not found") from exc
    except yaml.YAMLError as exc:
        raise ProfileError(path, f"invalid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise ProfileError(path, "a source profile must be a mapping")
    fmt = str(doc.get("format", ""))
    if not fmt:
        raise ProfileError(path, "missing 'format' (e.g. fixed_width, delimited)")
    try:
        files = tuple(_source_file(path, f, fmt) for f in doc.get("files", []))
    except KeyError as exc:
        raise ProfileError(path, f"missing key {exc}") from exc
    if not files:
        raise ProfileError(path, "no files declared")
    gaiji = doc.get("gaiji_table")
    return SourceProfile(
        vendor=str(doc.get("vendor", path.parent.name)),
        format=fmt,
        encoding=str(doc.get("encoding", "auto")),
        files=files,
        folder=path.parent,
        gaiji_table=inside(path.parent, gaiji, config=path, key="gaiji_table") if gaiji else None,
        description=str(doc.get("description", "")),
    )


def vendor_profile(vendor: str) -> SourceProfile:
    """The bundled profile mappings/<vendor>/source.yaml."""
    return load_profile(data_dir("mappings") / vendor / "source.yaml")
