"""DelimitedExtractor: CSV / TSV in cp932, euc_jp, utf-8 or utf-8-sig.

polars reads UTF-8 only, so each block of whole records is decoded once (recording every bad
byte), re-encoded as UTF-8 and parsed by ``pl.read_csv`` with every column as String. Record
boundaries are found on the raw bytes first — line feeds outside quotes — so every record keeps
its number and byte offset, and a record with bad bytes, a wrong number of columns or an empty
line is rejected or filtered with a reason instead of stopping the file. Line feeds and the quote
(both below 0x40) are never part of a multi-byte character in these encodings.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
from numpy.typing import NDArray

from etl.errors import ExtractError
from etl.extract.base import BYTE_OFFSET, FILTER_SCHEMA, RECORD_NO, REJECT_SCHEMA, ExtractChunk
from etl.extract.decode import cp932_silent_positions, decode_recording
from etl.extract.encoding import SAMPLE_BYTES, ResolvedEncoding, resolve_encoding
from etl.extract.guess import UTF8_BOM
from etl.extract.profile import SourceFile, SourceProfile

log = logging.getLogger(__name__)

LF, CR = 0x0A, 0x0D
MAX_RECORD_BYTES = (
    1 << 24
)  # a record (quoted line feeds included) longer than this is a broken quote


@dataclass(frozen=True, slots=True)
class _Dialect:
    codec: str
    separator: str
    quote: str | None


@dataclass(slots=True)
class _State:
    record_no: int = 1  # number of the next record
    width: int | None = None  # expected number of columns
    indices: list[int] = field(default_factory=list)  # column index of each SourceField


class DelimitedExtractor:
    """Delimited text (CSV, TSV); registered as ``delimited``."""

    name = "delimited"

    def extract(
        self,
        path: Path,
        source: SourceFile,
        profile: SourceProfile,
        *,
        chunk_records: int = 200_000,
    ) -> Iterator[ExtractChunk]:
        if not path.is_file():
            raise ExtractError(path, "file not found")
        encoding = self.resolve_encoding(path, source, profile)
        log.info("%s: reading %s as %s", source.name, path, encoding.encoding)
        dialect = _dialect(path, source, encoding.codec)
        state = _State(width=_declared_width(path, source))
        if not source.header:
            state.indices = _indices(path, source, None)
        first = True
        for pos, buf in _blocks(path, encoding.bom_length, chunk_records, dialect):
            chunk = _extract_block(path, source, dialect, state, pos, buf)
            yield ExtractChunk(
                source.name,
                chunk[0],
                chunk[1],
                chunk[2],
                chunk[3],
                encoding.findings if first else encoding.findings.clear(),
            )
            first = False
        if first:
            yield ExtractChunk(
                source.name,
                0,
                _frame(source, {}),
                pl.DataFrame(schema=REJECT_SCHEMA),
                pl.DataFrame(schema=FILTER_SCHEMA),
                encoding.findings,
            )

    def resolve_encoding(
        self, path: Path, source: SourceFile, profile: SourceProfile
    ) -> ResolvedEncoding:
        """The encoding this extractor will use for ``path`` (guessed when declared auto)."""
        with path.open("rb") as f:
            head = f.read(SAMPLE_BYTES)
        resolved = resolve_encoding(profile.encoding_of(source), path, source.name, head)
        if resolved.codec == "utf-8" and head.startswith(UTF8_BOM) and not resolved.bom_length:
            # a BOM is never CSV data: strip it for plain utf-8 too
            return ResolvedEncoding(
                resolved.declared,
                resolved.encoding,
                resolved.codec,
                len(UTF8_BOM),
                resolved.guess,
                resolved.findings,
            )
        return resolved


def _dialect(path: Path, source: SourceFile, codec: str) -> _Dialect:
    sep, quote = source.delimiter, source.quote or None
    if len(sep) != 1 or ord(sep) >= 0x80 or sep in "\r\n":
        raise ExtractError(path, f"delimiter must be one ASCII character, not {sep!r}")
    if quote is not None and (len(quote) != 1 or ord(quote) >= 0x40 or quote in "\r\n" + sep):
        raise ExtractError(path, f"unsupported quote character {quote!r} (use '\"' or \"'\")")
    return _Dialect(codec, sep, quote)


def _declared_width(path: Path, source: SourceFile) -> int | None:
    width = source.options.get("columns")
    if width is None:
        return None
    if not isinstance(width, int) or width < 1:
        raise ExtractError(path, f"options.columns must be a positive integer, not {width!r}")
    return width


def _indices(path: Path, source: SourceFile, header: list[str] | None) -> list[int]:
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


def _record_ends(arr: NDArray[np.uint8], quote: str | None) -> NDArray[np.intp]:
    """Positions of the line feeds that end records (outside quotes)."""
    ends = np.flatnonzero(arr == LF)
    if quote is None or ends.size == 0:
        return ends
    inside = np.cumsum(arr == ord(quote), dtype=np.int64) & 1
    outside: NDArray[np.intp] = ends[inside[ends] == 0]
    return outside


def _blocks(
    path: Path, start: int, chunk_records: int, dialect: _Dialect
) -> Iterator[tuple[int, bytes]]:
    """(absolute offset, bytes of at most ``chunk_records`` whole records)."""
    size = path.stat().st_size
    read = max(chunk_records * 64, 1 << 16)
    pos, carry = start, b""
    with path.open("rb") as f:
        f.seek(start)
        while pos < size:
            ends = _record_ends(np.frombuffer(carry, dtype=np.uint8), dialect.quote)
            if ends.size < chunk_records and pos + len(carry) < size:
                buf = carry + f.read(read)
                ends = _record_ends(np.frombuffer(buf, dtype=np.uint8), dialect.quote)
            else:  # the carry already holds a whole chunk: bounded memory
                buf = carry
            at_end = pos + len(buf) >= size
            if ends.size >= chunk_records:
                cut = int(ends[chunk_records - 1]) + 1
            elif at_end:
                cut = len(buf)
            elif ends.size:
                cut = int(ends[-1]) + 1
            else:
                if len(buf) > MAX_RECORD_BYTES:
                    raise ExtractError(
                        path,
                        f"no record end within {len(buf)} bytes: an unclosed quote?",
                        byte_offset=pos,
                    )
                carry = buf
                continue
            yield pos, buf[:cut]
            pos += cut
            carry = buf[cut:]


def _split(
    arr: NDArray[np.uint8], quote: str | None
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Start and content end (line break excluded) of every record in ``arr``."""
    ends = _record_ends(arr, quote).astype(np.int64)
    starts = np.concatenate(([0], ends + 1)).astype(np.int64)
    stops = np.append(ends, arr.size).astype(np.int64)
    if starts[-1] >= arr.size:  # the block ends with a line feed: no record after it
        starts, stops = starts[:-1], stops[:-1]
    has_cr = (stops > starts) & (arr[np.maximum(stops - 1, 0)] == CR)
    return starts, stops - has_cr


