"""How a delimited source is laid out: separator and quote, column count, and which column each
SourceField reads (by index, or by name through the header row).

The profile's delimited keys are checked here, where they take effect: a separator or quote that
is not one single-byte ASCII character (or a quote equal to the separator) is a ProfileError
naming the profile file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from etl.errors import ExtractError, ProfileError
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


def dialect_of(profile: SourceProfile, source: SourceFile, codec: str) -> Dialect:
    """The dialect of ``source``; a ProfileError names the profile file and the bad key."""
    where = profile_path(profile)
    sep, quote = source.delimiter, source.quote or None
    if not _one_ascii_byte(sep) or sep in "\r\n" + '"':
        raise ProfileError(
            where,
            f"file {source.name}, key 'delimiter': must be one single-byte ASCII character other "
            f"than a quote or line break, not {sep!r}",
        )
    if quote is not None and (not _one_ascii_byte(quote) or quote in "\r\n" or quote == sep):
        raise ProfileError(
            where,
            f"file {source.name}, key 'quote': must be one single-byte ASCII character other than "
            f"the delimiter and line breaks (or empty for none), not {quote!r}",
        )
    if quote is not None and ord(quote) >= 0x40:
        # bytes from 0x40 up are trail bytes of cp932 characters: they cannot structure text
        raise ProfileError(
            where, f"file {source.name}, key 'quote': use '\"' or \"'\", not {quote!r}"
        )
    lines = source.options.get("max_record_lines", DEFAULT_MAX_RECORD_LINES)
    if not isinstance(lines, int) or isinstance(lines, bool) or lines < 1:
        raise ProfileError(
            where,
            f"file {source.name}, key 'options.max_record_lines': must be a positive integer, "
            f"not {lines!r}",
        )
    return Dialect(codec, sep, quote, lines)


def _one_ascii_byte(value: str) -> bool:
    return len(value) == 1 and ord(value) < 0x80


def declared_width(profile: SourceProfile, source: SourceFile) -> int | None:
    width = source.options.get("columns")
    if width is None:
        return None
    if not isinstance(width, int) or isinstance(width, bool) or width < 1:
        raise ProfileError(
            profile_path(profile),
            f"file {source.name}, key 'options.columns': must be a positive integer, not {width!r}",
        )
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
