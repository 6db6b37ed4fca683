"""Cells as the clerk sees them: the typed values the workbook reader gives, turned into text.

The reader (python-calamine) hands each cell as a Python value whose type says what the clerk
typed: ``str`` (text, a code in a text-formatted cell), ``float`` (a number: a code typed into
a General cell loses its leading zeros there), ``date``/``datetime`` (a date, typed or a serial
number in a date format), ``bool``. A column's kinds are taken with one builtin ``map`` over
its values (no Python per cell) and the text is built with polars:

- text as typed, never trimmed; an empty cell is "";
- a number as Excel's General format shows it: a whole number without ".0", otherwise 15
  significant digits (Excel's precision), as Python writes that value;
- a date as the standard's YYYYMMDD (a date with a time of day: ``YYYY/MM/DD HH:MM:SS``);
- TRUE / FALSE.

What a field's type expects is checked per column (``Problem``): a ``digits`` field given a
number, a ``date`` field given text (read as YYYYMMDD when it is 2024/1/5, 2024-01-05 or
2024年1月5日) or a number. Each is a finding naming the cell, never a silent repair.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import IntEnum

import numpy as np
import polars as pl
from numpy.typing import NDArray

from etl.extract.profile import FieldType


class Kind(IntEnum):
    EMPTY = 0
    TEXT = 1
    NUMBER = 2
    DATE = 3
    DATETIME = 4
    BOOL = 5
    OTHER = 6  # a time of day or a duration


_KIND_OF: dict[type, int] = {
    str: Kind.TEXT,
    float: Kind.NUMBER,
    int: Kind.NUMBER,
    bool: Kind.BOOL,
    date: Kind.DATE,
    datetime: Kind.DATETIME,
    time: Kind.OTHER,
    timedelta: Kind.OTHER,
}
EXACT_FLOAT = 2**53  # whole numbers below this are exact in a double
_TEXT_DATE = r"^\s*([0-9]{4})\s*[/\-.年]\s*([0-9]{1,2})\s*[/\-.月]\s*([0-9]{1,2})\s*日?\s*$"


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a chunk: its text as seen and what kind of value each cell held."""

    text: pl.Series  # String, "" for an empty cell
    kinds: NDArray[np.int8]


def read_column(values: Sequence[object]) -> Column:
    """The text and kinds of one column's cell values (as the reader gives them)."""
    n = len(values)
    kinds = np.fromiter(map(_KIND_OF.__getitem__, map(type, values)), dtype=np.int8, count=n)
    cells = np.empty(n, dtype=object)
    cells[:] = values

    def of(kind: Kind, dtype: pl.DataType) -> pl.Series:
        """The cells of one kind as a typed series (None elsewhere): a series is built from
        values of one type only, so polars never guesses."""
        picked = cells.copy()
        picked[kinds != kind] = None
        return pl.Series(picked.tolist(), dtype=dtype)

    frame = pl.DataFrame({"k": kinds, "s": of(Kind.TEXT, pl.String())})
    k = pl.col("k")
    shown: list[tuple[pl.Expr, pl.Expr]] = [(k == Kind.TEXT, pl.col("s"))]  # (cells, text)
    present = set(np.unique(kinds).tolist())
    if Kind.NUMBER in present:
        numbers = of(Kind.NUMBER, pl.Float64())
        whole = ((numbers == numbers.round(0)) & (numbers.abs() < EXACT_FLOAT)).fill_null(False)
        # A fraction (rare in a setup sheet: amounts are whole yen) is written the way Python
        # writes the value at Excel's 15 significant digits, one cell at a time.
        fraction = np.flatnonzero((kinds == Kind.NUMBER) & ~whole.to_numpy())
        fractions = pl.Series([repr(float(f"{v:.15g}")) for v in cells[fraction]], dtype=pl.String)
        frame = frame.with_columns(
            numbers.alias("f"),
            pl.Series("fr", [None] * n, dtype=pl.String).scatter(fraction, fractions),
        )
        f = pl.col("f")
        number = pl.when(pl.col("fr").is_null()).then(f.cast(pl.Int64).cast(pl.String))
        shown.append((k == Kind.NUMBER, number.otherwise(pl.col("fr"))))
    if Kind.DATE in present:
        frame = frame.with_columns(of(Kind.DATE, pl.Date()).alias("d"))
        shown.append((k == Kind.DATE, pl.col("d").dt.strftime("%Y%m%d")))
    if Kind.DATETIME in present:
        frame = frame.with_columns(of(Kind.DATETIME, pl.Datetime("us")).alias("t"))
        t = pl.col("t")
        midnight = t.dt.time() == time(0)
        at_time = t.dt.strftime("%Y/%m/%d %H:%M:%S")
        shown.append(
            (k == Kind.DATETIME, pl.when(midnight).then(t.dt.strftime("%Y%m%d")).otherwise(at_time))
        )
    if Kind.BOOL in present:
        frame = frame.with_columns(of(Kind.BOOL, pl.Boolean()).alias("b"))
        shown.append(
            (k == Kind.BOOL, pl.when(pl.col("b")).then(pl.lit("TRUE")).otherwise(pl.lit("FALSE")))
        )
    if Kind.OTHER in present:  # a time of day, a duration: as polars writes them
        other = pl.Series([str(v) for v in cells[kinds == Kind.OTHER]], dtype=pl.String)
        frame = frame.with_columns(
            pl.Series("o", [None] * n, dtype=pl.String).scatter(
                np.flatnonzero(kinds == Kind.OTHER), other
            )
        )
        shown.append((k == Kind.OTHER, pl.col("o")))
    expr = pl.lit("")
    for cells_of, text_of in reversed(shown):
        expr = pl.when(cells_of).then(text_of).otherwise(expr)
    out = frame.select(expr.fill_null("").alias("text")).to_series()
    kinds[(kinds == Kind.TEXT) & (out == "").to_numpy()] = Kind.EMPTY
    return Column(out, kinds)


