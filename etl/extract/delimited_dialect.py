"""How a delimited source is laid out: separator and quote, column count, and which column each
SourceField reads (by index, or by name through the header row).

The profile's delimited keys (separator, quote, options) are checked when the profile is read
(etl.extract.profile, with their key paths); here they only take effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from etl.errors import ExtractError
from etl.extract.decode import decode_recording
from etl.extract.delimited_framing import DEFAULT_MAX_RECORD_LINES, CsvSyntax, parse_record
from etl.extract.profile import SourceFile, SourceProfile

_HEADER_NAMES_SHOWN = 5  # declared names listed in a header message; the rest are counted


@dataclass(frozen=True, slots=True)
class Dialect:
    codec: str
    separator: str
    quote: str | None
    max_record_lines: int = DEFAULT_MAX_RECORD_LINES

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


def profile_path(profile: SourceProfile) -> Path:
    return profile.folder / "source.yaml"


def dialect_of(source: SourceFile, codec: str) -> Dialect:
    """The dialect of ``source`` (its keys were checked when the profile was read)."""
    lines = source.options.get("max_record_lines", DEFAULT_MAX_RECORD_LINES)
    return Dialect(codec, source.delimiter, source.quote or None, lines)


def declared_width(source: SourceFile) -> int | None:
    width: int | None = source.options.get("columns")
    return width


def column_indices(path: Path, source: SourceFile, header: list[str] | None) -> list[int]:
    """The 0-based column each SourceField reads, in field order. Messages name declared column
    names and positions only: a header row that is really data never reaches the terminal."""
    missing = [f for f in source.fields if f.column is not None and f.index is None]
    if header is not None:
        missing = [f for f in missing if f.column not in header]
    if missing and header is not None:
        names = ", ".join(repr(f.column) for f in missing[:_HEADER_NAMES_SHOWN])
        more = f" and {len(missing) - _HEADER_NAMES_SHOWN} more" if len(missing) > 5 else ""
        declared = sum(1 for f in source.fields if f.column is not None and f.index is None)
        if len(missing) == declared:
            reason = (
                f"no header row: line 1 holds none of the declared column names ({names}{more}); "
                "is the header row missing, or the file not the one the profile describes?"
            )
        else:
            reason = f"header row has no column {names}{more} (it has {len(header)} columns)"
        raise ExtractError(path, reason, record_no=1, byte_offset=None)
    out: list[int] = []
    for f in source.fields:
        if f.index is not None:
            out.append(f.index)
        elif f.column is not None and header is not None:
            out.append(header.index(f.column))
        else:
            raise ExtractError(path, f"field {f.name}: needs 'index' (the file has no header)")
    return out


def parse_header(path: Path, buf: bytes, dialect: Dialect, offset: int) -> list[str]:
    """The header row: the first record of ``buf`` (which starts at byte ``offset``)."""
    rec = parse_record(buf, 0, dialect.syntax, True)
    if rec is None or rec.error is not None:  # the framing rejected it already
        raise ExtractError(path, "header row is malformed", record_no=1, byte_offset=offset)
    names: list[str] = []
    for value, (start, _end, quoted) in zip(
        rec.values(buf, dialect.syntax.quote), rec.fields, strict=True
    ):
        text, spans = decode_recording(value, dialect.codec)
        if spans:
            at = offset + start + int(quoted) + spans[0][0]
            raise ExtractError(
                path,
                f"header row has an invalid {dialect.codec} byte in column {len(names) + 1}",
                record_no=1,
                byte_offset=at,
            )
        names.append(text)
    return names
