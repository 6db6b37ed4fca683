"""The keys of a mainframe file entry, typed, and their checks against the file's fields.

``charset`` (the file's EBCDIC kanji charset and its single-byte side), ``recfm`` (F / FB:
fixed-length records; V / VB: each record after its RDW, ``block_descriptors`` when the dump
kept the BDWs), ``record_length`` (F/FB: bytes per record; V/VB: the most a record's data may
hold), ``record_types`` (header / data / trailer and the other data layouts of the same file,
told apart by bytes at an offset; the trailer's count of data records), ``occurs`` (the
record's OCCURS tables: fixed or DEPENDING ON a counter field) and ``children`` (a table whose
occurrences are this entry's records). Offsets count from the start of the record's data
(after the RDW). Every problem names its key path below the file entry.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from enum import StrEnum
from itertools import pairwise
from typing import Annotated, Any, ClassVar, Self

from pydantic import Field, Strict, StringConstraints, model_validator

from etl.config import KeyPath, KeyProblem, StrictModel
from etl.extract.charsets import CHARSET_NAMES, CharsetSpec
from etl.extract.profile import (
    FieldType,
    FileExtras,
    FormatOptions,
    Length,
    Name,
    Offset,
    SourceField,
    SourceFieldModel,
)

MAX_OCCURS = 9_999  # occurrences of one table
MAX_VARIABLE_DATA = 32_756  # data bytes a V/VB record holds at most (LRECL 32760 less the RDW)
BINARY_LENGTHS = (2, 4, 8)  # COMP halfword, fullword, doubleword

Code = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Codes = Code | Annotated[list[Code], Field(min_length=1)]
HexBytes = Annotated[str, StringConstraints(pattern=r"^(?:[0-9A-Fa-f]{2}){1,2}$")]


class RecordFormat(StrEnum):
    """RECFM of the data set: fixed (F, FB: no separators) or variable (V, VB: RDWs)."""

    F = "F"
    FB = "FB"
    V = "V"
    VB = "VB"

    @property
    def variable(self) -> bool:
        return self in (RecordFormat.V, RecordFormat.VB)


class NumberType(StrEnum):
    """How a count is stored (the trailer's, an OCCURS counter's)."""

    ZONED = "zoned"
    PACKED = "packed"
    BINARY = "binary"


class CharsetKey(StrictModel):
    """``charset:`` spelled out: the charset, its single-byte side, shift codes, 外字 table."""

    name: Name  # ibm930, ibm939, ibm1390, ibm1399, jef, keis, jips_j, jips_e
    sbcs: Name | None = None  # ebcdic | ebcdik | a 256-entry table (code,ucs CSV) beside it
    shift_in: list[HexBytes] | None = None  # into double-byte text ("28", "38"; KEIS "0A42")
    shift_out: list[HexBytes] | None = None  # back to single-byte text ("29")
    gaiji: Name | None = None  # the vendor's 外字 table (code,ucs,name), relative to source.yaml

    @model_validator(mode="after")
    def _known(self) -> Self:
        if self.name not in CHARSET_NAMES:
            raise KeyProblem(
                ("name",), f"unknown charset {self.name!r}; use one of {', '.join(CHARSET_NAMES)}"
            )
        try:  # the charset's own checks (JEF, KEIS, JIPS need their single-byte side named)
            CharsetSpec(
                self.name,
                sbcs=self.sbcs,
                dbcs_in=_shifts(self.shift_in),
                dbcs_out=_shifts(self.shift_out),
            )
        except ValueError as exc:
            raise KeyProblem((), str(exc)) from None
        return self

    @property
    def dbcs_in(self) -> tuple[bytes, ...] | None:
        return _shifts(self.shift_in)

    @property
    def dbcs_out(self) -> tuple[bytes, ...] | None:
        return _shifts(self.shift_out)


def _shifts(codes: list[str] | None) -> tuple[bytes, ...] | None:
    return tuple(bytes.fromhex(c) for c in codes) if codes else None


class TrailerCount(StrictModel):
    """The trailer field holding the number of data records."""

    offset: Offset
    length: Annotated[int, Field(ge=1, le=19)]
    type: Annotated[NumberType, Strict(False)] = NumberType.ZONED


def occurrence_names(name: str, times: int) -> list[str]:
    """The columns of a field repeated ``times`` times: ``NAME(1)`` … (COBOL's subscripts)."""
    return [f"{name}({i})" for i in range(1, times + 1)]


def codes_of(value: str | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


class RecordTypes(StrictModel):
    """Record types told apart by the (single-byte) characters at ``offset``.

    ``data``: this entry's records; ``other``: the other data layouts of the same file (read by
    other entries: counted, filtered here); ``header`` / ``trailer``: control records.
    """

    offset: Offset
    length: Length = 1
    data: Codes
    other: Codes | None = None
    header: Codes | None = None
    trailer: Codes | None = None
    trailer_count: TrailerCount | None = None

    def codes(self, kind: str) -> tuple[str, ...]:
        return codes_of(getattr(self, kind))

    @model_validator(mode="after")
    def _one_kind_per_value(self) -> Self:
        seen: dict[str, str] = {}
        for kind in ("data", "other", "header", "trailer"):
            raw = getattr(self, kind)
            for i, value in enumerate(codes_of(raw)):
                where: KeyPath = (kind,) if isinstance(raw, str) else (kind, i)
                if value in seen:
                    raise KeyProblem(where, f"record type {value!r} is already {seen[value]}")
                if len(value) != self.length:
                    raise KeyProblem(
                        where,
                        f"record type {value!r} is {len(value)} characters, length is "
                        f"{self.length} (record types are single-byte characters)",
                    )
                seen[value] = kind
        if self.trailer_count is not None and self.trailer is None:
            raise KeyProblem(("trailer_count",), "needs 'trailer' values to find the trailer")
        return self


class OccursGroup(StrictModel):
    """An OCCURS table: its first occurrence at ``offset``, ``length`` bytes per occurrence."""

    name: Name
    offset: Offset
    length: Length
    times: Annotated[int, Field(ge=1, le=MAX_OCCURS)]  # the most occurrences (OCCURS … TO n)
    depending_on: Name | None = None  # the counter field (OCCURS … DEPENDING ON)
    minimum: Annotated[int, Field(ge=0, le=MAX_OCCURS)] = 0  # OCCURS m TO n

    @property
    def end(self) -> int:
        """The byte after the last possible occurrence."""
        return self.offset + self.length * self.times

    @model_validator(mode="after")
    def _minimum(self) -> Self:
        if self.minimum > self.times:
            raise KeyProblem(("minimum",), f"minimum {self.minimum} exceeds times {self.times}")
        if self.minimum and self.depending_on is None:
            raise KeyProblem(("minimum",), "only an OCCURS … DEPENDING ON table has a minimum")
        return self


class MainframeOptions(FormatOptions):
    """A mainframe data set (EBCDIC kanji): fixed (F/FB) or variable (V/VB with RDW) records,
    fields at byte offsets of the record's data, OCCURS tables, record types."""

    FIELD_KEYS: ClassVar[tuple[str, ...]] = ("offset", "length", "group", "mode", "signed")
    FIELD_TYPES: ClassVar[tuple[FieldType, ...]] = (
        FieldType.TEXT,
        FieldType.DIGITS,
        FieldType.ZONED,
        FieldType.PACKED,
        FieldType.BINARY,
    )

    charset: CharsetKey

    @model_validator(mode="before")
    @classmethod
    def _charset_name(cls, data: Any) -> Any:
        """``charset: ibm930`` is ``charset: {name: ibm930}``."""
        if isinstance(data, dict) and isinstance(data.get("charset"), str):
            return {**data, "charset": {"name": data["charset"]}}
        return data

    recfm: Annotated[RecordFormat, Strict(False)] = RecordFormat.FB
    record_length: Length | None = None
    block_descriptors: bool = False  # V/VB: blocks start with a BDW (a tape image, not FTP)
    record_types: RecordTypes | None = None
    occurs: Annotated[list[OccursGroup], Field(max_length=256)] = Field(default_factory=list)
    children: Name | None = None  # a table of ``occurs``: one record per present occurrence
    extras: FileExtras = Field(default_factory=FileExtras, alias="options")

    @property
    def charset_key(self) -> CharsetKey:
        return (
            self.charset if isinstance(self.charset, CharsetKey) else CharsetKey(name=self.charset)
        )

    def group(self, name: str) -> OccursGroup | None:
        return next((g for g in self.occurs if g.name == name), None)

    def record_stride(self) -> int | None:
        return None if self.recfm.variable else self.record_length

    def indexed(self, f: SourceField) -> OccursGroup | None:
        """The table whose occurrences give ``f`` one column each (not the children table)."""
        if f.group is None or f.group == self.children:
            return None
        return self.group(f.group)

    def columns(self, fields: Sequence[SourceField]) -> tuple[str, ...]:
        out: list[str] = []
        for f in fields:
            g = self.indexed(f)
            out.extend([f.name] if g is None else occurrence_names(f.name, g.times))
        return tuple(out)

    @model_validator(mode="after")
    def _format(self) -> Self:
        if not self.recfm.variable:
            if self.record_length is None:
                raise KeyProblem(("record_length",), f"RECFM {self.recfm} needs record_length")
            if self.block_descriptors:
                raise KeyProblem(("block_descriptors",), "only V/VB files have BDWs")
        elif self.record_length is not None and self.record_length > MAX_VARIABLE_DATA:
            raise KeyProblem(
                ("record_length",),
                f"a V/VB record holds at most {MAX_VARIABLE_DATA} data bytes",
            )
        names: dict[str, int] = {}
        for i, g in enumerate(self.occurs):
            if g.name in names:
                raise KeyProblem(("occurs", i, "name"), f"duplicate table {g.name!r}")
            names[g.name] = i
        if self.children is not None and self.children not in names:
            raise KeyProblem(("children",), f"no table {self.children!r} in occurs")
        return self

    def problems(self, fields: Sequence[SourceFieldModel]) -> Iterator[tuple[KeyPath, str]]:
        by_name = {f.name: (j, f) for j, f in enumerate(fields)}
        limit = self.record_length
        spans: list[tuple[str | None, int, int, int]] = []  # (group, start, end, field position)
        for j, f in enumerate(fields):
            if f.offset is None or f.length is None:
                missing = "offset" if f.offset is None else "length"
                yield ("fields", j, missing), "mainframe fields need offset and length"
                continue
            end = f.offset + f.length
            if f.type is FieldType.BINARY and f.length not in BINARY_LENGTHS:
                yield (
                    ("fields", j, "length"),
                    f"a binary field is 2, 4 or 8 bytes (COMP halfword, fullword, doubleword), "
                    f"not {f.length}",
                )
            if f.group is not None:
                g = self.group(f.group)
                if g is None:
                    yield ("fields", j, "group"), f"no table {f.group!r} in occurs"
                    continue
                if f.offset < g.offset or end > g.offset + g.length:
                    yield (
                        ("fields", j, "offset"),
                        f"bytes {f.offset}..{end} are outside the first occurrence of "
                        f"{g.name} (bytes {g.offset}..{g.offset + g.length})",
                    )
            else:
                for g in self.occurs:
                    if f.offset < g.end and end > g.offset:
                        yield (
                            ("fields", j, "offset"),
                            f"bytes {f.offset}..{end} overlap the table {g.name} "
                            f"(bytes {g.offset}..{g.end}) but the field has no group",
                        )
            if limit is not None and end > limit:
                yield (
                    ("fields", j, "length"),
                    f"bytes {f.offset}..{end} exceed record_length {limit}",
                )
            spans.append((f.group, f.offset, end, j))
        spans.sort(key=lambda s: (s[0] or "", s[1]))
        for (ga, _, end, j), (gb, start, stop, k) in pairwise(spans):
            if ga == gb and start < end:
                yield (
                    ("fields", k, "offset"),
                    f"bytes {start}..{stop} overlap field {fields[j].name!r} (fields[{j}]) "
                    f"ending at {end}",
                )
        yield from self._table_problems(by_name, fields)
        yield from self._record_type_problems()

    def _table_problems(
        self,
        by_name: dict[str, tuple[int, SourceFieldModel]],
        fields: Sequence[SourceFieldModel],
    ) -> Iterator[tuple[KeyPath, str]]:
        limit = self.record_length
        for i, g in enumerate(self.occurs):
            if limit is not None and g.end > limit:
                yield (
                    ("occurs", i, "times"),
                    f"{g.times} occurrences of {g.length} bytes end at byte {g.end}, beyond "
                    f"record_length {limit}",
                )
            if not any(f.group == g.name for f in fields):
                yield ("occurs", i, "name"), f"no field is in the table {g.name!r}"
            if g.depending_on is None:
                continue
            found = by_name.get(g.depending_on)
            if found is None:
                yield ("occurs", i, "depending_on"), f"no field {g.depending_on!r}"
                continue
            _, counter = found
            if counter.type not in (FieldType.ZONED, FieldType.PACKED, FieldType.BINARY):
                yield (
                    ("occurs", i, "depending_on"),
                    f"the counter {counter.name!r} is {counter.type}, not a number",
                )
            if counter.group is not None or (counter.offset or 0) + (counter.length or 0) > (
                g.offset
            ):
                yield (
                    ("occurs", i, "depending_on"),
                    f"the counter {counter.name!r} must come before the table, outside it",
                )
            later = [f.name for f in fields if f.group is None and (f.offset or 0) >= g.offset]
            if later:
                yield (
                    ("occurs", i, "depending_on"),
                    f"field {later[0]!r} follows a table whose length varies: only the end of "
                    "a record may vary",
                )

    def _record_type_problems(self) -> Iterator[tuple[KeyPath, str]]:
        rt = self.record_types
        limit = self.record_length
        if rt is None or limit is None:
            return
        if rt.offset + rt.length > limit:
            yield (
                ("record_types", "offset"),
                f"record type bytes {rt.offset}..{rt.offset + rt.length} exceed record_length "
                f"{limit}",
            )
        tc = rt.trailer_count
        if tc is not None and tc.offset + tc.length > limit:
            yield (
                ("record_types", "trailer_count", "offset"),
                f"trailer count bytes {tc.offset}..{tc.offset + tc.length} exceed record_length "
                f"{limit}",
            )
