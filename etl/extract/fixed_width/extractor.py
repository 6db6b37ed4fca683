"""FixedWidthExtractor: fixed-length records (COBOL style), with or without line breaks.

Per block of whole records (.framing): classify record types by the discriminator (.records),
filter header/trailer records, decode the fields of the data records (every text and digits
field at once through etl.extract.decode, each zoned or packed decimal through
etl.extract.numeric, as tasks on a thread pool), and reject — one row per record, never an
exception — every record with a bad field, naming the byte offset of the bad byte. At the end of
the file, the trailer's record count is checked against the data records read (.records).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from functools import lru_cache, partial
from pathlib import Path

import numpy as np
import polars as pl
from numpy.typing import NDArray

from etl import events
from etl.errors import ExtractError
from etl.extract.base import (
    BYTE_OFFSET,
    RECORD_NO,
    DecodedPiece,
    ExtractChunk,
    extract_split,
    options_of,
)
from etl.extract.chunk_frames import SetAside, empty_chunk, records_frame
from etl.extract.decode import BadBytes, DecodedFields, FieldBytes, decode_record_fields
from etl.extract.encoding import SAMPLE_BYTES, ResolvedEncoding, resolve_encoding
from etl.extract.fixed_width.framing import RecordBlock, read_blocks
from etl.extract.fixed_width.options import FixedWidthOptions
from etl.extract.fixed_width.records import (
    DATA,
    HEADER,
    KIND_REASON,
    MISPLACED_HEADER,
    MISPLACED_TRAILER,
    TRAILER,
    UNKNOWN,
    Plan,
    Totals,
    classify,
    control_record_findings,
    make_plan,
    misplaced_control_records,
)
from etl.extract.location import BYTES, ByteOffset
from etl.extract.numeric import decode_packed, decode_zoned, number_dtype, packed_digits
from etl.extract.profile import FieldType, LineBreak, SourceField, SourceFile, SourceProfile
from etl.findings import concat_findings, empty_findings


class FixedWidthExtractor:
    """Fixed-length records; registered as ``fixed_width``."""

    name = "fixed_width"
    location = BYTES
    options_model = FixedWidthOptions

    def extract(
        self,
        path: Path,
        source: SourceFile,
        profile: SourceProfile,
        *,
        chunk_records: int = 200_000,
    ) -> Iterator[ExtractChunk]:
        yield from extract_split(self.split(path, source, profile, chunk_records=chunk_records))

    def split(
        self, path: Path, source: SourceFile, profile: SourceProfile, *, chunk_records: int
    ) -> _SplitFile:
        """The file framed into blocks of whole records, each decoded apart (``_Piece``)."""
        if not path.is_file():
            raise ExtractError(path, "file not found")
        options = options_of(path, source, FixedWidthOptions)
        if not options.record_length:
            raise ExtractError(path, f"source file {source.name} has no record_length")
        encoding = self.resolve_encoding(path, source, profile)
        events.step_started(f"read {source.name} ({path.name}) as {encoding.encoding}")
        plan = make_plan(source, options, profile, encoding.codec)
        blocks = read_blocks(
            path, plan.record_length, options.line_break, chunk_records, start=encoding.bom_length
        )
        return _SplitFile(plan, encoding, blocks)

    def resolve_encoding(
        self, path: Path, source: SourceFile, profile: SourceProfile
    ) -> ResolvedEncoding:
        """The encoding this extractor will use for ``path`` (guessed when declared auto)."""
        options = options_of(path, source, FixedWidthOptions)
        with path.open("rb") as f:
            head = f.read(SAMPLE_BYTES)
        return resolve_encoding(
            profile.encoding_of(source),
            path,
            source.name,
            head,
            sample=lambda: _layout_sample(head, source, options),
        )


@dataclass(frozen=True, slots=True)
class _Piece:
    """A block of whole records and what decoding it needs (picklable: its bytes travel)."""

    block: RecordBlock
    plan: Plan
    ends_file: bool

    def decode(self) -> DecodedPiece:
        totals = Totals(records_in=self.block.records_in)
        records, rejects, filtered, partial, (control_rows, private_use) = _extract_block(
            self.block, self.plan, totals, self.ends_file
        )
        chunk = ExtractChunk(
            self.plan.source.name,
            self.block.records_in,
            records,
            rejects,
            filtered,
            empty_findings(),
            partial,
            control_rows,
            private_use,
        )
        return DecodedPiece(chunk, totals, self.block.last)


class _SplitFile:
    """A fixed-width file read piece by piece; the trailer facts are summed in file order."""

    def __init__(
        self, plan: Plan, encoding: ResolvedEncoding, blocks: Iterator[RecordBlock]
    ) -> None:
        self.plan, self.encoding, self._blocks = plan, encoding, blocks
        self.totals = Totals()
        self._first = True

    def pieces(self) -> Iterator[_Piece]:
        for block, ends_file in _with_file_end(self._blocks):
            yield _Piece(block, self.plan, ends_file)

    def completed(self, decoded: DecodedPiece) -> ExtractChunk:
        assert isinstance(decoded.tally, Totals)
        self.totals.add(decoded.tally)
        findings = [self.encoding.findings] if self._first else []
        if decoded.last:
            findings.append(control_record_findings(self.plan, self.totals))
        self._first = False
        return replace(decoded.chunk, findings=concat_findings(findings))

    def empty(self) -> ExtractChunk:
        """An empty file: still one chunk, so the schema and findings travel."""
        return empty_chunk(
            self.plan.source.name,
            records_frame(field_schema(self.plan.source), {}),
            concat_findings(
                [self.encoding.findings, control_record_findings(self.plan, self.totals)]
            ),
        )


def _layout_sample(head: bytes, source: SourceFile, options: FixedWidthOptions) -> bytes:
    """Text fields of the first records, one per line: what a candidate codec must decode.

    Guessing on whole records would let packed fields and cut characters skew the scores.
    """
    length = options.record_length or 0
    texts = [f for f in source.fields if f.type is FieldType.TEXT]
    if not texts or not length:
        return head
    if options.line_break is LineBreak.NONE:
        lines = [head[i : i + length] for i in range(0, len(head) - length + 1, length)]
    else:
        lines = [line[:length] for line in head.split(b"\n")[:-1]]
    # a sample of at most a few thousand records: a plain loop is fine here
    parts = [
        line[f.offset or 0 : (f.offset or 0) + (f.length or 0)] for line in lines for f in texts
    ]
    return b"\n".join(p.rstrip(b" ") for p in parts) + b"\n"


def _with_file_end(blocks: Iterator[RecordBlock]) -> Iterator[tuple[RecordBlock, bool]]:
    """Each block, and whether it holds the file's last well-formed record (the trailer's place).

    A block is held back until a later block brings a well-formed record or the file ends; the
    blocks held meanwhile hold no well-formed record (only broken lines or trailing filler).
    """
    held: list[RecordBlock] = []
    for block in blocks:
        if block.records.shape[0] and held:
            yield from ((b, False) for b in held)
            held = []
        held.append(block)
    for i, b in enumerate(held):
        yield b, i == 0 and b.records.shape[0] > 0


_Hints = tuple[NDArray[np.int64], frozenset[str] | None]


def _extract_block(
    block: RecordBlock, plan: Plan, totals: Totals, ends_file: bool
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame | None, _Hints]:
    """(records, rejects, filtered, partial, (control rows: the rows of records that may hold a
    control character, the fields that may hold a private-use character)) of one block;
    ``totals`` gathers trailer facts.

    ``ends_file``: the block's last well-formed record is the file's last, where a trailer
    belongs. A header anywhere but record 1, or a trailer anywhere but the last record, is
    rejected: most likely a data record whose record-type byte was damaged.
    """
    recs = block.records
    kind = classify(recs, plan)
    if recs.shape[0]:
        kind = misplaced_control_records(kind, block.record_no, ends_file)
    out = SetAside(plan.source.name)
    for b in block.broken:
        if b.filler:
            out.filter_out(b.record_no, ByteOffset(b.byte_offset), b.reason)
        else:
            out.reject(b.record_no, ByteOffset(b.byte_offset), "", b.reason, b.raw)
    # control and unknown records: few per file, so a loop over them is fine
    rt = plan.options.record_types
    for i in np.flatnonzero(kind != DATA).tolist():
        no, off = int(block.record_no[i]), int(block.byte_offset[i])
        if kind[i] in (UNKNOWN, MISPLACED_HEADER, MISPLACED_TRAILER) and rt is not None:
            value = recs[i, rt.offset : rt.offset + rt.length].tobytes()
            text = value.decode(plan.codec, errors="backslashreplace")
            reason = _type_reason(int(kind[i]), text, no, off + rt.offset)
            out.reject(no, ByteOffset(off + rt.offset), "", reason, recs[i].tobytes())
            continue
        if kind[i] == HEADER:
            totals.headers += 1
        out.filter_out(no, ByteOffset(off), KIND_REASON[int(kind[i])])
        if kind[i] == TRAILER and rt is not None:
            tc = rt.trailer_count
            start, length = (tc.offset, tc.length) if tc is not None else (0, 0)
            totals.trailers.append((no, recs[i, start : start + length].tobytes()))

    data_idx = np.flatnonzero(kind == DATA)
    data = recs if data_idx.size == recs.shape[0] else recs[data_idx]
    totals.data_records += int(data_idx.size)
    columns, bad, control_rows, private_use = decode_fields(data, plan)
    offsets = block.byte_offset[data_idx]
    numbers = block.record_no[data_idx]
    keep = np.ones(data_idx.size, dtype=np.bool_)
    for row in sorted(bad):  # rejected records only
        problems = sorted(bad[row], key=lambda p: p[1].offset)
        item, first = problems[0]
        base = int(offsets[row])
        reason = "; ".join(
            f"{name}: {p.reason} at byte offset {base + p.offset}" for name, p in problems
        )
        at = ByteOffset(base + first.offset)
        out.reject(int(numbers[row]), at, item, reason, data[row].tobytes())
        keep[row] = False
    columns = {RECORD_NO: pl.Series(RECORD_NO, numbers), BYTE_OFFSET: pl.Series(offsets)} | columns
    decoded = records_frame(field_schema(plan.source), columns)
    records, partial = decoded, None
    if not keep.all():
        records = decoded.filter(pl.Series(keep))
        partial = decoded.filter(~pl.Series(keep))
        control_rows = (np.cumsum(keep) - 1)[control_rows[keep[control_rows]]]
    rejects, filtered = out.frames()
    return records, rejects, filtered, partial, (control_rows, private_use)


def _type_reason(kind: int, text: str, record_no: int, offset: int) -> str:
    if kind == MISPLACED_HEADER:
        return (
            f"record type {text!r} marks a header, but record {record_no} at byte offset "
            f"{offset} is not the first record; only record 1 may be the header"
        )
    if kind == MISPLACED_TRAILER:
        return (
            f"record type {text!r} marks a trailer, but record {record_no} at byte offset "
            f"{offset} is not the last record; only the last record may be the trailer"
        )
    return f"unknown record type {text!r}"


_FieldResult = tuple[pl.Series, tuple[BadBytes, ...]]


def field_schema(source: SourceFile) -> dict[str, pl.DataType]:
    """What each field decodes to: Int64 for zoned and packed decimals (an exact Decimal with an
    implied scale), String otherwise."""
    schema: dict[str, pl.DataType] = {}
    for f in source.fields:
        length = f.length or 0
        if f.type is FieldType.PACKED:
            schema[f.name] = number_dtype(packed_digits(length), f.scale)
        elif f.type is FieldType.ZONED:
            schema[f.name] = number_dtype(length, f.scale)
        else:
            schema[f.name] = pl.String()
    return schema


# Threads decoding the fields of a chunk (None: one per core, up to 4), set by the job for the
# extraction it runs (etl.pipeline.JobOptions.decode_threads); outputs are the same for any count.
_DECODE_THREADS: ContextVar[int | None] = ContextVar("chukan_decode_threads", default=None)


@contextmanager
def decode_threads(threads: int | None) -> Iterator[None]:
    """Decode fields on ``threads`` threads (None: one per core, up to 4) within the block."""
    if threads is not None and threads < 1:
        raise ValueError(f"decode threads must be at least 1, not {threads}")
    token = _DECODE_THREADS.set(threads)
    try:
        yield
    finally:
        _DECODE_THREADS.reset(token)


def decode_fields(
    data: NDArray[np.uint8], plan: Plan
) -> tuple[
    dict[str, pl.Series],
    dict[int, list[tuple[str, BadBytes]]],
    NDArray[np.int64],
    frozenset[str] | None,
]:
    """(column per field, bad bytes per record row as (field name, problem), the rows whose
    text may hold a control character, the fields whose text may hold a private-use one: None
    when the profile maps no 外字).

    The text and digits fields are decoded together in one task (etl.extract.decode), each
    zoned or packed field in a task of its own.
    """
    fields = plan.source.fields
    texts = [f for f in fields if f.type in _TEXT_TYPES]
    numbers = [f for f in fields if f.type not in _TEXT_TYPES]
    spans = [FieldBytes(f.offset or 0, f.length or 0, f.type is FieldType.DIGITS) for f in texts]
    threads = _DECODE_THREADS.get() or min(4, os.cpu_count() or 1)

    def decode_texts() -> DecodedFields:
        return decode_record_fields(data, spans, plan.codec, private_use=plan.gaiji)

    decode_number = partial(_decode_number, data, plan)
    if threads == 1 or not numbers:
        text, decoded = decode_texts(), list(map(decode_number, numbers))
    else:
        pool = _field_threads(threads)
        pending = pool.submit(decode_texts)
        decoded = list(pool.map(decode_number, numbers))
        text = pending.result()
    results = dict(zip([f.name for f in numbers], decoded, strict=True))
    results |= {f.name: (v, b) for f, v, b in zip(texts, text.values, text.bad, strict=True)}
    columns: dict[str, pl.Series] = {}
    bad: dict[int, list[tuple[str, BadBytes]]] = {}
    for f in fields:
        values, problems = results[f.name]
        columns[f.name] = values.alias(f.name)
        for p in problems:
            bad.setdefault(p.row, []).append((f.name, p))
    private_use = None
    if text.private_use is not None:
        private_use = frozenset(
            f.name for f, may in zip(texts, text.private_use, strict=True) if may
        )
    return columns, bad, text.control_rows, private_use


_TEXT_TYPES = (FieldType.TEXT, FieldType.DIGITS)


@lru_cache(maxsize=4)
def _field_threads(threads: int) -> ThreadPoolExecutor:
    # Most of decoding is numpy and pyarrow work that releases the GIL, so the numbers decoded
    # beside the text overlap with it; only bytes.decode itself is serial.
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="decode")


def _decode_number(data: NDArray[np.uint8], plan: Plan, f: SourceField) -> _FieldResult:
    off, length = f.offset or 0, f.length or 0
    raw = data[:, off : off + length]
    nums = (
        decode_packed(raw, f.scale)
        if f.type is FieldType.PACKED
        else decode_zoned(raw, plan.zoned, f.scale)
    )
    kind = "packed" if f.type is FieldType.PACKED else f"zoned ({plan.zoned.value})"
    problems = tuple(
        BadBytes(
            row,
            off + col,
            bytes(raw[row, col : col + 1]),
            f"invalid {kind} decimal byte 0x{raw[row, col]:02X}",
        )
        for row, col in zip(
            np.flatnonzero(nums.invalid).tolist(),
            nums.bad_byte[nums.invalid].tolist(),
            strict=True,
        )
    )
    return nums.values, problems
