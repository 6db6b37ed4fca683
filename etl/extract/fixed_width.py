"""FixedWidthExtractor: fixed-length records (COBOL style), with or without line breaks.

Per block of whole records (etl.extract.framing): classify record types by the discriminator,
filter header/trailer records, decode every field of the data records column by column
(etl.extract.decode, etl.extract.numeric), and reject — one row per record, never an exception —
every record with a bad field. At the end of the file, the trailer's record count is checked
against the data records read.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path

import numpy as np
import polars as pl
from numpy.typing import NDArray

from etl.errors import ExtractError, ProfileError
from etl.extract.base import (
    BYTE_OFFSET,
    FILTER_SCHEMA,
    RECORD_NO,
    REJECT_SCHEMA,
    ExtractChunk,
)
from etl.extract.decode import BadBytes, check_digits, decode_field
from etl.extract.encoding import SAMPLE_BYTES, ResolvedEncoding, finding, resolve_encoding
from etl.extract.framing import RecordBlock, read_blocks
from etl.extract.numeric import ZonedSign, decode_packed, decode_zoned
from etl.extract.profile import FieldType, LineBreak, SourceField, SourceFile, SourceProfile
from etl.findings import Severity, concat_findings, empty_findings

log = logging.getLogger(__name__)

UNKNOWN, DATA, HEADER, TRAILER = 0, 1, 2, 3
_KIND_REASON = {HEADER: "header record", TRAILER: "trailer record"}


@dataclass(frozen=True, slots=True)
class _Plan:
    source: SourceFile
    record_length: int
    codec: str
    zoned: ZonedSign
    kinds: tuple[tuple[bytes, int], ...]  # encoded discriminator value → kind


@dataclass(slots=True)
class _Totals:
    """What the trailer check needs from the whole file."""

    data_records: int = 0  # records typed as data, including those rejected for bad bytes
    trailers: list[tuple[int, bytes]] = field(default_factory=list)  # (record_no, count bytes)


class FixedWidthExtractor:
    """Fixed-length records; registered as ``fixed_width``."""

    name = "fixed_width"

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
        if not source.record_length:
            raise ExtractError(path, f"source file {source.name} has no record_length")
        encoding = self.resolve_encoding(path, source, profile)
        log.info("%s: reading %s as %s", source.name, path, encoding.encoding)
        plan = _plan(source, profile, encoding.codec)
        totals = _Totals()
        first = True
        for block in read_blocks(
            path, plan.record_length, source.line_break, chunk_records, start=encoding.bom_length
        ):
            records, rejects, filtered, partial = _extract_block(block, plan, totals)
            findings = [encoding.findings] if first else []
            if block.last:
                findings.append(_trailer_findings(source, totals))
            first = False
            yield ExtractChunk(
                source.name,
                block.records_in,
                records,
                rejects,
                filtered,
                concat_findings(findings),
                partial,
            )
        if first:  # empty file: still one chunk, so the schema and findings travel
            yield ExtractChunk(
                source.name,
                0,
                _records_frame(source, {}),
                pl.DataFrame(schema=REJECT_SCHEMA),
                pl.DataFrame(schema=FILTER_SCHEMA),
                concat_findings([encoding.findings, _trailer_findings(source, totals)]),
            )

    def resolve_encoding(
        self, path: Path, source: SourceFile, profile: SourceProfile
    ) -> ResolvedEncoding:
        """The encoding this extractor will use for ``path`` (guessed when declared auto)."""
        with path.open("rb") as f:
            head = f.read(SAMPLE_BYTES)
        return resolve_encoding(
            profile.encoding_of(source),
            path,
            source.name,
            head,
            sample=lambda: _layout_sample(head, source),
        )


def _layout_sample(head: bytes, source: SourceFile) -> bytes:
    """Text fields of the first records, one per line: what a candidate codec must decode.

    Guessing on whole records would let packed fields and cut characters skew the scores.
    """
    length = source.record_length or 0
    texts = [f for f in source.fields if f.type is FieldType.TEXT]
    if not texts or not length:
        return head
    if source.line_break is LineBreak.NONE:
        lines = [head[i : i + length] for i in range(0, len(head) - length + 1, length)]
    else:
        lines = [line[:length] for line in head.split(b"\n")[:-1]]
    # a sample of at most a few thousand records: a plain loop is fine here
    parts = [
        line[f.offset or 0 : (f.offset or 0) + (f.length or 0)] for line in lines for f in texts
    ]
    return b"\n".join(p.rstrip(b" ") for p in parts) + b"\n"


def _plan(source: SourceFile, profile: SourceProfile, codec: str) -> _Plan:
    yaml_path = profile.folder / "source.yaml"
    try:
        zoned = ZonedSign(str(source.options.get("zoned_sign", "ascii")))
    except ValueError as exc:
        raise ProfileError(
            yaml_path, f"file {source.name}: zoned_sign must be ascii or ebcdic"
        ) from exc
    kinds: list[tuple[bytes, int]] = []
    rt = source.record_types
    if rt is not None:
        for values, kind in ((rt.data, DATA), (rt.header, HEADER), (rt.trailer, TRAILER)):
            for value in values:
                encoded = value.encode(codec)
                if len(encoded) != rt.length:
                    raise ProfileError(
                        yaml_path,
                        f"file {source.name}: record type {value!r} is {len(encoded)} bytes, "
                        f"the discriminator is {rt.length}",
                    )
                kinds.append((encoded, kind))
    return _Plan(source, source.record_length or 0, codec, zoned, tuple(kinds))


def _classify(recs: NDArray[np.uint8], plan: _Plan) -> NDArray[np.int8]:
    rt = plan.source.record_types
    if rt is None:
        return np.full(recs.shape[0], DATA, dtype=np.int8)
    disc = recs[:, rt.offset : rt.offset + rt.length]
    kind = np.full(recs.shape[0], UNKNOWN, dtype=np.int8)
    for value, code in plan.kinds:
        match = (disc == np.frombuffer(value, dtype=np.uint8)).all(axis=1) & (kind == UNKNOWN)
        kind[match] = code
    return kind


def _extract_block(
    block: RecordBlock, plan: _Plan, totals: _Totals
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame | None]:
    recs = block.records
    kind = _classify(recs, plan)
    src = plan.source.name
    rejects: dict[str, list[object]] = {k: [] for k in REJECT_SCHEMA}
    filtered: dict[str, list[object]] = {k: [] for k in FILTER_SCHEMA}

    def reject(no: int, off: int, item: str, reason: str, raw: bytes) -> None:
        for k, v in zip(REJECT_SCHEMA, (src, no, off, item, reason, raw.hex()), strict=True):
            rejects[k].append(v)

    def drop(no: int, off: int, reason: str) -> None:
        for k, v in zip(FILTER_SCHEMA, (src, no, off, reason), strict=True):
            filtered[k].append(v)

    for b in block.broken:
        if b.filler:
            drop(b.record_no, b.byte_offset, b.reason)
        else:
            reject(b.record_no, b.byte_offset, "", b.reason, b.raw)
    # control and unknown records: few per file, so a loop over them is fine
    rt = plan.source.record_types
    for i in np.flatnonzero(kind != DATA).tolist():
        no, off = int(block.record_no[i]), int(block.byte_offset[i])
        if kind[i] == UNKNOWN and rt is not None:
            value = recs[i, rt.offset : rt.offset + rt.length].tobytes()
            text = value.decode(plan.codec, errors="backslashreplace")
            reject(no, off + rt.offset, "", f"unknown record type {text!r}", recs[i].tobytes())
            continue
        drop(no, off, _KIND_REASON[int(kind[i])])
        if kind[i] == TRAILER and rt is not None and rt.trailer_count is not None:
            tc = rt.trailer_count
            start = tc.offset or 0
            totals.trailers.append((no, recs[i, start : start + (tc.length or 0)].tobytes()))

    data_idx = np.flatnonzero(kind == DATA)
    data = recs if data_idx.size == recs.shape[0] else recs[data_idx]
    totals.data_records += int(data_idx.size)
    columns, bad = _decode_fields(data, plan)
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
        reject(int(numbers[row]), base + first.offset, item, reason, data[row].tobytes())
        keep[row] = False
    columns = {RECORD_NO: pl.Series(RECORD_NO, numbers), BYTE_OFFSET: pl.Series(offsets)} | columns
    decoded = _records_frame(plan.source, columns)
    records, partial = decoded, None
    if not keep.all():
        records = decoded.filter(pl.Series(keep))
        partial = decoded.filter(~pl.Series(keep))
    return (
        records,
        pl.DataFrame(rejects, schema=REJECT_SCHEMA).sort("record_no", maintain_order=True),
        pl.DataFrame(filtered, schema=FILTER_SCHEMA).sort("record_no", maintain_order=True),
        partial,
    )


_FieldResult = tuple[pl.Series, tuple[BadBytes, ...]]


def _decode_one(data: NDArray[np.uint8], plan: _Plan, f: SourceField) -> _FieldResult:
    off, length = f.offset or 0, f.length or 0
    if f.type is FieldType.TEXT:
        col = decode_field(data, off, length, plan.codec)
        return col.values, col.bad
    if f.type is FieldType.DIGITS:
        col = check_digits(data, off, length)
        return col.values, col.bad
    raw = data[:, off : off + length]
    nums = decode_packed(raw) if f.type is FieldType.PACKED else decode_zoned(raw, plan.zoned)
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


@lru_cache(maxsize=1)
def _field_threads() -> ThreadPoolExecutor:
    # Most of a field's decoding is numpy and pyarrow work that releases the GIL, so fields
    # decoded on two threads overlap well; only bytes.decode itself is serial.
    return ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1), thread_name_prefix="decode")


def _decode_fields(
    data: NDArray[np.uint8], plan: _Plan
) -> tuple[dict[str, pl.Series], dict[int, list[tuple[str, BadBytes]]]]:
    columns: dict[str, pl.Series] = {}
    bad: dict[int, list[tuple[str, BadBytes]]] = {}
    fields = plan.source.fields
    results = _field_threads().map(partial(_decode_one, data, plan), fields)
    for f, (values, problems) in zip(fields, results, strict=True):
        columns[f.name] = values.alias(f.name)
        for p in problems:
            bad.setdefault(p.row, []).append((f.name, p))
    return columns, bad


def _records_frame(source: SourceFile, columns: dict[str, pl.Series]) -> pl.DataFrame:
    schema: dict[str, pl.DataType] = {RECORD_NO: pl.Int64(), BYTE_OFFSET: pl.Int64()}
    for f in source.fields:
        numeric = f.type in (FieldType.ZONED, FieldType.PACKED)
        schema[f.name] = pl.Int64() if numeric else pl.String()
    if not columns:
        return pl.DataFrame(schema=schema)
    return pl.DataFrame([columns[name].alias(name) for name in schema]).cast(schema)  # type: ignore[arg-type]


def _trailer_findings(source: SourceFile, totals: _Totals) -> pl.DataFrame:
    rt = source.record_types
    if rt is None or not rt.trailer:
        return empty_findings()
    if not totals.trailers and rt.trailer_count is not None:
        return finding(
            "extract.trailer_missing",
            Severity.ERROR,
            source.name,
            "トレーラレコードがありません。ファイルが途中で切れている可能性があります。",
        )
    if not totals.trailers:
        return empty_findings()
    record_no, raw = totals.trailers[-1]
    text = raw.decode("ascii", errors="replace").strip()
    actual = totals.data_records
    if not text.isdigit():
        message = f"トレーラレコードの件数項目が数字ではありません（{text!r}）。"
    elif int(text) != actual:
        message = (
            f"トレーラレコードの件数（{int(text)}件）と読み込んだデータレコード数"
            f"（{actual}件）が一致しません。"
        )
    else:
        return empty_findings()
    return finding(
        "extract.trailer_count",
        Severity.ERROR,
        source.name,
        message,
        record_no=record_no,
        item="trailer_count",
        value=text,
    )