def blank_cells(column: Column) -> NDArray[np.bool_]:
    """Cells that hold nothing a clerk would call data (empty, or spaces only)."""
    spaces: NDArray[np.bool_] = (column.text.str.strip_chars(" \u3000\t\r\n") == "").to_numpy()
    empty: NDArray[np.bool_] = column.kinds == Kind.EMPTY
    return empty | spaces


@dataclass(frozen=True, slots=True)
class Problem:
    """Cells of a field whose kind its type does not expect (a finding each)."""

    rule: str
    rows: NDArray[np.int64]  # positions in the chunk
    message: str  # Japanese; "{cell}" is where the cell is named


def field_text(column: Column, type_: FieldType) -> tuple[pl.Series, list[Problem]]:
    """The field's values and its cells of an unexpected kind."""
    kinds = column.kinds
    problems: list[Problem] = []
    text = column.text
    if type_ is FieldType.DIGITS:
        numbers = np.flatnonzero(kinds == Kind.NUMBER)
        if numbers.size:
            problems.append(
                Problem(
                    "sheet.number_cell",
                    numbers,
                    "{cell}は数値として入力されています。数値では先頭の0が失われます"
                    "（読み取った値のまま残しました）。文字列として入力し直してください。",
                )
            )
    elif type_ is FieldType.DATE:
        as_text = np.flatnonzero(kinds == Kind.TEXT)
        if as_text.size:
            parts = pl.DataFrame({"s": text}).select(
                pl.col("s").str.extract_groups(_TEXT_DATE).struct.unnest()
            )
            ymd = parts.select(
                pl.concat_str(pl.col("1"), pl.col("2").str.zfill(2), pl.col("3").str.zfill(2))
            ).to_series()
            converted = (kinds == Kind.TEXT) & ymd.is_not_null().to_numpy()
            text = text.scatter(np.flatnonzero(converted), ymd.filter(pl.Series(converted)))
            problems.append(
                Problem(
                    "sheet.date_as_text",
                    as_text,
                    "{cell}の日付は文字列として入力されています"
                    "（年/月/日の形はYYYYMMDDとして読み取りました）。日付として入力し直してください。",
                )
            )
        numbers = np.flatnonzero(kinds == Kind.NUMBER)
        if numbers.size:
            problems.append(
                Problem(
                    "sheet.date_as_number",
                    numbers,
                    "{cell}の日付は数値として入力されています（読み取った値のまま残しました）。"
                    "日付として入力し直してください。",
                )
            )
    return text.rename(""), problems
