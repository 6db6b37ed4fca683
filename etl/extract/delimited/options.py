"""The keys of a delimited file entry, typed and checked, and the dialect they make.

``delimiter`` and ``quote`` (one ASCII character each, the quote may be empty for none),
``header`` (the first line names the columns), and under ``options:`` the number of
``columns`` and ``max_record_lines`` (how many lines one record may span through quoted line
feeds). Every problem names its key path below the file entry; the profile reader adds
``files[i]``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Self

import polars as pl
from pydantic import BeforeValidator, Field, StringConstraints, model_validator

from etl.config import KeyPath, KeyProblem
from etl.extract.delimited.framing import DEFAULT_MAX_RECORD_LINES, CsvSyntax
from etl.extract.profile import (
    MAX_COLUMNS,
    FileExtras,
    FormatOptions,
    LineBreak,
    LineBreakName,
    SourceFieldModel,
)

OneChar = Annotated[str, StringConstraints(min_length=1, max_length=1)]


def _whole(low: int, high: int | None, words: str) -> Any:
    """A check that the value is an int in low..high, worded as ``words`` when it is not."""

    def check(value: Any) -> Any:
        if type(value) is not int or value < low or (high is not None and value > high):
            raise KeyProblem((), f"{words}, not {value!r}")
        return value

    return BeforeValidator(check)


class DelimitedExtras(FileExtras):
    """``options:`` of a delimited file."""

    columns: Annotated[
        int | None, _whole(1, MAX_COLUMNS, f"must be a whole number 1..{MAX_COLUMNS}")
    ] = None
    max_record_lines: Annotated[int, _whole(1, None, "must be a positive integer"), Field(ge=1)] = (
        DEFAULT_MAX_RECORD_LINES
    )


def _framing_byte(value: str) -> bool:
    """One ASCII character that is not a line break: it can frame bytes of any encoding."""
    return len(value) == 1 and ord(value) < 0x80 and value not in "\r\n"


class DelimitedOptions(FormatOptions):
    """Delimited text (CSV, TSV): every field a column, by header name or by position."""

    FIELD_KEYS: ClassVar[tuple[str, ...]] = ("column", "index")

    delimiter: OneChar = ","
    quote: Annotated[str, StringConstraints(max_length=1)] = '"'  # '' : no quoting
    header: bool = True
    # informative: records end at LF or CR LF, whichever the file uses (even mixed)
    line_break: LineBreakName = LineBreak.LF
    extras: DelimitedExtras = Field(default_factory=DelimitedExtras, alias="options")

    @model_validator(mode="after")
    def _framing_bytes(self) -> Self:
        if self.quote and self.quote == self.delimiter:
            raise KeyProblem(("quote",), "quote and delimiter must differ")
        if not _framing_byte(self.delimiter) or self.delimiter == '"':
            raise KeyProblem(
                ("delimiter",),
                "must be one ASCII character other than a quote or line break, not "
                f"{self.delimiter!r}",
            )
        if self.quote and not _framing_byte(self.quote):
            raise KeyProblem(
                ("quote",),
                "must be one ASCII character other than the delimiter and line breaks (or "
                f"empty for none), not {self.quote!r}",
            )
        if self.quote and ord(self.quote) >= 0x40:
            # bytes from 0x40 up are trail bytes of cp932 characters: they cannot structure text
            raise KeyProblem(("quote",), f"use '\"' or \"'\", not {self.quote!r}")
        return self

    def problems(self, fields: Sequence[SourceFieldModel]) -> Iterator[tuple[KeyPath, str]]:
        for j, f in enumerate(fields):
            if f.column is None and f.index is None:
                yield ("fields", j), "delimited needs 'column' (header name) or 'index'"
            elif f.column is not None and f.index is not None:
                yield ("fields", j, "index"), "give 'column' or 'index', not both"
            elif f.column is not None and not self.header:
                yield ("fields", j, "column"), "'column' needs header: true; use 'index'"


@dataclass(frozen=True, slots=True)
class Dialect:
    codec: str
    separator: str
    quote: str | None
    max_record_lines: int = DEFAULT_MAX_RECORD_LINES
    header: bool = True  # the first record names the columns

    @property
    def syntax(self) -> CsvSyntax:
        quote = ord(self.quote) if self.quote is not None else None
        return CsvSyntax(ord(self.separator), quote, self.max_record_lines)

    def read_csv(self, utf8: bytes) -> pl.DataFrame:
        """Parse whole records of UTF-8 text, every column as String (no header: rows are ours)."""
        return pl.read_csv(
            utf8,
            has_header=False,
            infer_schema=False,
            separator=self.separator,
            quote_char=self.quote,
            empty_string_is_null=False,
        )


def dialect_of(options: DelimitedOptions, codec: str) -> Dialect:
    """The dialect of a file (its keys were checked when the profile was read)."""
    extras = options.extras
    return Dialect(
        codec, options.delimiter, options.quote or None, extras.max_record_lines, options.header
    )
