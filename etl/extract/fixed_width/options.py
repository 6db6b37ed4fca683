"""The keys of a fixed-width file entry, typed, and their checks against the file's fields.

``record_length`` bytes per record, ``line_break`` after each (none, lf, crlf), optional
``record_types`` (header / data / trailer told apart by discriminator bytes, a trailer field
holding the data record count), and under ``options:`` the zoned sign style. Every problem
names its key path below the file entry (``fields[3].offset``); the profile reader adds
``files[i]``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import pairwise
from typing import Annotated, Any, ClassVar, Self

from pydantic import BeforeValidator, Field, Strict, StringConstraints, model_validator

from etl.config import KeyPath, KeyProblem, StrictModel
from etl.extract.numeric import ZonedSign
from etl.extract.profile import (
    FileExtras,
    FormatOptions,
    Length,
    LineBreak,
    LineBreakName,
    Offset,
    SourceFieldModel,
)

Code = Annotated[str, StringConstraints(min_length=1, max_length=64)]
# One discriminator value or a list of them; codes are text ("1", not 1).
Codes = Code | Annotated[list[Code], Field(min_length=1)]


def _zoned_sign(value: Any) -> Any:
    if isinstance(value, str) and value not in ZonedSign._value2member_map_:
        known = " or ".join(repr(v.value) for v in ZonedSign)
        raise KeyProblem((), f"must be {known}, not {value!r}")
    return value


class FixedWidthExtras(FileExtras):
    """``options:`` of a fixed-width file."""

    zoned_sign: Annotated[ZonedSign, Strict(False), BeforeValidator(_zoned_sign)] = ZonedSign.ASCII


class TrailerCount(StrictModel):
    """The trailer field holding the number of data records (ASCII digits)."""

    offset: Offset
    length: Annotated[int, Field(ge=1, le=19)]


def _codes(value: str | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


class RecordTypes(StrictModel):
    """Record types (header/data/trailer) told apart by the bytes at ``offset``."""

    offset: Offset
    length: Length = 1
    data: Codes
    header: Codes | None = None
    trailer: Codes | None = None
    trailer_count: TrailerCount | None = None

    @property
    def data_codes(self) -> tuple[str, ...]:
        return _codes(self.data)

    @property
    def header_codes(self) -> tuple[str, ...]:
        return _codes(self.header)

    @property
    def trailer_codes(self) -> tuple[str, ...]:
        return _codes(self.trailer)

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


class FixedWidthOptions(FormatOptions):
    """Fixed-length records (COBOL style): every field at a byte offset and length."""

    FIELD_KEYS: ClassVar[tuple[str, ...]] = ("offset", "length")

    record_length: Length | None = None  # bytes per record, without the line break
    line_break: LineBreakName = LineBreak.NONE
    record_types: RecordTypes | None = None
    extras: FixedWidthExtras = Field(default_factory=FixedWidthExtras, alias="options")

    @property
    def zoned_sign(self) -> ZonedSign:
        return self.extras.zoned_sign

    def record_stride(self) -> int | None:
        if not self.record_length:
            return None
        return (
            self.record_length
            + {LineBreak.NONE: 0, LineBreak.LF: 1, LineBreak.CRLF: 2}[self.line_break]
        )

    def problems(self, fields: Sequence[SourceFieldModel]) -> Iterator[tuple[KeyPath, str]]:
        length = self.record_length
        if length is None:
            yield ("record_length",), "fixed_width needs record_length (bytes per record)"
            return
        spans: list[tuple[int, int, int]] = []  # (start, end, field position)
        for j, f in enumerate(fields):
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
                name = fields[j].name
                yield (
                    ("fields", k, "offset"),
                    f"bytes {start}..{stop} overlap field {name!r} (fields[{j}]) ending at {end}",
                )
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
