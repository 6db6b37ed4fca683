"""Read one block of whole delimited records: judge every record, decode, parse the good ones.

The block arrives framed (.framing). It is decoded once (recording every bad byte), re-encoded
as UTF-8 and parsed by polars with every column as String. A malformed record, one with bad
bytes or a wrong number of columns is rejected, a header row or an empty line is filtered, each
with a reason, so one bad record never stops the file. Reasons name the column by position and
the source field, never a value of the record. The header row also says which column each
SourceField reads (``column_indices``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
from numpy.typing import NDArray

from etl.errors import ExtractError
from etl.extract.base import BYTE_OFFSET, RECORD_NO
from etl.extract.chunk_frames import SetAside, records_frame
from etl.extract.decode import (
    cp932_silent_positions,
    decode_recording,
    decode_utf8,
    hex_bytes,
)
from etl.extract.delimited.framing import LF, Framing, parse_record
from etl.extract.delimited.options import Dialect
from etl.extract.location import ByteOffset
from etl.extract.profile import SourceFile

GOOD, REJECTED, FILTERED = 0, 1, 2
_HEADER_NAMES_SHOWN = 5  # declared names listed in a header message; the rest are counted


@dataclass(slots=True)
class ReadState:
    """What one block leaves for the next."""

    record_no: int = 1  # number of the next record
    width: int | None = None  # expected number of columns
    indices: list[int] = field(default_factory=list)  # column index of each SourceField
    data_records: int = 0  # records neither rejected nor filtered so far


@dataclass(slots=True)
class _Verdicts:
    """Per-record verdicts of one block: GOOD, REJECTED or FILTERED; the first reason wins."""

    status: NDArray[np.int8]
    reasons: dict[int, tuple[int, str, str]] = field(default_factory=dict)  # i → offset, item, why

    def mark(self, i: int, status: int, offset: int, item: str, reason: str) -> None:
        if self.status[i] == GOOD:
            self.status[i] = status
            self.reasons[i] = (offset, item, reason)


def text_records_frame(source: SourceFile, columns: dict[str, pl.Series]) -> pl.DataFrame:
    """The records frame: every field is String in delimited text."""
    return records_frame({f.name: pl.String() for f in source.fields}, columns)


def extract_block(
    path: Path,
    source: SourceFile,
    dialect: Dialect,
    state: ReadState,
    pos: int,
    buf: bytes,
    framing: Framing,
) -> tuple[int, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(records in, records, rejects, filtered) of the block ``buf`` read at offset ``pos``."""
    arr = np.frombuffer(buf, dtype=np.uint8)
    starts, stops, ends = framing.starts, framing.stops, framing.ends
    n = framing.count
    numbers = np.arange(state.record_no, state.record_no + n, dtype=np.int64)
    offsets = pos + starts
    verdict = _Verdicts(np.zeros(n, dtype=np.int8))
    for i, (at, why) in sorted(framing.broken.items()):
        verdict.mark(i, REJECTED, pos + at, "", f"malformed record: {why} (byte offset {pos + at})")
    body = 0
    if state.record_no == 1 and dialect.header and n:
        if 0 in framing.broken:
            at, why = framing.broken[0]
            raise ExtractError(
                path, f"header row is malformed: {why}", record_no=1, byte_offset=pos + at
            )
        header = parse_header(path, buf[: int(ends[0])], dialect, pos)
        state.indices = column_indices(path, source, header)
        verdict.mark(0, FILTERED, pos, "", "header row")
        body = 1
    state.record_no += n
    state.width = framing.width
    for i in np.flatnonzero(stops == starts).tolist():
        verdict.mark(i, FILTERED, int(offsets[i]), "", "empty line")

    b0 = int(starts[body]) if body < n else len(buf)
    utf8, spans = decode_utf8(arr[b0:].data, dialect.codec)
    bad = [(b0 + s, b0 + e, "invalid") for s, e in spans]
    u = np.frombuffer(utf8, dtype=np.uint8)
    u_starts, u_ends = _utf8_bounds(path, pos, arr, b0, u, ends[body:])
    if dialect.codec == "cp932":
        for j in _silent_records(utf8, u_starts).tolist():  # rare records only
            i = j + body
            raw = buf[starts[i] : stops[i]]
            start = int(starts[i])
            bad += [(start + p, start + p + 1, "silent") for p in cp932_silent_positions(raw)]
    names = {idx: f.name for idx, f in zip(state.indices, source.fields, strict=True)}
    _reject_bad_bytes(bad, buf, starts, pos, dialect, names, verdict)

    widths = framing.widths[body:]
    open_ = np.flatnonzero(verdict.status[body:] == GOOD)
    for j in open_[widths[open_] != state.width].tolist():
        i = j + body
        reason = f"record has {widths[j]} columns, expected {state.width}"
        verdict.mark(i, REJECTED, int(offsets[i]), "", reason)
    if state.width is not None and state.indices and max(state.indices) >= state.width:
        raise ExtractError(
            path,
            f"a field reads index {max(state.indices)} (0-based), but records have "
            f"{state.width} columns",
        )

    good = verdict.status[body:] == GOOD
    literal = [i - body for i in framing.literal if i >= body]
    text_in = _parse_input(utf8, u, u_starts, u_ends, good, literal, dialect)
    columns = _parse(text_in, int(good.sum()), source, state, dialect, path, pos)
    keep = verdict.status == GOOD
    state.data_records += int(keep.sum())
    columns = {RECORD_NO: pl.Series(numbers[keep]), BYTE_OFFSET: pl.Series(offsets[keep])} | columns
    out = SetAside(source.name)
    for i, (off, item, reason) in sorted(verdict.reasons.items()):  # non-good records only
        if verdict.status[i] == FILTERED:
            out.filter_out(int(numbers[i]), ByteOffset(off), reason)
        else:
            out.reject(int(numbers[i]), ByteOffset(off), item, reason, buf[starts[i] : stops[i]])
    rejects, filtered = out.frames()
    return n, text_records_frame(source, columns), rejects, filtered