def _parse_header(path: Path, raw: bytes, dialect: _Dialect, offset: int) -> list[str]:
    text, spans = decode_recording(raw, dialect.codec)
    if spans:
        start = spans[0][0]
        raise ExtractError(
            path, f"header row has an invalid {dialect.codec} byte", byte_offset=offset + start
        )
    df = pl.read_csv(
        text.encode("utf-8") + b"\n",
        has_header=False,
        infer_schema=False,
        separator=dialect.separator,
        quote_char=dialect.quote,
        empty_string_is_null=False,
    )
    return [str(v) for v in df.row(0)]


def _widths(
    u: NDArray[np.uint8], starts: NDArray[np.int64], stops: NDArray[np.int64], dialect: _Dialect
) -> NDArray[np.int64]:
    """Columns per record: separators outside quotes, plus one (counted on the UTF-8 text)."""
    seps = u == ord(dialect.separator)
    if dialect.quote is not None:
        seps &= (np.cumsum(u == ord(dialect.quote), dtype=np.int64) & 1) == 0
    where = np.flatnonzero(seps)
    counts = np.searchsorted(where, stops) - np.searchsorted(where, starts)
    return counts.astype(np.int64) + 1


def _silent_records(utf8: bytes, starts: NDArray[np.int64]) -> NDArray[np.int64]:
    """Records whose UTF-8 text holds U+0080 (C2 80) or U+F8F0..F8F3 (EF A3 B0..B3)."""
    if b"\xc2\x80" not in utf8 and b"\xef\xa3" not in utf8:  # fast byte search first
        return np.empty(0, dtype=np.int64)
    u = np.frombuffer(utf8, dtype=np.uint8)
    c2 = np.flatnonzero((u[:-1] == 0xC2) & (u[1:] == 0x80))
    ef = np.flatnonzero((u[:-2] == 0xEF) & (u[1:-1] == 0xA3) & (u[2:] >= 0xB0) & (u[2:] <= 0xB3))
    hits = np.concatenate((c2, ef))
    return np.unique(np.searchsorted(starts, hits, side="right") - 1).astype(np.int64)


