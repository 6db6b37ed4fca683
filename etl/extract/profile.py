"""SourceProfile: what the outgoing vendor's dump looks like (mappings/<vendor>/source.yaml).

Think of it as a COBOL copybook in YAML: files, their format, encoding, gaiji table, and fields.
Each file is read by the extractor of its format (the file's ``format``, by default the
profile's), and that plug-in owns the file's format keys: its ``options_model`` (a
:class:`FormatOptions`) types and checks them (record_length and record types for
``fixed_width``, delimiter and quote for ``delimited`` …). This module knows the keys every file
has and nothing of any format. The format is documented in docs/source-profile.md.

The registry is imported inside the functions that use it: it imports the Extractor protocol
(etl.extract.base), which is built on this module's types.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ClassVar, Self, Union

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    create_model,
    model_validator,
)

from etl.config import Document, KeyPath, KeyProblem, StrictModel, errors_as, read_yaml
from etl.errors import ConfigError, ProfileError, UnknownExtractor
from etl.extract.charsets import TextMode  # mainframe text fields: sbcs, mixed, dbcs
from etl.extract.codecs import supported_name
from etl.paths import inside
from etl.resources import data_dir


class FieldType(StrEnum):
    TEXT = "text"  # decoded with the file's encoding, gaiji table applied → String
    DIGITS = "digits"  # ASCII digits, not decoded (fast path) → String
    ZONED = "zoned"  # zoned decimal (ASCII or EBCDIC sign nibble) → Int64
    PACKED = "packed"  # packed decimal / COMP-3 → Int64
    DATE = "date"  # a calendar date cell (sheet): Excel dates → String YYYYMMDD
    BINARY = "binary"  # big-endian binary integer, COBOL COMP / COMP-4 / COMP-5 → Int64


class LineBreak(StrEnum):
    NONE = "none"  # records follow each other with no separator
    LF = "lf"
    CRLF = "crlf"


@dataclass(frozen=True, slots=True)
class SourceField:
    """One field of a source file; which keys locate it depends on the file's format."""

    name: str
    type: FieldType = FieldType.TEXT
    offset: int | None = None  # fixed width: byte offset in the record (0-based)
    length: int | None = None  # fixed width: byte length
    column: str | None = None  # delimited: header name …
    index: int | None = None  # … or 0-based column position
    xpath: str | None = None  # xml: path from the record element (etl.extract.xml.paths)
    scale: int = 0  # implied decimals for zoned/packed: the field decodes to an exact Decimal
    sensitive: bool = False  # masked wherever chukan shows source values (inspect previews)
    mode: TextMode | None = None  # mainframe text: SBCS, mixed or DBCS (None: the format's)
    signed: bool | None = None  # mainframe binary: two's complement (S9 COMP) or unsigned
    group: str | None = None  # mainframe: the OCCURS group the field repeats with


# ---- the keys' types (docs/schemas/source-profile.schema.json) -------------------------------

MAX_RECORD_LENGTH = 1 << 20  # bytes per fixed-width record; real dumps stay below 32 KiB
MAX_COLUMNS = 1 << 14  # columns of a delimited record

Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
# checked when the profile is read (key path named), kept as written (the run report shows it)
EncodingName = Annotated[Name, AfterValidator(lambda v: supported_name(v) and v)]
Offset = Annotated[int, Field(ge=0, lt=MAX_RECORD_LENGTH)]
Length = Annotated[int, Field(ge=1, le=MAX_RECORD_LENGTH)]
# Enums are matched by value: the file holds text, strict mode alone would want enum objects.
FieldTypeName = Annotated[FieldType, Strict(False)]
TextModeName = Annotated[TextMode, Strict(False)]
LineBreakName = Annotated[LineBreak, Strict(False)]
ControlName = Annotated[str, StringConstraints(min_length=1, max_length=16)]


class FileExtras(StrictModel):
    """The ``options:`` of a file that every format accepts; a format's extras extend it."""

    # control characters the decoded text may hold (etl.extract.control_chars): [tab], U+001F
    allow_control: ControlName | list[ControlName] = Field(default_factory=list)


