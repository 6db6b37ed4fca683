"""Read one block of whole delimited records: decode, judge every record, parse the good ones.

The block is decoded once (recording every bad byte), re-encoded as UTF-8 and parsed by polars
with every column as String. A record with bad bytes or a wrong number of columns is rejected,
a header row or an empty line is filtered, each with a reason, so one bad record never stops
the file.
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
from etl.extract.decode import cp932_silent_positions, decode_recording, hex_bytes
from etl.extract.delimited_dialect import Dialect, column_indices, parse_header
from etl.extract.delimited_framing import column_at, column_counts, split_records
from etl.extract.profile import SourceFile

GOOD, REJECTED, FILTERED = 0, 1, 2


@dataclass(slots=True)
class ReadState:
    """What one block leaves for the next."""

    record_no: int = 1  # number of the next record
    width: int | None = None  # expected number of columns
    indices: list[int] = field(default_factory=list)  # column index of each SourceField


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
) -> tuple[int, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(records in, records, rejects, filtered) of the block ``buf`` read at offset ``pos``."""
    arr = np.frombuffer(buf, dtype=np.uint8)
    starts, stops = split_records(arr, dialect.quote)
    n = starts.size
    numbers = np.arange(state.record_no, state.record_no + n, dtype=np.int64)
    offsets = pos + starts
    verdict = _Verdicts(np.zeros(n, dtype=np.int8))
    body = 0
    if state.record_no == 1 and source.header and n:
        header = parse_header(path, buf[starts[0] : stops[0]], dialect, pos)
        state.indices = column_indices(path, source, header)
        state.width = state.width or len(header)
        verdict.mark(0, FILTERED, pos, "", "header row")
        body = 1
    state.record_no += n
    for i in np.flatnonzero(stops == starts).tolist():
        verdict.mark(i, FILTERED, int(offsets[i]), "", "empty line")

    b0 = int(starts[body]) if body < n else len(buf)
    text, spans = decode_recording(arr[b0:].data, dialect.codec)
    bad = [(b0 + s, b0 + e, "invalid") for s, e in spans]
    utf8 = text.encode("utf-8")
    u = np.frombuffer(utf8, dtype=np.uint8)
    u_starts, u_stops = split_records(u, dialect.quote)
    if u_starts.size != n - body:  # both splits see the same structural bytes
        raise ExtractError(path, "record boundaries changed on decoding", byte_offset=pos)
    if dialect.codec == "cp932":
        for j in _silent_records(utf8, u_starts).tolist():  # rare records only
            i = j + body
            raw = buf[starts[i] : stops[i]]
            start = int(starts[i])
            bad += [(start + p, start + p + 1, "silent") for p in cp932_silent_positions(raw)]
    names = {idx: f.name for idx, f in zip(state.indices, source.fields, strict=True)}
    _reject_bad_bytes(bad, buf, starts, stops, pos, dialect, names, verdict)

    widths = column_counts(u, u_starts, u_stops, dialect)
    open_ = np.flatnonzero(verdict.status[body:] == GOOD)
    if state.width is None and open_.size:
        state.width = int(widths[open_[0]])
    for j in open_[widths[open_] != state.width].tolist():
        i = j + body
        reason = f"record has {widths[j]} columns, expected {state.width}"
        verdict.mark(i, REJECTED, int(offsets[i]), "", reason)
    if state.width is not None and state.indices and max(state.indices) >= state.width:
        raise ExtractError(
            path, f"a field selects column {max(state.indices)}, but records have {state.width}"
        )

    good = verdict.status[body:] == GOOD
    spans_u = np.diff(np.append(u_starts, u.size))
    columns = _parse(
        u[np.repeat(good, spans_u)].tobytes(), int(good.sum()), source, state, dialect, path, pos
    )
    keep = verdict.status == GOOD
    columns = {RECORD_NO: pl.Series(numbers[keep]), BYTE_OFFSET: pl.Series(offsets[keep])} | columns
    out = SetAside(source.name)
    for i, (off, item, reason) in sorted(verdict.reasons.items()):  # non-good records only
        if verdict.status[i] == FILTERED:
            out.filter_out(int(numbers[i]), off, reason)
        else:
            out.reject(int(numbers[i]), off, item, reason, buf[starts[i] : stops[i]])
    rejects, filtered = out.frames()
    return n, text_records_frame(source, columns), rejects, filtered


def _silent_records(utf8: bytes, starts: NDArray[np.int64]) -> NDArray[np.int64]:
    """Records whose UTF-8 text holds U+0080 (C2 80) or U+F8F0..F8F3 (EF A3 B0..B3)."""
    if b"\xc2\x80" not in utf8 and b"\xef\xa3" not in utf8:  # fast byte search first
        return np.empty(0, dtype=np.int64)
    u = np.frombuffer(utf8, dtype=np.uint8)
    c2 = np.flatnonzero((u[:-1] == 0xC2) & (u[1:] == 0x80))
    ef = np.flatnonzero((u[:-2] == 0xEF) & (u[1:-1] == 0xA3) & (u[2:] >= 0xB0) & (u[2:] <= 0xB3))
    hits = np.concatenate((c2, ef))
    return np.unique(np.searchsorted(starts, hits, side="right") - 1).astype(np.int64)


def _reject_bad_bytes(
    bad: list[tuple[int, int, str]],
    buf: bytes,
    starts: NDArray[np.int64],
    stops: NDArray[np.int64],
    pos: int,
    dialect: Dialect,
    names: dict[int, str],
    verdict: _Verdicts,
) -> None:
    """Reject the records holding ``bad`` (start, end, kind) byte runs, naming column and item."""
    for start, end, kind in sorted(bad):  # bad bytes only
        i = int(np.searchsorted(starts, start, side="right")) - 1
        raw = buf[start:end] if kind == "silent" or end - start > 1 else buf[start : start + 2]
        what = "is not a character" if kind == "silent" else "invalid"
        reason = (
            f"cp932 byte {hex_bytes(raw)} {what}"
            if kind == "silent"
            else f"{what} {dialect.codec} byte sequence {hex_bytes(raw)}"
        )
        col = column_at(buf[starts[i] : stops[i]], start - int(starts[i]), dialect)
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
    df = dialect.read_csv(good)
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
