"""SourceProfile: what the outgoing vendor's dump looks like (mappings/<vendor>/source.yaml).

Think of it as a COBOL copybook in YAML: files, format, encoding, gaiji table, record types
(header/data/trailer by a discriminator), and fields with byte offsets or CSV columns.
The format is documented in docs/source-profile.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import AfterValidator, Field, Strict, StringConstraints, model_validator

from etl.config import KeyPath, KeyProblem, StrictModel, errors_as, read_yaml
from etl.errors import ProfileError
from etl.extract.codecs import supported_name
from etl.extract.numeric import ZonedSign
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
    scale: int = 0  # implied decimals for zoned/packed: the field decodes to an exact Decimal
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


# ---- the file's shape (typed models; docs/schemas/source-profile.schema.json) ---------------

MAX_RECORD_LENGTH = 1 << 20  # bytes per fixed-width record; real dumps stay below 32 KiB
MAX_COLUMNS = 1 << 14  # columns of a delimited record

Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
# checked when the profile is read (key path named), kept as written (the run report shows it)
EncodingName = Annotated[Name, AfterValidator(lambda v: supported_name(v) and v)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Offset = Annotated[int, Field(ge=0, lt=MAX_RECORD_LENGTH)]
Length = Annotated[int, Field(ge=1, le=MAX_RECORD_LENGTH)]
# One discriminator value or a list of them; codes are text ("1", not 1).
Codes = Code | Annotated[list[Code], Field(min_length=1)]
OneChar = Annotated[str, StringConstraints(min_length=1, max_length=1)]
# Enums are matched by value: the file holds text, strict mode alone would want enum objects.
FieldTypeName = Annotated[FieldType, Strict(False)]
LineBreakName = Annotated[LineBreak, Strict(False)]
# Formats chukan checks the fields of; other extractors (entry points) check their own.
FIXED_WIDTH, DELIMITED = "fixed_width", "delimited"


class SourceFieldModel(StrictModel):
    """One field: byte offset and length (fixed width) or a column (delimited)."""

    name: Name
    type: FieldTypeName = FieldType.TEXT
    offset: Offset | None = None
    length: Length | None = None
    column: Name | None = None
    index: Annotated[int, Field(ge=0, lt=MAX_COLUMNS)] | None = None
    scale: Annotated[int, Field(ge=0, le=18)] = 0
    sensitive: bool = False

    @model_validator(mode="after")
    def _scale_fits(self) -> Self:
        if not self.scale:
            return self
        if self.type not in (FieldType.ZONED, FieldType.PACKED):
            raise KeyProblem(
                ("scale",), f"only zoned and packed fields have a scale, not {self.type}"
            )
        if self.length is not None:
            digits = 2 * self.length - 1 if self.type is FieldType.PACKED else self.length
            if self.scale >= digits:
                raise KeyProblem(
                    ("scale",),
                    f"scale {self.scale} leaves no digit before the point ({digits} digits)",
                )
        return self

    def to_field(self) -> SourceField:
        return SourceField(
            name=self.name,
            type=self.type,
            offset=self.offset,
            length=self.length,
            column=self.column,
            index=self.index,
            scale=self.scale,
            sensitive=self.sensitive,
        )


class TrailerCountModel(StrictModel):
    """The trailer field holding the number of data records (ASCII digits)."""

    offset: Offset
    length: Annotated[int, Field(ge=1, le=19)]


def _codes(value: str | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


class RecordTypesModel(StrictModel):
    """Record types (header/data/trailer) told apart by the bytes at ``offset``."""

    offset: Offset
    length: Length = 1
    data: Codes
    header: Codes | None = None
    trailer: Codes | None = None
    trailer_count: TrailerCountModel | None = None

    @model_validator(mode="after")
    def _one_kind_per_value(self) -> Self:
        seen: dict[str, str] = {}
        for kind in ("data", "header", "trailer"):
            for i, value in enumerate(_codes(getattr(self, kind))):
                where: KeyPath = (kind,) if isinstance(getattr(self, kind), str) else (kind, i)
                if value in seen:
                    raise KeyProblem(where, f"record type {value!r} is already {seen[value]}")
                # ASCII is one byte per character in every supported encoding (EBCDIC too);
                # other values are measured in the file's encoding when the file is read.
                if value.isascii() and len(value) != self.length:
                    raise KeyProblem(
                        where,
                        f"record type {value!r} is {len(value)} bytes, length is {self.length}",
                    )
                seen[value] = kind
        if self.trailer_count is not None and self.trailer is None:
            raise KeyProblem(("trailer_count",), "needs 'trailer' values to find the trailer")
        return self

    def to_record_types(self) -> RecordTypes:
        tc = self.trailer_count
        return RecordTypes(
            offset=self.offset,
            length=self.length,
            data=_codes(self.data),
            header=_codes(self.header),
            trailer=_codes(self.trailer),
            trailer_count=None
            if tc is None
            else SourceField("trailer_count", FieldType.DIGITS, tc.offset, tc.length),
        )


def _framing_byte(value: str) -> bool:
    """One ASCII character that is not a line break: it can frame bytes of any encoding."""
    return len(value) == 1 and ord(value) < 0x80 and value not in "\r\n"


class SourceFileModel(StrictModel):
    """One file of the dump."""

    name: Name
    path: Name
    fields: Annotated[list[SourceFieldModel], Field(min_length=1)]
    encoding: EncodingName | None = None
    record_length: Length | None = None
    line_break: LineBreakName = LineBreak.NONE
    record_types: RecordTypesModel | None = None
    delimiter: OneChar = ","
    quote: Annotated[str, StringConstraints(max_length=1)] = '"'  # '' : no quoting
    header: bool = True
    options: dict[str, Any] = Field(default_factory=dict)  # extractor-specific extras

    @model_validator(mode="after")
    def _unique_field_names(self) -> Self:
        first: dict[str, int] = {}
        for j, f in enumerate(self.fields):
            if f.name in first:
                raise KeyProblem(
                    ("fields", j, "name"),
                    f"duplicate field {f.name!r} (also fields[{first[f.name]}])",
                )
            first[f.name] = j
        if self.quote and self.quote == self.delimiter:
            raise KeyProblem(("quote",), "quote and delimiter must differ")
        return self

    def fixed_width_problems(self) -> Iterator[tuple[KeyPath, str]]:
        """Why this file cannot be read as fixed-width records (key paths below the file)."""
        length = self.record_length
        if length is None:
            yield ("record_length",), "fixed_width needs record_length (bytes per record)"
            return
        spans: list[tuple[int, int, int]] = []  # (start, end, field position)
        for j, f in enumerate(self.fields):
            for key in ("column", "index"):
                if getattr(f, key) is not None:
                    yield (
                        ("fields", j, key),
                        "fixed_width fields have offset and length, not " + key,
                    )
            if f.offset is None or f.length is None:
                missing = "offset" if f.offset is None else "length"
                yield ("fields", j, missing), "fixed_width needs offset and length"
                continue
            if f.offset + f.length > length:
                yield (
                    ("fields", j, "length"),
                    f"bytes {f.offset}..{f.offset + f.length} exceed record_length {length}",
                )
            spans.append((f.offset, f.offset + f.length, j))
        spans.sort()
        for (_, end, j), (start, stop, k) in pairwise(spans):
            if start < end:
                name = self.fields[j].name
                yield (
                    ("fields", k, "offset"),
                    f"bytes {start}..{stop} overlap field {name!r} (fields[{j}]) ending at {end}",
                )
        sign = self.options.get("zoned_sign", ZonedSign.ASCII.value)
        if sign not in ZonedSign._value2member_map_:
            known = " or ".join(repr(v.value) for v in ZonedSign)
            yield ("options", "zoned_sign"), f"must be {known}, not {sign!r}"
        rt = self.record_types
        if rt is not None:
            if rt.offset + rt.length > length:
                yield (
                    ("record_types", "offset"),
                    f"record type bytes {rt.offset}..{rt.offset + rt.length} "
                    f"exceed record_length {length}",
                )
            tc = rt.trailer_count
            if tc is not None and tc.offset + tc.length > length:
                yield (
                    ("record_types", "trailer_count", "offset"),
                    f"trailer count bytes {tc.offset}..{tc.offset + tc.length} "
                    f"exceed record_length {length}",
                )

    def delimited_problems(self) -> Iterator[tuple[KeyPath, str]]:
        """Why this file cannot be read as delimited records (key paths below the file)."""
        if self.record_types is not None:
            yield ("record_types",), "record_types is for fixed_width files"
        for j, f in enumerate(self.fields):
            for key in ("offset", "length"):
                if getattr(f, key) is not None:
                    yield ("fields", j, key), f"delimited fields have column or index, not {key}"
            if f.column is None and f.index is None:
                yield ("fields", j), "delimited needs 'column' (header name) or 'index'"
            elif f.column is not None and f.index is not None:
                yield ("fields", j, "index"), "give 'column' or 'index', not both"
            elif f.column is not None and not self.header:
                yield ("fields", j, "column"), "'column' needs header: true; use 'index'"
        width = self.options.get("columns")
        if width is not None and (type(width) is not int or not 1 <= width <= MAX_COLUMNS):
            yield ("options", "columns"), f"must be a whole number 1..{MAX_COLUMNS}, not {width!r}"
        if not _framing_byte(self.delimiter) or self.delimiter == '"':
            yield (
                ("delimiter",),
                (
                    f"must be one ASCII character other than a quote or line break, not "
                    f"{self.delimiter!r}"
                ),
            )
        if self.quote and (not _framing_byte(self.quote) or self.quote == self.delimiter):
            yield (
                ("quote",),
                (
                    "must be one ASCII character other than the delimiter and line breaks (or "
                    f"empty for none), not {self.quote!r}"
                ),
            )
        elif self.quote and ord(self.quote) >= 0x40:
            # bytes from 0x40 up are trail bytes of cp932 characters: they cannot structure text
            yield ("quote",), f"use '\"' or \"'\", not {self.quote!r}"
        lines = self.options.get("max_record_lines")
        if lines is not None and (type(lines) is not int or lines < 1):
            yield ("options", "max_record_lines"), f"must be a positive integer, not {lines!r}"

    def to_file(self) -> SourceFile:
        return SourceFile(
            name=self.name,
            path=self.path,
            fields=tuple(f.to_field() for f in self.fields),
            encoding=self.encoding,
            record_length=self.record_length,
            line_break=self.line_break,
            record_types=None if self.record_types is None else self.record_types.to_record_types(),
            delimiter=self.delimiter,
            quote=self.quote,
            header=self.header,
            options=dict(self.options),
        )


class SourceProfileModel(StrictModel):
    """``mappings/<vendor>/source.yaml``: the vendor's dump (docs/source-profile.md)."""

    vendor: Name | None = None  # default: the folder's name
    description: str = ""
    format: Name  # extractor name (entry point group chukan.extractors)
    encoding: EncodingName = "auto"
    gaiji_table: Name | None = None  # relative to source.yaml
    files: Annotated[list[SourceFileModel], Field(min_length=1)]

    @model_validator(mode="after")
    def _files_fit_the_format(self) -> Self:
        first: dict[str, int] = {}
        for i, f in enumerate(self.files):
            if f.name in first:
                raise KeyProblem(
                    ("files", i, "name"), f"duplicate file {f.name!r} (also files[{first[f.name]}])"
                )
            first[f.name] = i
        checks = {
            FIXED_WIDTH: SourceFileModel.fixed_width_problems,
            DELIMITED: SourceFileModel.delimited_problems,
        }
        check = checks.get(self.format)
        for i, f in enumerate(self.files):
            for at, reason in check(f) if check else ():
                raise KeyProblem(("files", i, *at), reason)
        return self

    def to_profile(self, path: Path) -> SourceProfile:
        """The profile read from ``path``; relative paths in it resolve from its folder."""
        folder = path.parent
        return SourceProfile(
            vendor=self.vendor or folder.name,
            format=self.format,
            encoding=self.encoding,
            files=tuple(f.to_file() for f in self.files),
            folder=folder,
            gaiji_table=inside(folder, self.gaiji_table, config=path, key="gaiji_table")
            if self.gaiji_table
            else None,
            description=self.description,
        )


def load_profile(path: Path) -> SourceProfile:
    """Load a source.yaml (or the folder holding one); ProfileError names the key path."""
    if path.is_dir():
        path = path / "source.yaml"
    with errors_as(ProfileError):
        doc = read_yaml(path, what="source profile")
        model = doc.parse(SourceProfileModel)
    return model.to_profile(path)


def vendor_profile(vendor: str) -> SourceProfile:
    """The bundled profile mappings/<vendor>/source.yaml."""
    return load_profile(data_dir("mappings") / vendor / "source.yaml")
