"""Cut a fixed-width file into records, a block of whole records at a time.

Without line breaks, records follow each other at a fixed stride. With line breaks (lf / crlf),
a record is a line: every line must hold exactly ``record_length`` bytes before its line break.
A line of another length is rejected as misaligned — naming its offset and what was expected —
and the next line is read normally, so one bad record never shifts the rest of the file.
Memory is bounded by one block (``chunk_records`` records).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from etl.errors import ExtractError
from etl.extract.profile import LineBreak

EOF_MARKER = b"\x1a"  # DOS end-of-file marker some exports still append
_TRAILING_FILLERS = {
    b"\x1a": "end-of-file marker 0x1A",
    b"\n": "trailing line feed at end of file",
    b"\r\n": "trailing CR LF at end of file",
    b"\n\x1a": "trailing line feed and end-of-file marker 0x1A",
    b"\r\n\x1a": "trailing CR LF and end-of-file marker 0x1A",
}


@dataclass(frozen=True, slots=True)
class BrokenRecord:
    """A physical record that is not a well-formed record: rejected, or filtered if filler."""

    record_no: int
    byte_offset: int
    raw: bytes
    reason: str
    filler: bool = False  # True: harmless trailing filler (goes to ``filtered``)


@dataclass(frozen=True, slots=True)
class RecordBlock:
    records: NDArray[np.uint8]  # (k, record_length) well-formed records
    record_no: NDArray[np.int64]  # (k,) 1-based physical record numbers
    byte_offset: NDArray[np.int64]  # (k,) absolute offset of each record's first byte
    broken: tuple[BrokenRecord, ...]
    records_in: int  # physical records in this block: k + len(broken)
    last: bool  # the block ends the file


def read_blocks(
    path: Path,
    record_length: int,
    line_break: LineBreak,
    chunk_records: int,
    *,
    start: int = 0,
) -> Iterator[RecordBlock]:
    """Yield blocks of records from ``path``, skipping ``start`` bytes (a BOM)."""
    if line_break is LineBreak.NONE:
        yield from _stride_blocks(path, record_length, chunk_records, start)
    else:
        yield from _line_blocks(path, record_length, line_break, chunk_records, start)


def _stride_blocks(
    path: Path, length: int, chunk_records: int, start: int
) -> Iterator[RecordBlock]:
    size = path.stat().st_size
    pos, record_no = start, 1
    with path.open("rb") as f:
        f.seek(start)
        while pos < size:
            data = f.read(chunk_records * length)
            if not data:
                break
            if record_no == 1:
                _refuse_line_breaks(path, data, length, start)
            k = len(data) // length
            recs = np.frombuffer(data, dtype=np.uint8, count=k * length).reshape(k, length)
            broken: list[BrokenRecord] = []
            tail = data[k * length :]
            if tail:  # only at end of file: reads are whole records otherwise
                no, off = record_no + k, pos + k * length
                if tail in _TRAILING_FILLERS:
                    broken.append(BrokenRecord(no, off, tail, _TRAILING_FILLERS[tail], True))
                else:
                    reason = f"short last record: {len(tail)} bytes, expected {length}"
                    broken.append(BrokenRecord(no, off, tail, reason))
            yield RecordBlock(
                records=recs,
                record_no=np.arange(record_no, record_no + k, dtype=np.int64),
                byte_offset=pos + np.arange(k, dtype=np.int64) * length,
                broken=tuple(broken),
                records_in=k + len(broken),
                last=pos + len(data) >= size,
            )
            record_no += k + len(broken)
            pos += len(data)


_LINE_BREAKS = (
    (b"\r\n", "CR LF", "declare line_break: crlf"),
    (b"\n", "LF", "declare line_break: lf"),
    (b"\r", "CR", "convert the line endings to LF and declare line_break: lf"),
)


def _refuse_line_breaks(path: Path, data: bytes, length: int, start: int) -> None:
    """A file declared without line breaks whose records are each followed by one: every record
    after the first would be read shifted, so say what the file holds instead."""
    arr = np.frombuffer(data, dtype=np.uint8)
    for sep, name, hint in _LINE_BREAKS:
        stride = length + len(sep)
        ends = np.arange(length, arr.size - len(sep) + 1, stride)[:1000]
        if ends.size < 2:
            continue
        if all((arr[ends + j] == b).all() for j, b in enumerate(sep)):
            raise ExtractError(
                path,
                f"line ending is {name}: every {length}-byte record is followed by {name}, but "
                f"the profile says line_break: none; {hint}",
                byte_offset=start + length,
            )


def _line_blocks(
    path: Path, length: int, line_break: LineBreak, chunk_records: int, start: int
) -> Iterator[RecordBlock]:
    crlf = line_break is LineBreak.CRLF
    stride = length + (2 if crlf else 1)
    # A line longer than this has no line break where one must be: the file is not line-based.
    max_line = max(chunk_records * stride, 1 << 20)
    size = path.stat().st_size
    pos, record_no, carry, first = start, 1, b"", True
    with path.open("rb") as f:
        f.seek(start)
        while True:
            data = f.read(chunk_records * stride)
            buf = carry + data if carry else data
            at_end = pos + len(buf) >= size
            arr = np.frombuffer(buf, dtype=np.uint8)
            ends = np.flatnonzero(arr == 0x0A)
            if first and ends.size == 0 and _cr_line_endings(arr, length):
                raise ExtractError(
                    path,
                    f"line ending is CR (0x0D), but the profile says line_break: "
                    f"{line_break.value}: no line feed in the first {len(buf)} bytes and a CR "
                    f"after every {length}-byte record; convert the line endings to "
                    f"{'CR LF' if crlf else 'LF'}",
                    byte_offset=pos + length,
                )
            if not at_end and ends.size == 0:
                if len(buf) > max_line:
                    raise ExtractError(
                        path,
                        f"no line feed within {len(buf)} bytes although line_break is "
                        f"{line_break.value}; is the file really line-based?",
                        byte_offset=pos,
                    )
                carry = buf
                continue
            cut = len(buf) if at_end else int(ends[-1]) + 1
            block = _split_lines(arr[:cut], ends, length, crlf, pos, record_no, at_end)
            if first and block.records_in >= 2 and block.records.shape[0] == 0:
                raise ExtractError(
                    path, _misaligned_file_reason(block, length, crlf), byte_offset=pos
                )
            first = False
            if block.records_in:
                yield block
            record_no += block.records_in
            pos += cut
            carry = buf[cut:]
            if at_end:
                break


def _cr_line_endings(arr: NDArray[np.uint8], length: int) -> bool:
    """Whether a CR stands where each line feed should be (checked on the first records)."""
    marks = arr[length :: length + 1][:1000]
    return marks.size > 0 and bool((marks == 0x0D).all())


def _misaligned_file_reason(block: RecordBlock, length: int, crlf: bool) -> str:
    lengths = sorted({len(b.raw) for b in block.broken})[:5]
    want = f"{length} bytes + {'CR LF' if crlf else 'LF'}"
    return (
        f"no record in the first block matches record_length {length}: lines hold "
        f"{', '.join(map(str, lengths))} bytes before the line feed, expected {want}"
    )


def _split_lines(
    arr: NDArray[np.uint8],
    ends_all: NDArray[np.intp],
    length: int,
    crlf: bool,
    pos: int,
    record_no: int,
    at_end: bool,
) -> RecordBlock:
    ends = ends_all[ends_all < arr.size]
    starts = np.empty(ends.size, dtype=np.int64)
    starts[:1] = 0
    starts[1:] = ends[:-1] + 1
    line_ends = ends.astype(np.int64)
    tail_start = int(ends[-1]) + 1 if ends.size else 0
    has_tail = tail_start < arr.size  # last line without a line break (only at end of file)
    if has_tail:
        starts = np.append(starts, tail_start)
        line_ends = np.append(line_ends, arr.size)
    sizes = line_ends - starts  # bytes before the LF (CR included)
    content = sizes - 1 if crlf else sizes
    good = content == length
    if crlf:
        good &= arr[np.maximum(line_ends - 1, 0)] == 0x0D
    if has_tail:  # the last record may lack its line break
        good[-1] = sizes[-1] == length
    n = starts.size
    nos = np.arange(record_no, record_no + n, dtype=np.int64)
    offs = pos + starts

    if good.all() and not has_tail:
        recs = arr.reshape(n, length + (2 if crlf else 1))[:, :length]
    else:
        idx = starts[good][:, None] + np.arange(length)[None, :]
        recs = arr[idx]
    broken: list[BrokenRecord] = []
    bad_lines = np.flatnonzero(~good)
    last_content = np.flatnonzero(sizes > 0)
    last_nonempty = int(last_content[-1]) if last_content.size else -1
    for i in bad_lines.tolist():  # only malformed lines, expected to be rare
        raw = arr[starts[i] : line_ends[i]].tobytes()
        is_tail = has_tail and i == n - 1
        filler = at_end and (i > last_nonempty or (is_tail and raw == EOF_MARKER))
        reason = _line_reason(raw, length, crlf, is_tail, filler)
        broken.append(BrokenRecord(int(nos[i]), int(offs[i]), raw, reason, filler))
    return RecordBlock(
        records=recs,
        record_no=nos[good],
        byte_offset=offs[good],
        broken=tuple(broken),
        records_in=n,
        last=at_end,
    )


def _line_reason(raw: bytes, length: int, crlf: bool, is_tail: bool, filler: bool) -> str:
    if filler:
        return "end-of-file marker 0x1A" if raw == EOF_MARKER else "empty line at end of file"
    if len(raw) > length + (2 if crlf else 1) and raw[length] == 0x0D:
        crs = raw.count(b"\r")
        return (
            f"line ending is CR (0x0D) inside this line: a CR follows the first {length} bytes; "
            f"the line holds {len(raw)} bytes ({crs} CR bytes), expected {length} "
            f"bytes + {'CR LF' if crlf else 'LF'}"
        )
    if is_tail:
        return f"last record has no line break and holds {len(raw)} bytes, expected {length}"
    if not raw or raw == b"\r":
        return f"empty line, expected {length} bytes"
    if crlf and len(raw) == length:
        return f"line break is LF without CR, expected {length} bytes + CR LF"
    if not crlf and len(raw) == length + 1 and raw.endswith(b"\r"):
        return "line break is CR LF, but the profile says line_break: lf"
    size = len(raw) - 1 if crlf and raw.endswith(b"\r") else len(raw)
    want = "CR LF" if crlf else "LF"
    return f"misaligned record: {size} bytes before the line break, expected {length} + {want}"