class FormatOptions(StrictModel):
    """The keys of a file entry that its format's plug-in reads, typed (Extractor.options_model).

    A format subclasses it with its keys (flat in the file entry, as ``record_length``) and,
    for extras under ``options:``, a subclass of FileExtras in ``extras``. Checks across its keys
    are model validators raising KeyProblem; checks against the file's fields are ``problems``.
    """

    # the keys of SourceFieldModel that place a field in this format ("offset", "length")
    FIELD_KEYS: ClassVar[tuple[str, ...]] = ()
    # the field types this format can read; a field of another type is refused at its key path
    FIELD_TYPES: ClassVar[tuple[FieldType, ...]] = (
        FieldType.TEXT,
        FieldType.DIGITS,
        FieldType.ZONED,
        FieldType.PACKED,
    )

    extras: FileExtras = Field(default_factory=FileExtras, alias="options")

    def problems(self, fields: Sequence[SourceFieldModel]) -> Iterator[tuple[KeyPath, str]]:
        """Why ``fields`` cannot be read with these options (key paths below the file entry)."""
        return iter(())

    def record_stride(self) -> int | None:
        """Bytes per physical record when all records have one length (a progress estimate)."""
        return None

    def columns(self, fields: Sequence[SourceField]) -> tuple[str, ...]:
        """The field columns a record of this format has, in order: one per field, or more
        where a field repeats (a mainframe OCCURS table: ``IDO-YMD(1)``, ``IDO-YMD(2)`` …)."""
        return tuple(f.name for f in fields)


# where a field is, by format (mainframe: OCCURS group, text mode, binary sign)
PLACING_KEYS = ("offset", "length", "column", "index", "xpath", "group", "mode", "signed")


class SourceFieldModel(StrictModel):
    """One field: byte offset and length (fixed width) or a column (delimited)."""

    name: Name
    type: FieldTypeName = FieldType.TEXT
    offset: Offset | None = None
    length: Length | None = None
    column: Name | None = None
    index: Annotated[int, Field(ge=0, lt=MAX_COLUMNS)] | None = None
    xpath: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None
    scale: Annotated[int, Field(ge=0, le=18)] = 0
    sensitive: bool = False
    mode: TextModeName | None = None
    signed: bool | None = None
    group: Name | None = None

    @model_validator(mode="after")
    def _type_keys(self) -> Self:
        if self.mode is not None and self.type is not FieldType.TEXT:
            raise KeyProblem(("mode",), f"only text fields have a mode, not {self.type}")
        if self.signed is not None and self.type is not FieldType.BINARY:
            raise KeyProblem(("signed",), f"only binary fields have signed, not {self.type}")
        return self

    @model_validator(mode="after")
    def _scale_fits(self) -> Self:
        if not self.scale:
            return self
        if self.type not in (FieldType.ZONED, FieldType.PACKED, FieldType.BINARY):
            raise KeyProblem(
                ("scale",),
                f"only zoned and packed fields (and mainframe binary ones) have a scale, "
                f"not {self.type}",
            )
        if self.length is not None and self.type is not FieldType.BINARY:
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
            xpath=self.xpath,
            scale=self.scale,
            sensitive=self.sensitive,
            mode=self.mode,
            signed=self.signed,
            group=self.group,
        )


class SourceFileModel(StrictModel):
    """The keys every file of the dump has; the rest belong to its format (FormatOptions)."""

    # the format's keys are kept as written and validated by the format's options model
    model_config = ConfigDict(extra="allow")
    COMMON: ClassVar[frozenset[str]] = frozenset({"name", "path", "format", "encoding", "fields"})

    name: Name
    path: Name
    format: Name | None = None  # extractor name; default: the profile's format
    encoding: EncodingName | None = None  # default: the profile's encoding
    fields: Annotated[list[SourceFieldModel], Field(min_length=1)]

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
        return self

    def format_keys(self) -> dict[str, Any]:
        """The keys of this file that its format reads, as written."""
        return dict(self.model_extra or {})


@dataclass(frozen=True, slots=True)
class SourceFile:
    name: str  # id referenced by mappings
    path: str  # file name (glob allowed) inside the dump folder
    fields: tuple[SourceField, ...]
    encoding: str | None = None  # overrides the profile's encoding
    format: str | None = None  # overrides the profile's format
    options: FormatOptions | None = None  # the format's typed options; None: its defaults

    def field(self, name: str) -> SourceField:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"source file {self.name} has no field {name!r}")

    def columns(self) -> tuple[str, ...]:
        """The field columns of its records (a field repeated by OCCURS has one per occurrence)."""
        if self.options is None:
            return tuple(f.name for f in self.fields)
        return self.options.columns(self.fields)


@dataclass(frozen=True, slots=True)
class SourceProfile:
    vendor: str
    format: str  # default extractor name, looked up through the chukan.extractors entry points
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

    def format_of(self, source: SourceFile) -> str:
        """The extractor that reads ``source``."""
        return source.format or self.format


