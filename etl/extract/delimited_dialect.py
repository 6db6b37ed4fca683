"""How a delimited source is laid out: separator and quote, column count, and which column each
SourceField reads (by index, or by name through the header row)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from etl.errors import ExtractError
from etl.extract.decode import decode_recording
from etl.extract.profile import SourceFile


@dataclass(frozen=True, slots=True)
class Dialect:
    codec: str
    separator: str
    quote: str | None

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


def dialect_of(path: Path, source: SourceFile, codec: str) -> Dialect:
    sep, quote = source.delimiter, source.quote or None
    if len(sep) != 1 or ord(sep) >= 0x80 or sep in "\r\n":
        raise ExtractError(path, f"delimiter must be one ASCII character, not {sep!r}")
    if quote is not None and (len(quote) != 1 or ord(quote) >= 0x40 or quote in "\r\n" + sep):
        raise ExtractError(path, f"unsupported quote character {quote!r} (use '\"' or \"'\")")
    return Dialect(codec, sep, quote)


def declared_width(path: Path, source: SourceFile) -> int | None:
    width = source.options.get("columns")
    if width is None:
        return None
    if not isinstance(width, int) or width < 1:
        raise ExtractError(path, f"options.columns must be a positive integer, not {width!r}")
    return width


def column_indices(path: Path, source: SourceFile, header: list[str] | None) -> list[int]:
    """The 0-based column each SourceField reads, in field order."""
    out: list[int] = []
    for f in source.fields:
        if f.index is not None:
            out.append(f.index)
        elif f.column is not None and header is not None:
            if f.column not in header:
                known = ", ".join(header)
                raise ExtractError(path, f"field {f.name}: no column {f.column!r}; header: {known}")
            out.append(header.index(f.column))
        else:
            raise ExtractError(path, f"field {f.name}: needs 'index' (the file has no header)")
    return out


def parse_header(path: Path, raw: bytes, dialect: Dialect, offset: int) -> list[str]:
    text, spans = decode_recording(raw, dialect.codec)
    if spans:
        start = spans[0][0]
        raise ExtractError(
            path, f"header row has an invalid {dialect.codec} byte", byte_offset=offset + start
        )
    df = dialect.read_csv(text.encode("utf-8") + b"\n")
    return [str(v) for v in df.row(0)]
