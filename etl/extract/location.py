"""Where a record, or a bad value in it, sits in its source file, in the terms of its format.

A byte dump is addressed by byte offsets, a spreadsheet by sheet and cell, an XML file by line.
Each way is a :class:`LocationKind`: the columns it adds to the rejected and filtered frames
(and so to ``rejects/<source>.csv``, right after ``record_no``), the same columns with a ``_``
prefix in the records frame, and how a Japanese finding names it. An extractor declares its
kind (``Extractor.location``) and reports single positions as :data:`Location` values, which
``SetAside`` turns into the kind's columns. Frames carry columns, never Location objects: a
location per row stays vectorised.

Byte offsets are what fixed-width, delimited and mainframe dumps use, so ``rejects/<source>.csv``
keeps the columns ``source,record_no,byte_offset,item,reason,raw`` for them. A spreadsheet
extractor would write ``source,record_no,sheet,cell,item,reason,raw`` (``世帯``, ``C12``) and an
XML one ``source,record_no,line,item,reason,raw``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import polars as pl

Column = Callable[[str], pl.Expr]  # a location column by its name (prefixed or not)


@dataclass(frozen=True, slots=True, eq=False)
class LocationKind:
    """One way of locating records: its columns and the Japanese words that name a location."""

    name: str
    columns: tuple[tuple[str, pl.DataType], ...]  # in rejects/filtered, after record_no
    # "ファイル先頭から29158バイトの位置、0起点": where a rejected record is, in its finding
    phrase: Callable[[Column], pl.Expr]
    # "29158バイト目": a record's place inside a longer sentence (control-character findings)
    short: Callable[[Column], pl.Expr]

    @property
    def schema(self) -> dict[str, pl.DataType]:
        """The location columns of the rejected and filtered frames."""
        return dict(self.columns)

    @property
    def record_schema(self) -> dict[str, pl.DataType]:
        """The location columns of the records frame: ``_`` + name, beside ``_record_no``."""
        return {record_column(name): dtype for name, dtype in self.columns}

    def described(self, *, in_records: bool = False, short: bool = False) -> pl.Expr:
        """The location of each row in Japanese, from the frame's location columns."""

        def col(name: str) -> pl.Expr:
            return pl.col(record_column(name) if in_records else name)

        return (self.short if short else self.phrase)(col)


def record_column(name: str) -> str:
    """A location column's name in the records frame (never clashing with a source field)."""
    return f"_{name}"


BYTES = LocationKind(
    "byte_offset",
    (("byte_offset", pl.Int64()),),
    # 0-based (as in rejects/ and the reasons): "n バイト目" alone would read as 1-based
    phrase=lambda c: pl.format("ファイル先頭から{}バイトの位置、0起点", c("byte_offset")),
    short=lambda c: pl.format("{}バイト目", c("byte_offset")),
)
LINES = LocationKind(
    "line",
    (("line", pl.Int64()),),
    phrase=lambda c: pl.format("{}行目", c("line")),
    short=lambda c: pl.format("{}行目", c("line")),
)
CELLS = LocationKind(
    "cell",
    (("sheet", pl.String()), ("cell", pl.String())),
    phrase=lambda c: pl.format("{}!{}", c("sheet"), c("cell")),
    short=lambda c: pl.format("{}!{}", c("sheet"), c("cell")),
)


@dataclass(frozen=True, slots=True)
class ByteOffset:
    """A byte offset from the start of the file, 0-based."""

    kind: ClassVar[LocationKind] = BYTES
    offset: int

    def values(self) -> tuple[object, ...]:
        return (self.offset,)

    def __str__(self) -> str:
        return f"byte offset {self.offset}"


@dataclass(frozen=True, slots=True)
class LineNumber:
    """A line of a text file, 1-based (XML: the element's start line)."""

    kind: ClassVar[LocationKind] = LINES
    line: int

    def values(self) -> tuple[object, ...]:
        return (self.line,)

    def __str__(self) -> str:
        return f"line {self.line}"


@dataclass(frozen=True, slots=True)
class CellRef:
    """A cell of a worksheet; ``row`` and ``column`` are 1-based, shown as ``世帯!C12``."""

    kind: ClassVar[LocationKind] = CELLS
    sheet: str
    row: int
    column: int

    @property
    def cell(self) -> str:
        letters, n = "", self.column
        while n:
            n, rest = divmod(n - 1, 26)
            letters = chr(ord("A") + rest) + letters
        return f"{letters}{self.row}"

    def values(self) -> tuple[object, ...]:
        return (self.sheet, self.cell)

    def __str__(self) -> str:
        return f"{self.sheet}!{self.cell}"


Location = ByteOffset | LineNumber | CellRef