class SourceProfileModel(StrictModel):
    """``mappings/<vendor>/source.yaml``: the vendor's dump (docs/source-profile.md)."""

    vendor: Name | None = None  # default: the folder's name
    description: str = ""
    format: Name  # default extractor of the files (entry point group chukan.extractors)
    encoding: EncodingName = "auto"
    gaiji_table: Name | None = None  # relative to source.yaml
    files: Annotated[list[SourceFileModel], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique_file_names(self) -> Self:
        first: dict[str, int] = {}
        for i, f in enumerate(self.files):
            if f.name in first:
                raise KeyProblem(
                    ("files", i, "name"), f"duplicate file {f.name!r} (also files[{first[f.name]}])"
                )
            first[f.name] = i
        return self

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The schema with each file entry spelled out for every registered format."""
        from etl.extract.registry import get_extractor, known_extractors

        entries = tuple(
            _documented_file_model(name, get_extractor(name).options_model)
            for name in known_extractors()
        )
        fields: dict[str, Any] = {k: (f.annotation, f) for k, f in cls.model_fields.items()}
        files = Annotated[list[Union[entries]], Field(min_length=1)]  # type: ignore[valid-type]  # noqa: UP007
        fields["files"] = (files, ...)
        documented = create_model(
            "SourceProfileModel", __base__=StrictModel, __doc__=cls.__doc__, **fields
        )
        return StrictModel.model_json_schema.__func__(documented, *args, **kwargs)  # type: ignore[attr-defined, no-any-return]


def _documented_file_model(name: str, options: type[FormatOptions]) -> type[StrictModel]:
    """A file entry of format ``name`` as one model: the common keys, then the format's."""
    fields: dict[str, Any] = {k: (f.annotation, f) for k, f in SourceFileModel.model_fields.items()}
    fields |= {k: (f.annotation, f) for k, f in options.model_fields.items()}
    title = "".join(part.title() for part in name.split("_")) + "File"
    return create_model(
        title,
        __base__=StrictModel,
        __doc__=f"A file read by the {name} extractor. {options.__doc__ or ''}".strip(),
        **fields,
    )


def _foreign_key(doc: Document, key: str, fmt: str, at: KeyPath) -> ConfigError | None:
    """A key of another registered format in a file of format ``fmt``: say whose it is."""
    from etl.extract.registry import get_extractor, known_extractors

    for other in known_extractors():
        if other != fmt and key in _keys(get_extractor(other).options_model):
            return doc.error((*at, key), f"{key} is for {other} files, not {fmt}")
    return None


def _keys(model: type[FormatOptions]) -> set[str]:
    return {f.alias or k for k, f in model.model_fields.items()}


def _file_options(doc: Document, i: int, entry: SourceFileModel, default: str) -> FormatOptions:
    """Validate file ``i``'s format keys with the options model of its format's plug-in."""
    from etl.extract.registry import get_extractor

    fmt = entry.format or default
    at: KeyPath = ("files", i)
    try:
        model = get_extractor(fmt).options_model
    except UnknownExtractor as exc:  # named where the format is declared
        raise doc.error((*at, "format") if entry.format else ("format",), str(exc)) from None
    keys = entry.format_keys()
    known = _keys(model)
    for key in keys:
        if key not in known and (foreign := _foreign_key(doc, key, fmt, at)) is not None:
            raise foreign
    options = doc.parse(model, keys, at=at)
    for j, f in enumerate(entry.fields):
        for key in PLACING_KEYS:
            if getattr(f, key) is not None and model.FIELD_KEYS and key not in model.FIELD_KEYS:
                placed = " / ".join(model.FIELD_KEYS)
                raise doc.error(
                    (*at, "fields", j, key), f"{fmt} fields are placed by {placed}, not {key}"
                )
    for j, f in enumerate(entry.fields):
        if f.type not in model.FIELD_TYPES:
            kinds = ", ".join(model.FIELD_TYPES)
            raise doc.error((*at, "fields", j, "type"), f"{fmt} fields are {kinds}, not {f.type}")
    for where, reason in options.problems(entry.fields):
        raise doc.error((*at, *where), reason)
    return options


def load_profile(path: Path) -> SourceProfile:
    """Load a source.yaml (or the folder holding one); ProfileError names the key path."""
    if path.is_dir():
        path = path / "source.yaml"
    with errors_as(ProfileError):
        doc = read_yaml(path, what="source profile")
        model = doc.parse(SourceProfileModel)
        options = [_file_options(doc, i, f, model.format) for i, f in enumerate(model.files)]
    folder = path.parent
    return SourceProfile(
        vendor=model.vendor or folder.name,
        format=model.format,
        encoding=model.encoding,
        files=tuple(
            SourceFile(
                name=f.name,
                path=f.path,
                fields=tuple(field.to_field() for field in f.fields),
                encoding=f.encoding,
                format=f.format,
                options=opts,
            )
            for f, opts in zip(model.files, options, strict=True)
        ),
        folder=folder,
        gaiji_table=inside(folder, model.gaiji_table, config=path, key="gaiji_table")
        if model.gaiji_table
        else None,
        description=model.description,
    )


def vendor_profile(vendor: str) -> SourceProfile:
    """The bundled profile mappings/<vendor>/source.yaml."""
    return load_profile(data_dir("mappings") / vendor / "source.yaml")
