"""Cut a mainframe data set into records, a block of records at a time.

RECFM F / FB: records follow each other at a fixed stride, with no separator (a block of them
is one numpy reshape). RECFM V / VB: each record starts with its RDW (record descriptor word:
two bytes big-endian length, the RDW included, then two zero bytes); with
``block_descriptors``, records come in blocks that each start with a BDW (the block's length,
the BDW included; bit 0x80 of the first byte set: a four-byte extended length).

Where the next record starts depends on the length of the one before, yet the RDW chain is
followed without a loop over records (``_Chains``): every place of the buffer that holds a
valid RDW is a candidate, each points at the candidate its length leads to, and pointer
doubling (jump tables of 1, 2, 4 … steps) lists every record the chain from a start reaches in
log2(records) numpy steps. Only where the chain breaks does a loop in Python take over: a bad
RDW is one rejected record, the walk looks for the next place where at least three RDWs chain
(or the chain reaches the end of the file) and goes on from there, so one damaged record never
hides the rest of the file. Every field is then decoded column by column on the (n, longest
record) matrix this module builds without a loop. Memory is bounded by one block of records.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from etl.extract.mainframe.options import MAX_VARIABLE_DATA, MainframeOptions

RDW_BYTES = 4
PAD = 0x40  # the bytes of the matrix beyond a record's end: EBCDIC spaces
_READ_BYTES = 1 << 23  # bytes read at a time from a variable-length file
_RESYNC_CHAIN = 3  # RDWs in a row that make a trustworthy place to resume after a bad one
_HALFWORDS = struct.Struct(">HH")
_FEW_LENGTHS = 32  # record lengths in a block below which their padding is set length by length


@dataclass(frozen=True, slots=True)
class BrokenRecord:
    """Bytes that are no well-formed record (a bad RDW, a record cut by the end of the file)."""

    record_no: int
    byte_offset: int
    raw: bytes
    reason: str
    filler: bool = False  # padding after the last record: filtered, not rejected


@dataclass(frozen=True, slots=True)
class RecordBlock:
    """Well-formed records of one block: their data as rows of a matrix, and what broke."""

    data: NDArray[np.uint8]  # (n, width): each record's data (after its RDW), padded with PAD
    lengths: NDArray[np.int64]  # data bytes of each record
    record_no: NDArray[np.int64]  # 1-based physical record numbers
    byte_offset: NDArray[np.int64]  # where each record starts in the file (its RDW, if any)
    data_offset: int  # bytes from a record's start to its data (4 after an RDW, else 0)
    broken: tuple[BrokenRecord, ...]
    records_in: int  # physical records of the block: rows + broken
    last: bool  # the block ends the file


def read_blocks(path: Path, options: MainframeOptions, chunk_records: int) -> Iterator[RecordBlock]:
    """The records of ``path`` in blocks of at most ``chunk_records`` physical records."""
    if options.recfm.variable:
        yield from _VariableReader(path, options, chunk_records).blocks()
    else:
        yield from _fixed_blocks(path, options.record_length or 0, chunk_records)


def _fixed_blocks(path: Path, length: int, chunk_records: int) -> Iterator[RecordBlock]:
    record_no, offset = 1, 0
    with path.open("rb") as f:
        while True:
            chunk = f.read(length * chunk_records)
            n, rest = divmod(len(chunk), length)
            at_end = len(chunk) < length * chunk_records or not f.peek(1)
            broken: tuple[BrokenRecord, ...] = ()
            if rest:
                raw = chunk[n * length :]
                broken = (
                    BrokenRecord(
                        record_no + n,
                        offset + n * length,
                        raw,
                        f"the last record is cut: {len(raw)} bytes, expected {length}",
                    ),
                )
            if not chunk:
                return
            data = np.frombuffer(chunk, dtype=np.uint8, count=n * length).reshape(n, length)
            yield RecordBlock(
                data=data,
                lengths=np.full(n, length, dtype=np.int64),
                record_no=np.arange(record_no, record_no + n, dtype=np.int64),
                byte_offset=offset + np.arange(n, dtype=np.int64) * length,
                data_offset=0,
                broken=broken,
                records_in=n + len(broken),
                last=at_end,
            )
            record_no += n + len(broken)
            offset += len(chunk)
            if at_end:
                return


@dataclass(slots=True)
class _Found:
    """The records of a block so far: runs of chained records (arrays, one per run) and the
    broken ones between them."""

    starts: list[NDArray[np.int64]] = field(default_factory=list)  # data start, in the buffer
    lengths: list[NDArray[np.int64]] = field(default_factory=list)
    numbers: list[NDArray[np.int64]] = field(default_factory=list)
    broken: list[BrokenRecord] = field(default_factory=list)
    records: int = 0  # well-formed records in ``starts``

    def add(self, starts: NDArray[np.int64], lengths: NDArray[np.int64], first_no: int) -> None:
        self.starts.append(starts)
        self.lengths.append(lengths)
        self.numbers.append(np.arange(first_no, first_no + starts.size, dtype=np.int64))
        self.records += starts.size

    def extend(self, other: _Found) -> None:
        self.starts += other.starts
        self.lengths += other.lengths
        self.numbers += other.numbers
        self.broken += other.broken
        self.records += other.records

    def count(self) -> int:
        return self.records + len(self.broken)


class _Chains:
    """The valid RDWs of ``buf[start:end]`` and where each one's record leads, for following
    the chain from any of them with numpy (see the module's docstring)."""

    def __init__(self, buf: bytes, start: int, end: int, max_data: int) -> None:
        self.buf, self.start, self.end = buf, start, end
        view = np.frombuffer(buf, dtype=np.uint8, count=end - start, offset=start)
        if view.size < RDW_BYTES:
            self.at = np.empty(0, dtype=np.int64)
            self.length = np.empty(0, dtype=np.int64)
            self.jumps: list[NDArray[np.intp]] = []
            return
        # exactly rdw_at's test: bytes 2-3 zero, RDW_BYTES < length <= max_data + RDW_BYTES,
        # the record inside the range
        # zero bytes are few in record data: find them, then those followed by another
        zero = np.flatnonzero(view[2:-1] == 0)
        at = np.compress(view[zero + 3] == 0, zero)
        length = view[at].astype(np.int64) << 8 | view[at + 1]
        ok = (length > RDW_BYTES) & (length <= max_data + RDW_BYTES) & (at + length <= view.size)
        self.at, self.length = np.compress(ok, at), np.compress(ok, length)
        n = self.at.size
        target = self.at + self.length
        nxt = np.searchsorted(self.at, target)
        hit = nxt < n
        hit[hit] = self.at[nxt[hit]] == target[hit]
        step = np.append(np.where(hit, nxt, n), n).astype(np.intp)  # n: the chain ends
        self.jumps = [step]
        while (1 << len(self.jumps)) <= n:
            step = step[step]
            self.jumps.append(step)

    def covers(self, buf: bytes, p: int, end: int) -> bool:
        return buf is self.buf and end == self.end and p >= self.start

    def follow(self, p: int, most: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Starts (in the buffer) and lengths (RDW included) of up to ``most`` records that
        chain from ``p``; none when ``p`` holds no valid RDW."""
        n = self.at.size
        i = int(np.searchsorted(self.at, p - self.start))
        if i == n or int(self.at[i]) != p - self.start:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        reached = np.array([i], dtype=np.intp)
        levels = self.jumps[: max(most - 1, 0).bit_length()]  # enough for ``most`` records
        for jump in reversed(levels):  # every J^m(i), m < 2^len(levels)
            further = jump[reached]
            reached = np.concatenate([reached, further[further < n]])
        reached.sort()
        reached = reached[:most]
        return self.at[reached] + self.start, self.length[reached]


class _VariableReader:
    """Walks the RDW (and BDW) chain of a V/VB file through a sliding buffer."""

    def __init__(self, path: Path, options: MainframeOptions, chunk_records: int) -> None:
        self.path = path
        self.max_data = options.record_length or MAX_VARIABLE_DATA
        self.bdw = options.block_descriptors
        self.chunk_records = chunk_records
        self.record_no = 1
        self.chains: _Chains | None = None

    def rdw_at(self, buf: bytes, p: int, end: int) -> int | None:
        """The record length (RDW included) of a valid RDW at ``p``, else None."""
        if p + RDW_BYTES > end:
            return None
        length, segment = _HALFWORDS.unpack_from(buf, p)
        if segment or not RDW_BYTES < length <= self.max_data + RDW_BYTES or p + length > end:
            return None
        return int(length)

    def rdw_problem(self, buf: bytes, p: int, end: int) -> str:
        if p + RDW_BYTES > end:
            return f"the last record is cut: {end - p} bytes, no whole RDW"
        length, segment = _HALFWORDS.unpack_from(buf, p)
        if segment:
            return (
                f"invalid RDW: bytes 2-3 are 0x{segment:04X}, not 0x0000 (a spanned segment "
                "or no RDW at all)"
            )
        if length <= RDW_BYTES:
            return f"invalid RDW: record length {length}, at least {RDW_BYTES + 1} expected"
        if length > self.max_data + RDW_BYTES:
            return (
                f"invalid RDW: record length {length} exceeds record_length {self.max_data} "
                f"+ {RDW_BYTES}"
            )
        return f"the last record is cut: the RDW says {length} bytes, {end - p} remain"

    def resync(self, buf: bytes, p: int, end: int) -> int:
        """The first place after ``p`` where RDWs chain (or the chain ends exactly at ``end``)."""
        for q in range(p + 1, end):
            at, ok = q, 0
            while ok < _RESYNC_CHAIN:
                length = self.rdw_at(buf, at, end)
                if length is None:
                    break
                at += length
                ok += 1
                if at == end:
                    ok = _RESYNC_CHAIN
            if ok >= _RESYNC_CHAIN:
                return q
        return end

    def walk(self, buf: bytes, p: int, end: int, base: int, found: _Found, final: bool) -> int:
        """Records from ``p`` until ``end`` (a block's end or the buffer's), up to the block's
        quota; returns where it stopped. ``final``: nothing follows ``end`` in the file."""
        while p < end and found.count() < self.chunk_records:
            if self.chains is None or not self.chains.covers(buf, p, end):
                self.chains = _Chains(buf, p, end, self.max_data)
            starts, lengths = self.chains.follow(p, self.chunk_records - found.count())
            if starts.size:
                found.add(starts + RDW_BYTES, lengths - RDW_BYTES, self.record_no)
                self.record_no += starts.size
                p = int(starts[-1] + lengths[-1])
                continue
            if not final and end - p < RDW_BYTES + self.max_data and not self.bdw:
                return p  # perhaps only cut by the buffer: read more first
            if not any(buf[p:end]):  # zero bytes to the end: padding, not a record
                found.broken.append(
                    BrokenRecord(
                        self.record_no, base + p, b"", "padding (0x00) after the last record", True
                    )
                )
                self.record_no += 1
                return end
            reason = self.rdw_problem(buf, p, end)
            q = self.resync(buf, p, end)
            if q < end:
                reason += f"; reading resumes at byte offset {base + q}"
            found.broken.append(BrokenRecord(self.record_no, base + p, buf[p:q], reason))
            self.record_no += 1
            p = q
        return p

    def blocks(self) -> Iterator[RecordBlock]:
        with self.path.open("rb") as f:
            buf, base, p, eof = b"", 0, 0, False
            while True:
                if not eof and len(buf) - p < _READ_BYTES:
                    more = f.read(_READ_BYTES)
                    eof = len(more) < _READ_BYTES and not f.peek(1)
                    buf, base, p = buf[p:] + more, base + p, 0
                found = _Found()
                p = (
                    self.bdw_walk(buf, p, base, found, eof)
                    if self.bdw
                    else self.walk(buf, p, len(buf), base, found, eof)
                )
                done = eof and p >= len(buf)
                if found.count() or done:
                    yield _block(buf, base, found, done)
                if done:
                    return

    def bdw_walk(self, buf: bytes, p: int, base: int, found: _Found, eof: bool) -> int:
        end = len(buf)
        while p < end and found.count() < self.chunk_records:
            if p + 4 > end:
                if not eof:
                    return p
                size = 0
            else:
                size, zero = _HALFWORDS.unpack_from(buf, p)
                if size & 0x8000:  # extended BDW: a 31-bit length in all four bytes
                    size = int.from_bytes(buf[p : p + 4], "big") & 0x7FFF_FFFF
                elif zero:
                    size = 0
            if size > 4 and p + size > end and not eof:
                return p  # the block continues beyond the buffer
            if not any(buf[p:end]) and eof:
                found.broken.append(
                    BrokenRecord(
                        self.record_no, base + p, b"", "padding (0x00) after the last block", True
                    )
                )
                self.record_no += 1
                return end
            if size <= 4 or p + size > end:
                reason = (
                    f"invalid BDW: block length {size}, {end - p} bytes remain"
                    if size > 4
                    else "invalid BDW: block length below 5 or bytes 2-3 not zero"
                )
                found.broken.append(
                    BrokenRecord(
                        self.record_no,
                        base + p,
                        buf[p:end],
                        f"{reason}; the rest of the file cannot be cut into records",
                    )
                )
                self.record_no += 1
                return end
            stop = p + size
            q = self.walk(buf, p + 4, stop, base, found, True)
            if q < stop:  # the block's quota ran out mid-block: split blocks are not resumed
                rest = _Found()
                self.walk(buf, q, stop, base, rest, True)
                found.extend(rest)
            p = stop
        return p


def _block(buf: bytes, base: int, found: _Found, last: bool) -> RecordBlock:
    def joined(parts: list[NDArray[np.int64]]) -> NDArray[np.int64]:
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

    starts, lengths = joined(found.starts), joined(found.lengths)
    return RecordBlock(
        data=gather_records(buf, starts, lengths),
        lengths=lengths,
        record_no=joined(found.numbers),
        byte_offset=base + starts - RDW_BYTES,
        data_offset=RDW_BYTES,
        broken=tuple(found.broken),
        records_in=found.count(),
        last=last,
    )


def gather_records(
    buf: bytes, starts: NDArray[np.int64], lengths: NDArray[np.int64]
) -> NDArray[np.uint8]:
    """Records of varying length as rows of one (n, longest) matrix padded with PAD.

    Each row is copied whole from a sliding-window view of the buffer (a row gather, no index
    per byte and no loop over records), then the bytes beyond each record's end are set to PAD.
    Rows whose window would run past the buffer's end come from a padded copy of its tail.
    """
    n = starts.size
    width = int(lengths.max()) if n else 0
    out = np.empty((n, width), dtype=np.uint8)
    if not n or not width:
        return out
    source = np.frombuffer(buf, dtype=np.uint8)
    fits = starts + width <= source.size
    inner = np.flatnonzero(fits)
    if inner.size:
        out[inner] = sliding_window_view(source, width)[starts[inner]]
    if inner.size < n:
        outer = np.flatnonzero(~fits)
        first = int(starts[outer].min())
        tail = np.full(source.size - first + width, PAD, dtype=np.uint8)
        tail[: source.size - first] = source[first:]
        out[outer] = sliding_window_view(tail, width)[starts[outer] - first]
    shortest = int(lengths.min())
    if shortest < width:  # only the columns some record ends before
        distinct = np.unique(lengths)
        if distinct.size <= _FEW_LENGTHS:  # the usual case: a row slice per record length
            for length in distinct[:-1].tolist():
                out[np.flatnonzero(lengths == length), length:] = PAD
        else:
            beyond = np.arange(shortest, width)[None, :] >= lengths[:, None]
            np.putmask(out[:, shortest:], beyond, PAD)
    return out