def _column_at(raw: bytes, at: int, dialect: _Dialect) -> int:
    """0-based column holding byte ``at`` of one raw record (reasons for rejects only)."""
    arr = np.frombuffer(raw[:at], dtype=np.uint8)
    seps = arr == ord(dialect.separator)
    if dialect.quote is not None:
        seps &= (np.cumsum(arr == ord(dialect.quote)) & 1) == 0
    return int(np.count_nonzero(seps))


def _hex(raw: bytes) -> str:
    return " ".join(f"0x{b:02X}" for b in raw)


@dataclass(slots=True)
class _Block:
    """Per-record verdicts of one block: 0 good, 1 rejected, 2 filtered."""

    status: NDArray[np.int8]
    reasons: dict[int, tuple[int, str, str]] = field(default_factory=dict)  # i → offset, item, why

    def mark(self, i: int, status: int, offset: int, item: str, reason: str) -> None:
        if self.status[i] == 0:
            self.status[i] = status
            self.reasons[i] = (offset, item, reason)


def _extract_block(
    path: Path,
    source: SourceFile,
    dialect: _Dialect,
    state: _State,
    pos: int,
    buf: bytes,
) -> tuple[int, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    arr = np.frombuffer(buf, dtype=np.uint8)
    starts, stops = _split(arr, dialect.quote)
    n = starts.size
    numbers = np.arange(state.record_no, state.record_no + n, dtype=np.int64)
    offsets = pos + starts
    verdict = _Block(np.zeros(n, dtype=np.int8))
    body = 0
    if state.record_no == 1 and source.header and n:
        header = _parse_header(path, buf[starts[0] : stops[0]], dialect, pos)
        state.indices = _indices(path, source, header)
        state.width = state.width or len(header)
        verdict.mark(0, 2, pos, "", "header row")
        body = 1
    state.record_no += n
    for i in np.flatnonzero(stops == starts).tolist():
        verdict.mark(i, 2, int(offsets[i]), "", "empty line")

    b0 = int(starts[body]) if body < n else len(buf)
    text, spans = decode_recording(arr[b0:].data, dialect.codec)
    names = {idx: f.name for idx, f in zip(state.indices, source.fields, strict=True)}
    bad = [(b0 + s, b0 + e, "invalid") for s, e in spans]
    utf8 = text.encode("utf-8")
    u = np.frombuffer(utf8, dtype=np.uint8)
    u_starts, u_stops = _split(u, dialect.quote)
    if u_starts.size != n - body:  # both splits see the same structural bytes
        raise ExtractError(path, "record boundaries changed on decoding", byte_offset=pos)
    if dialect.codec == "cp932":
        for j in _silent_records(utf8, u_starts).tolist():  # rare records only
            i = j + body
            raw = buf[starts[i] : stops[i]]
            start = int(starts[i])
            bad += [(start + p, start + p + 1, "silent") for p in cp932_silent_positions(raw)]
    for start, end, kind in sorted(bad):  # bad bytes only
        i = int(np.searchsorted(starts, start, side="right")) - 1
        raw = buf[start:end] if kind == "silent" or end - start > 1 else buf[start : start + 2]
        what = "is not a character" if kind == "silent" else "invalid"
        reason = (
            f"cp932 byte {_hex(raw)} {what}"
            if kind == "silent"
            else f"{what} {dialect.codec} byte sequence {_hex(raw)}"
        )
        col = _column_at(buf[starts[i] : stops[i]], start - int(starts[i]), dialect)
        item = names.get(col, "")
        where = f" in column {col + 1}" + (f" ({item})" if item else "")
        verdict.mark(i, 1, pos + start, item, f"{reason}{where} at byte offset {pos + start}")

    widths = _widths(u, u_starts, u_stops, dialect)
    open_ = np.flatnonzero(verdict.status[body:] == 0)
    if state.width is None and open_.size:
        state.width = int(widths[open_[0]])
    for j in open_[widths[open_] != state.width].tolist():
        i = j + body
        reason = f"record has {widths[j]} columns, expected {state.width}"
        verdict.mark(i, 1, int(offsets[i]), "", reason)
    if state.width is not None and state.indices and max(state.indices) >= state.width:
        raise ExtractError(
            path, f"a field selects column {max(state.indices)}, but records have {state.width}"
        )

    good = verdict.status[body:] == 0
    spans_u = np.diff(np.append(u_starts, u.size))
    columns = _parse(
        u[np.repeat(good, spans_u)].tobytes(), int(good.sum()), source, state, dialect, path, pos
    )
    keep = verdict.status == 0
    columns = {RECORD_NO: pl.Series(numbers[keep]), BYTE_OFFSET: pl.Series(offsets[keep])} | columns
    rejects: dict[str, list[object]] = {k: [] for k in REJECT_SCHEMA}
    filtered: dict[str, list[object]] = {k: [] for k in FILTER_SCHEMA}
    for i, (off, item, reason) in sorted(verdict.reasons.items()):  # non-good records only
        if verdict.status[i] == 2:
            row: tuple[object, ...] = (source.name, int(numbers[i]), off, reason)
            for k, v in zip(FILTER_SCHEMA, row, strict=True):
                filtered[k].append(v)
        else:
            row = (source.name, int(numbers[i]), off, item, reason, buf[starts[i] : stops[i]].hex())
            for k, v in zip(REJECT_SCHEMA, row, strict=True):
                rejects[k].append(v)
    return (
        n,
        _frame(source, columns),
        pl.DataFrame(rejects, schema=REJECT_SCHEMA),
        pl.DataFrame(filtered, schema=FILTER_SCHEMA),
    )


def _parse(
    good: bytes,
    count: int,
    source: SourceFile,
    state: _State,
    dialect: _Dialect,
    path: Path,
    pos: int,
) -> dict[str, pl.Series]:
    if count == 0:
        return {f.name: pl.Series(f.name, [], dtype=pl.String) for f in source.fields}
    df = pl.read_csv(
        good,
        has_header=False,
        infer_schema=False,
        separator=dialect.separator,
        quote_char=dialect.quote,
        empty_string_is_null=False,
    )
    if df.height != count:  # our record split and polars' must agree, or rows would shift
        raise ExtractError(
            path,
            f"CSV parser read {df.height} records where {count} were expected",
            byte_offset=pos,
        )
    return {
        f.name: df.to_series(i).alias(f.name)
        for f, i in zip(source.fields, state.indices, strict=True)
    }


def _frame(source: SourceFile, columns: dict[str, pl.Series]) -> pl.DataFrame:
    schema: dict[str, pl.DataType] = {RECORD_NO: pl.Int64(), BYTE_OFFSET: pl.Int64()}
    schema |= {f.name: pl.String() for f in source.fields}
    if not columns:
        return pl.DataFrame(schema=schema)
    return pl.DataFrame([columns[name].alias(name) for name in schema]).cast(schema)  # type: ignore[arg-type]