def _utf8_bounds(
    path: Path,
    pos: int,
    arr: NDArray[np.uint8],
    b0: int,
    u: NDArray[np.uint8],
    ends: NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Start and end of each record in the UTF-8 text: the k-th line feed of the raw bytes is
    the k-th of the text (decoding never touches a byte below 0x40), and records end at line
    feeds, or at the end of the block."""
    raw_lf = np.flatnonzero(arr[b0:] == LF)
    u_lf = np.flatnonzero(u == LF)
    if raw_lf.size != u_lf.size:  # impossible unless the decoder misbehaves
        raise ExtractError(path, "record boundaries changed on decoding", byte_offset=pos)
    rel = ends - b0
    at_lf = (rel > 0) & (arr[np.maximum(ends - 1, 0)] == LF)
    ordinal = np.minimum(np.searchsorted(raw_lf, rel - 1), max(raw_lf.size - 1, 0))
    u_ends = np.where(at_lf, u_lf[ordinal] + 1 if u_lf.size else u.size, u.size).astype(np.int64)
    u_starts = np.concatenate(([0], u_ends[:-1]))[: u_ends.size].astype(np.int64)
    return u_starts, u_ends


def _parse_input(
    utf8: bytes,
    u: NDArray[np.uint8],
    u_starts: NDArray[np.int64],
    u_ends: NDArray[np.int64],
    good: NDArray[np.bool_],
    literal: list[int],
    dialect: Dialect,
) -> bytes:
    """The good records as polars reads them. A record with a quote inside an unquoted field
    (rare) is written again with every field quoted, since polars would misread it."""
    plain = good.copy()
    plain[literal] = False
    if not literal:
        return bytes(u[np.repeat(plain, u_ends - u_starts)].tobytes())
    q = dialect.quote or '"'
    parts: list[bytes] = []
    prev = 0
    for j in sorted(literal):  # literal records only
        keep = plain[prev:j]
        span = u_ends[prev:j] - u_starts[prev:j]
        lo = int(u_starts[prev]) if j > prev else 0
        hi = int(u_ends[j - 1]) if j > prev else 0
        parts.append(u[lo:hi][np.repeat(keep, span)].tobytes())
        if good[j]:
            rec = parse_record(utf8, int(u_starts[j]), dialect.syntax, True, int(u_ends[j]))
            if rec is not None and rec.error is None:
                values = rec.values(utf8, dialect.syntax.quote)
                quoted = (q + v.decode("utf-8").replace(q, q + q) + q for v in values)
                parts.append(dialect.separator.join(quoted).encode("utf-8") + b"\n")
        prev = j + 1
    keep = plain[prev:]
    if keep.size:
        lo, hi = int(u_starts[prev]), int(u_ends[-1])
        parts.append(u[lo:hi][np.repeat(keep, u_ends[prev:] - u_starts[prev:])].tobytes())
    return b"".join(parts)


def _silent_records(utf8: bytes, starts: NDArray[np.int64]) -> NDArray[np.int64]:
    """Records whose UTF-8 text holds U+0080 (C2 80) or U+F8F0..F8F3 (EF A3 B0..B3)."""
    if b"\xc2\x80" not in utf8 and b"\xef\xa3" not in utf8:  # fast byte search first
        return np.empty(0, dtype=np.int64)
    u = np.frombuffer(utf8, dtype=np.uint8)
    c2 = np.flatnonzero((u[:-1] == 0xC2) & (u[1:] == 0x80))
    ef = np.flatnonzero((u[:-2] == 0xEF) & (u[1:-1] == 0xA3) & (u[2:] >= 0xB0) & (u[2:] <= 0xB3))
    hits = np.concatenate((c2, ef))
    return np.unique(np.searchsorted(starts, hits, side="right") - 1).astype(np.int64)


def _column_at(buf: bytes, start: int, at: int, dialect: Dialect) -> int:
    """0-based column holding byte ``at`` of the record starting at ``start`` (rejects only)."""
    rec = parse_record(buf, start, dialect.syntax, True)
    if rec is None or rec.error is not None:
        return 0
    for col, (_a, b, quoted) in enumerate(rec.fields):
        if at < b + int(quoted):
            return col
    return max(len(rec.fields) - 1, 0)


def _reject_bad_bytes(
    bad: list[tuple[int, int, str]],
    buf: bytes,
    starts: NDArray[np.int64],
    pos: int,
    dialect: Dialect,
    names: dict[int, str],
    verdict: _Verdicts,
) -> None:
    """Reject the records holding ``bad`` (start, end, kind) byte runs, naming column and item."""
    for start, end, kind in sorted(bad):  # bad bytes only
        i = int(np.searchsorted(starts, start, side="right")) - 1
        if verdict.status[i] != GOOD:
            continue
        raw = buf[start:end] if kind == "silent" or end - start > 1 else buf[start : start + 2]
        what = "is not a character" if kind == "silent" else "invalid"
        reason = (
            f"cp932 byte {hex_bytes(raw)} {what}"
            if kind == "silent"
            else f"{what} {dialect.codec} byte sequence {hex_bytes(raw)}"
        )
        col = _column_at(buf, int(starts[i]), start, dialect)
        item = names.get(col, "")
        where = f" in column {col + 1}" + (f" ({item})" if item else "")
        verdict.mark(
            i, REJECTED, pos + start, item, f"{reason}{where} at byte offset {pos + start}"
        )


def _parse(
    good: bytes,
    count: int,
    source: SourceFile,
    state: ReadState,
    dialect: Dialect,
    path: Path,
    pos: int,
) -> dict[str, pl.Series]:
    if count == 0:
        return {f.name: pl.Series(f.name, [], dtype=pl.String) for f in source.fields}
    try:
        df = dialect.read_csv(good)
    except pl.exceptions.PolarsError as exc:  # its message would quote the data: never shown
        raise ExtractError(
            path, f"CSV parser refused the block ({type(exc).__name__})", byte_offset=pos
        ) from None
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
