"""MainframeExtractor: EBCDIC kanji data sets (F/FB or V/VB with RDW) read by their copybook.

Per block of records (.framing): classify record types by their single-byte characters, set
header / trailer / the other layouts' records aside, check each data record's length against
its layout (an OCCURS DEPENDING ON table makes it vary: the counter says by how much), decode
every field column by column (text through the file's charset, etl.extract.charsets; zoned,
packed and binary numbers vectorised) and reject — one row per record, never an exception —
every record with a bad field or length, naming the field and the byte offset in the file.

An OCCURS table reaches the mapping as indexed columns (``IDO-YMD(1)`` … one per occurrence,
null beyond the DEPENDING ON count), or, for the table named by ``children``, as one record
per present occurrence (the record's other fields repeated beside it): a history file's rows.
Then ``records_in`` counts those child records (and a data record without occurrences is one
filtered record), so records in = written + rejected + filtered holds for them too; the
trailer's count is checked against the physical data records.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import numpy as np
import polars as pl
from numpy.typing import NDArray

from etl import events
from etl.errors import ExtractError, ProfileError
from etl.extract.base import (
    BYTE_OFFSET,
    RECORD_NO,
    DecodedPiece,
    ExtractChunk,
    extract_split,
    filter_schema,
    options_of,
)
from etl.extract.charsets import Charset, CharsetSpec, TextMode, load_charset
from etl.extract.chunk_frames import SetAside, empty_chunk, records_frame
from etl.extract.encoding import (
    ResolvedEncoding,
    missing_control_findings,
    trailer_count_finding,
)
from etl.extract.location import BYTES, ByteOffset
from etl.extract.mainframe.framing import RecordBlock, read_blocks
from etl.extract.mainframe.options import (
    MainframeOptions,
    NumberType,
    OccursGroup,
    occurrence_names,
)
from etl.extract.numeric import (
    DecodedNumbers,
    ZonedSign,
    decode_binary,
    decode_packed,
    decode_zoned,
    number_dtype,
    packed_digits,
)
from etl.extract.profile import FieldType, SourceField, SourceFile, SourceProfile
from etl.findings import concat_findings, empty_findings
from etl.paths import inside

UNKNOWN, DATA, OTHER, HEADER, TRAILER, MISPLACED_HEADER, MISPLACED_TRAILER, SHORT = range(8)
_KIND_OF = {"data": DATA, "other": OTHER, "header": HEADER, "trailer": TRAILER}
_BINARY_DIGITS = {2: 5, 4: 10, 8: 19}


class MainframeExtractor:
    """Mainframe data sets; registered as ``mainframe``."""

    name = "mainframe"
    location = BYTES
    options_model = MainframeOptions

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
        """The data set framed into blocks of whole records (F/FB by the record length, V/VB
        by the RDWs), each decoded apart (``_Piece``)."""
        if not path.is_file():
            raise ExtractError(path, "file not found")
        plan = make_plan(path, source, profile)
        options = plan.options
        events.step_started(
            f"read {source.name} ({path.name}) as {plan.charset.name}, RECFM {options.recfm}"
        )
        return _SplitFile(plan, read_blocks(path, options, chunk_records))

    def resolve_encoding(
        self, path: Path, source: SourceFile, profile: SourceProfile
    ) -> ResolvedEncoding:
        """The charset the file is read with (``chukan inspect`` shows it)."""
        key = options_of(path, source, MainframeOptions).charset_key
        label = key.name + (f" + {key.sbcs}" if key.sbcs else "")
        return ResolvedEncoding(key.name, label, key.name, 0, None, empty_findings())


# ---- the plan: what reading the file needs, resolved once ------------------------------------


@dataclass(frozen=True)
class Plan:
    path: Path
    source: SourceFile
    options: MainframeOptions
    charset: Charset
    kinds: dict[str, int]  # record type value → kind

    @cached_property
    def schema(self) -> dict[str, pl.DataType]:
        """The field columns and their types (a column per occurrence for indexed tables)."""
        out: dict[str, pl.DataType] = {}
        for f in self.source.fields:
            g = self.options.indexed(f)
            names = [f.name] if g is None else occurrence_names(f.name, g.times)
            for name in names:
                out[name] = field_dtype(f)
        return out

    @cached_property
    def children(self) -> OccursGroup | None:
        return None if self.options.children is None else self.options.group(self.options.children)

    @cached_property
    def fixed_end(self) -> int:
        """Bytes a record's data needs before any table whose length varies."""
        ends = [(f.offset or 0) + (f.length or 0) for f in self.source.fields if f.group is None]
        ends += [g.end for g in self.options.occurs if g.depending_on is None]
        ends += [g.offset for g in self.options.occurs if g.depending_on is not None]
        return max(ends, default=0)

    @cached_property
    def varying(self) -> OccursGroup | None:
        return next((g for g in self.options.occurs if g.depending_on is not None), None)


def field_dtype(f: SourceField) -> pl.DataType:
    length = f.length or 0
    if f.type is FieldType.PACKED:
        return number_dtype(packed_digits(length), f.scale)
    if f.type is FieldType.ZONED:
        return number_dtype(length, f.scale)
    if f.type is FieldType.BINARY:
        return number_dtype(_BINARY_DIGITS.get(length, 19), f.scale)
    return pl.String()


def make_plan(path: Path, source: SourceFile, profile: SourceProfile) -> Plan:
    options = options_of(path, source, MainframeOptions)
    yaml_path = profile.folder / "source.yaml"
    key = options.charset_key
    at = f"files[{profile.files.index(source)}].charset" if source in profile.files else "charset"
    sbcs: str | None = key.sbcs
    if sbcs is not None and sbcs not in ("ebcdic", "ebcdik"):
        sbcs = str(inside(profile.folder, sbcs, config=yaml_path, key=f"{at}.sbcs"))
    gaiji = (
        inside(profile.folder, key.gaiji, config=yaml_path, key=f"{at}.gaiji")
        if key.gaiji
        else None
    )
    try:
        spec = CharsetSpec(
            key.name,
            sbcs=sbcs,
            dbcs_in=key.dbcs_in,
            dbcs_out=key.dbcs_out,
            gaiji=gaiji,
        )
    except ValueError as exc:
        raise ProfileError(yaml_path, f"file {source.name}: charset: {exc}") from None
    charset = load_charset(spec)
    kinds: dict[str, int] = {}
    rt = options.record_types
    if rt is not None:
        for name, kind in _KIND_OF.items():
            kinds |= dict.fromkeys(rt.codes(name), kind)
    return Plan(path, source, options, charset, kinds)


# ---- numbers ---------------------------------------------------------------------------------


def decode_number(raw: NDArray[np.uint8], f: SourceField) -> DecodedNumbers:
    if f.type is FieldType.PACKED:
        return decode_packed(raw, f.scale)
    if f.type is FieldType.BINARY:
        return decode_binary(raw, f.scale, signed=f.signed is not False)
    return decode_zoned(raw, ZonedSign.EBCDIC, f.scale)


# ---- one block ------------------------------------------------------------------------------


@dataclass(slots=True)
class Totals:
    """What the header/trailer checks need from the whole file."""

    records_in: int = 0  # physical records read
    data_records: int = 0  # physical records typed as data (this layout and the others)
    headers: int = 0
    trailers: list[tuple[int, bytes]] = field(default_factory=list)  # (record_no, count bytes)

    def add(self, piece: Totals) -> None:
        """Sum in the totals of the next piece of the file (decoded apart, maybe elsewhere)."""
        self.records_in += piece.records_in
        self.data_records += piece.data_records
        self.headers += piece.headers
        self.trailers += piece.trailers


@dataclass(frozen=True, slots=True)
class _Part:
    records_in: int
    records: pl.DataFrame
    rejects: pl.DataFrame
    filtered: pl.DataFrame
    partial: pl.DataFrame | None
    findings: pl.DataFrame


def _with_file_end(blocks: Iterator[RecordBlock]) -> Iterator[tuple[RecordBlock, bool]]:
    """Each block, and whether it holds the file's last well-formed record (a trailer's place)."""
    held: list[RecordBlock] = []
    for block in blocks:
        if block.data.shape[0] and held:
            yield from ((b, False) for b in held)
            held = []
        held.append(block)
    for i, b in enumerate(held):
        yield b, i == 0 and b.data.shape[0] > 0


@dataclass(frozen=True, slots=True)
class _Piece:
    """A block of whole records and its plan (picklable: the charset travels as its spec)."""

    block: RecordBlock
    plan: Plan
    ends_file: bool

    def decode(self) -> DecodedPiece:
        totals = Totals()
        part = _extract_block(self.block, self.plan, totals, self.ends_file)
        chunk = ExtractChunk(
            self.plan.source.name,
            part.records_in,
            part.records,
            part.rejects,
            part.filtered,
            part.findings,
            part.partial,
        )
        return DecodedPiece(chunk, totals, self.block.last)


class _SplitFile:
    """A data set read piece by piece; the header/trailer facts are summed in file order."""

    def __init__(self, plan: Plan, blocks: Iterator[RecordBlock]) -> None:
        self.plan, self._blocks = plan, blocks
        self.totals = Totals()

    def pieces(self) -> Iterator[_Piece]:
        for block, ends_file in _with_file_end(self._blocks):
            yield _Piece(block, self.plan, ends_file)

    def completed(self, decoded: DecodedPiece) -> ExtractChunk:
        assert isinstance(decoded.tally, Totals)
        self.totals.add(decoded.tally)
        if not decoded.last:
            return decoded.chunk
        findings = [decoded.chunk.findings, control_record_findings(self.plan, self.totals)]
        return replace(decoded.chunk, findings=concat_findings(findings))

    def empty(self) -> ExtractChunk:
        """An empty data set: still one chunk, so the schema and findings travel."""
        return empty_chunk(
            self.plan.source.name,
            records_frame(self.plan.schema, {}),
            control_record_findings(self.plan, self.totals),
        )


def classify(block: RecordBlock, plan: Plan, ends_file: bool) -> NDArray[np.int8]:
    n = block.data.shape[0]
    rt = plan.options.record_types
    if rt is None:
        return np.full(n, DATA, dtype=np.int8)
    end = rt.offset + rt.length
    kind = np.full(n, UNKNOWN, dtype=np.int8)
    if n:
        text = plan.charset.decode(block.data[:, rt.offset : end], TextMode.SBCS).text
        codes = text.replace_strict(plan.kinds, default=UNKNOWN, return_dtype=pl.Int8)
        kind = codes.fill_null(UNKNOWN).to_numpy().astype(np.int8)
    kind[block.lengths < end] = SHORT
    kind[(kind == HEADER) & (block.record_no != 1)] = MISPLACED_HEADER
    not_last = np.ones(n, dtype=np.bool_)
    if ends_file and n:
        not_last[-1] = False
    kind[(kind == TRAILER) & not_last] = MISPLACED_TRAILER
    return kind


def _type_reason(kind: int, block: RecordBlock, i: int, plan: Plan) -> tuple[int, str]:
    """(byte offset in the file, reason) of a record whose type is wrong or unknown."""
    rt = plan.options.record_types
    assert rt is not None
    at = int(block.byte_offset[i]) + block.data_offset + rt.offset
    raw = block.data[i, rt.offset : rt.offset + rt.length]
    shown = " ".join(f"0x{b:02X}" for b in raw.tolist())
    no = int(block.record_no[i])
    if kind == SHORT:
        return at, (
            f"record holds {int(block.lengths[i])} data bytes, the record type is at bytes "
            f"{rt.offset}..{rt.offset + rt.length}"
        )
    if kind == MISPLACED_HEADER:
        return at, (
            f"record type ({shown}) marks a header, but record {no} at byte offset {at} is not "
            "the first record; only record 1 may be the header"
        )
    if kind == MISPLACED_TRAILER:
        return at, (
            f"record type ({shown}) marks a trailer, but record {no} at byte offset {at} is not "
            "the last record; only the last record may be the trailer"
        )
    return at, f"unknown record type ({shown})"


@dataclass(slots=True)
class _Problems:
    """The first problems of each data row: (field, offset in the record's data, reason)."""

    rows: dict[int, list[tuple[str, int, str]]] = field(default_factory=dict)

    def add(self, row: int, item: str, offset: int, reason: str) -> None:
        self.rows.setdefault(row, []).append((item, offset, reason))

    def add_all(
        self,
        rows: NDArray[np.int64],
        item: str,
        offsets: NDArray[np.int64],
        reasons: list[str],
    ) -> None:
        for row, off, reason in zip(rows.tolist(), offsets.tolist(), reasons, strict=True):
            self.add(row, item, off, reason)


def _extract_block(block: RecordBlock, plan: Plan, totals: Totals, ends_file: bool) -> _Part:
    kind = classify(block, plan, ends_file)
    out = SetAside(plan.source.name)
    for b in block.broken:
        if b.filler:
            out.filter_out(b.record_no, ByteOffset(b.byte_offset), b.reason)
        else:
            out.reject(b.record_no, ByteOffset(b.byte_offset), "", b.reason, b.raw)
    rt = plan.options.record_types
    # control records and records of other layouts: few, or each only counted and set aside
    for i in np.flatnonzero((kind != DATA) & (kind != OTHER)).tolist():
        no, start = int(block.record_no[i]), int(block.byte_offset[i])
        if kind[i] in (HEADER, TRAILER):
            out.filter_out(
                no, ByteOffset(start), "header record" if kind[i] == HEADER else "trailer record"
            )
            if kind[i] == HEADER:
                totals.headers += 1
            elif rt is not None and rt.trailer_count is not None:
                tc = rt.trailer_count
                totals.trailers.append(
                    (no, block.data[i, tc.offset : tc.offset + tc.length].tobytes())
                )
            else:
                totals.trailers.append((no, b""))
            continue
        at, reason = _type_reason(int(kind[i]), block, i, plan)
        out.reject(no, ByteOffset(at), "", reason, _raw(block, i))
    # the other layouts' records can be most of the file: set aside as one frame, not row by row
    others = np.flatnonzero(kind == OTHER)
    other_frame = pl.DataFrame(
        {
            "source": pl.Series([plan.source.name] * others.size, dtype=pl.String),
            "record_no": block.record_no[others],
            "byte_offset": block.byte_offset[others],
            "reason": pl.Series(["record of another layout of this file"] * others.size),
        },
        schema=filter_schema(BYTES),
    )

    def set_aside() -> tuple[pl.DataFrame, pl.DataFrame]:
        rejects, filtered = out.frames()
        if not other_frame.height:
            return rejects, filtered
        return rejects, pl.concat([filtered, other_frame]).sort("record_no", maintain_order=True)

    data_idx = np.flatnonzero(kind == DATA)
    totals.records_in += block.records_in
    totals.data_records += int(data_idx.size) + int(others.size)
    rows = _DataRows(block, data_idx, plan)
    columns, problems, counts = rows.decode()
    keep = np.ones(data_idx.size, dtype=np.bool_)
    for row in sorted(problems.rows):
        found = sorted(problems.rows[row], key=lambda p: p[1])
        base = int(rows.offsets[row]) + block.data_offset
        reason = "; ".join(f"{item}: {why} at byte offset {base + off}" for item, off, why in found)
        item, off, _ = found[0]
        out.reject(
            int(rows.numbers[row]),
            ByteOffset(base + off),
            item,
            reason,
            _raw(block, int(data_idx[row])),
        )
        keep[row] = False
    # unmapped 外字 stay in the text (U+F0000 + code): the mapping reports them with the key
    findings = empty_findings()
    children = plan.children
    if children is None:
        columns = {
            RECORD_NO: pl.Series(RECORD_NO, rows.numbers),
            BYTE_OFFSET: pl.Series(BYTE_OFFSET, rows.offsets),
        } | columns
        decoded = records_frame(plan.schema, columns)
        records, partial = decoded, None
        if not keep.all():
            records = decoded.filter(pl.Series(keep))
            partial = decoded.filter(~pl.Series(keep))
        rejects, filtered = set_aside()
        records_in = block.records_in
        return _Part(records_in, records, rejects, filtered, partial, findings)
    # children: one record per present occurrence of the table, the parent's fields beside it
    per_row = np.where(keep, counts, 0)
    for row in np.flatnonzero(keep & (counts == 0)).tolist():
        out.filter_out(
            int(rows.numbers[row]),
            ByteOffset(int(rows.offsets[row])),
            f"no occurrence of {children.name}",
        )
    parent = np.repeat(np.arange(data_idx.size, dtype=np.int64), per_row)
    # the occurrences were decoded for every data record: keep those of the records kept
    kept = pl.Series(np.repeat(keep, counts))
    columns = {
        RECORD_NO: pl.Series(RECORD_NO, rows.numbers[parent]),
        BYTE_OFFSET: pl.Series(BYTE_OFFSET, rows.offsets[parent]),
    } | {
        name: values.filter(kept) if name in rows.child_columns else values.gather(parent)
        for name, values in columns.items()
    }
    records = records_frame(plan.schema, columns)
    rejects, filtered = set_aside()
    records_in = records.height + rejects.height + filtered.height
    return _Part(records_in, records, rejects, filtered, None, findings)


def _raw(block: RecordBlock, i: int) -> bytes:
    return block.data[i, : int(block.lengths[i])].tobytes()


class _DataRows:
    """The data records of one block, decoded field by field."""

    def __init__(self, block: RecordBlock, idx: NDArray[np.int64], plan: Plan) -> None:
        self.plan = plan
        self.data = block.data if idx.size == block.data.shape[0] else block.data[idx]
        self.lengths = block.lengths[idx]
        self.numbers = block.record_no[idx]
        self.offsets = block.byte_offset[idx]
        self.problems = _Problems()
        self.child_columns: set[str] = set()

    def slice(self, start: int, length: int) -> NDArray[np.uint8]:
        """Bytes ``start``..``start + length`` of every row (PAD where a record is shorter)."""
        width = self.data.shape[1]
        if start + length <= width:
            return self.data[:, start : start + length]
        out = np.full((self.data.shape[0], length), 0x40, dtype=np.uint8)
        if start < width:
            out[:, : width - start] = self.data[:, start:]
        return out

    def decode(self) -> tuple[dict[str, pl.Series], _Problems, NDArray[np.int64]]:
        plan = self.plan
        n = self.data.shape[0]
        counts = self.check_lengths()
        columns: dict[str, pl.Series] = {}
        children = plan.children
        for f in plan.source.fields:
            g = plan.options.group(f.group) if f.group is not None else None
            if g is None:
                columns[f.name] = self.column(f, f.offset or 0, np.ones(n, np.bool_), f.name)
                continue
            present_counts = counts if g.depending_on is not None else np.full(n, g.times)
            if children is not None and g.name == children.name:
                columns[f.name] = self.child_column(f, g, present_counts)
                self.child_columns.add(f.name)
                continue
            for i, name in enumerate(occurrence_names(f.name, g.times)):
                present = present_counts > i
                start = (f.offset or 0) + i * g.length
                columns[name] = self.column(f, start, present, name)
        return columns, self.problems, counts

    def check_lengths(self) -> NDArray[np.int64]:
        """The DEPENDING ON count of each row (the table's maximum without one); rows of the
        wrong length or with a bad count are problems."""
        plan = self.plan
        n = self.data.shape[0]
        g = plan.varying
        short = np.flatnonzero(self.lengths < plan.fixed_end)
        if short.size:
            self.problems.add_all(
                short,
                "",
                np.zeros(short.size, np.int64),
                [
                    f"record holds {int(self.lengths[r])} data bytes, its layout needs "
                    f"{plan.fixed_end}"
                    for r in short.tolist()
                ],
            )
        if g is None:
            return np.full(n, 0, dtype=np.int64)
        counter = plan.source.field(g.depending_on or "")
        off = counter.offset or 0
        nums = decode_number(self.slice(off, counter.length or 0), counter)
        counts: NDArray[np.int64] = np.asarray(
            nums.values.cast(pl.Int64).fill_null(-1).to_numpy(), dtype=np.int64
        )
        bad = np.flatnonzero((counts < g.minimum) | (counts > g.times))
        bad = bad[~np.isin(bad, short)]
        reasons = [
            str(nums.error_reason[r]) if counts[r] < 0 and nums.invalid[r]
            else f"DEPENDING ON count {int(counts[r])} is outside {g.minimum}..{g.times} "
            f"occurrences of {g.name}"
            for r in bad.tolist()
        ]  # fmt: skip
        self.problems.add_all(bad, counter.name, np.full(bad.size, off, np.int64), reasons)
        counts = np.clip(counts, 0, g.times).astype(np.int64)
        counts[short] = 0  # rejected for their count or length: their occurrences are not read
        counts[bad] = 0
        if plan.options.recfm.variable:
            expected = g.offset + counts * g.length
            wrong = np.flatnonzero(self.lengths != expected)
            wrong = wrong[~np.isin(wrong, np.concatenate([short, bad]))]
            self.problems.add_all(
                wrong,
                counter.name,
                np.full(wrong.size, off, np.int64),
                [
                    f"record holds {int(self.lengths[r])} data bytes, but {counts[r]} "
                    f"occurrences of {g.name} ({g.length} bytes each from byte {g.offset}) "
                    f"make {int(expected[r])}"
                    for r in wrong.tolist()
                ],
            )
            counts[wrong] = 0
        return counts

    def column(
        self, f: SourceField, start: int, present: NDArray[np.bool_], name: str
    ) -> pl.Series:
        """Field ``f`` at ``start`` of every row; null (and not decoded) where not ``present``
        (an occurrence beyond a record's DEPENDING ON count)."""
        raw = self.slice(start, f.length or 0)
        if present.all():
            return self.decode_field(f, raw, start, present, name).alias(name)
        rows = np.flatnonzero(present)
        values = self.decode_field(f, raw[rows], start, np.ones(rows.size, np.bool_), name, rows)
        n = present.size
        full = pl.Series(name, [None], dtype=values.dtype).extend_constant(None, n - 1)
        return full.scatter(rows, values) if rows.size else full

    def decode_field(
        self,
        f: SourceField,
        raw: NDArray[np.uint8],
        start: int | NDArray[np.int64],
        present: NDArray[np.bool_],
        name: str,
        rows: NDArray[np.int64] | None = None,
    ) -> pl.Series:
        """Decode ``raw`` (one value per row, at ``start`` of its record, one for all or one per
        value); problems are reported for ``rows`` (the data record of each value; default: the
        value's own row) where ``present``."""

        def at(bad: NDArray[np.int64]) -> NDArray[np.int64] | int:
            return start if isinstance(start, int) else start[bad]

        if f.type is FieldType.TEXT:
            decoded = self.plan.charset.decode(raw, f.mode or TextMode.MIXED)
            err = decoded.error_offset.fill_null(-1).to_numpy().astype(np.int64)
            bad = np.flatnonzero((err >= 0) & present)
            if bad.size:
                reasons = decoded.error_reason.gather(bad).to_list()
                self.problems.add_all(
                    bad if rows is None else rows[bad],
                    name,
                    at(bad) + err[bad],
                    [str(r) for r in reasons],
                )
            return decoded.text.alias(name)
        nums = decode_number(raw, f)
        bad = np.flatnonzero(nums.invalid & present)
        if bad.size:
            self.problems.add_all(
                bad if rows is None else rows[bad],
                name,
                at(bad) + np.maximum(nums.bad_byte[bad], 0),
                [str(r) for r in nums.error_reason.gather(bad).to_list()],
            )
        return nums.values.alias(name)

    def child_column(self, f: SourceField, g: OccursGroup, counts: NDArray[np.int64]) -> pl.Series:
        """Field ``f`` of every present occurrence of ``g``, row after row."""
        parent = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
        first = np.cumsum(counts) - counts
        occurrence = np.arange(parent.size, dtype=np.int64) - np.repeat(first, counts)
        start = (f.offset or 0) + occurrence * g.length
        length = f.length or 0
        width = self.data.shape[1]
        index = np.minimum(start[:, None] + np.arange(length)[None, :], max(width - 1, 0))
        raw = self.data[parent[:, None], index] if parent.size else np.empty((0, length), np.uint8)
        present = np.ones(parent.size, dtype=np.bool_)
        values = self.decode_field(f, raw.astype(np.uint8), start, present, f.name, rows=parent)
        return values


# ---- the file as a whole ---------------------------------------------------------------------


def control_record_findings(plan: Plan, totals: Totals) -> pl.DataFrame:
    """Header missing, trailer missing, trailer count wrong: each an error naming the file."""
    source, rt = plan.source, plan.options.record_types
    if rt is None or totals.records_in == 0:
        return empty_findings()
    found = missing_control_findings(
        source.name,
        source.path,
        rt.codes("header"),
        rt.codes("trailer"),
        header_seen=bool(totals.headers),
        trailer_seen=bool(totals.trailers),
    )
    if rt.trailer_count is not None and totals.trailers:
        found.append(_trailer_count_finding(plan, totals))
    return concat_findings(found)


def _trailer_count_finding(plan: Plan, totals: Totals) -> pl.DataFrame:
    rt = plan.options.record_types
    assert rt is not None and rt.trailer_count is not None
    tc = rt.trailer_count
    record_no, raw = totals.trailers[-1]
    cells = np.frombuffer(raw, dtype=np.uint8).reshape(1, -1)
    counted = SourceField(
        "trailer_count",
        type={NumberType.PACKED: FieldType.PACKED, NumberType.BINARY: FieldType.BINARY}.get(
            tc.type, FieldType.ZONED
        ),
        length=tc.length,
        signed=True if tc.type is NumberType.BINARY else None,
    )
    if tc.type is NumberType.BINARY and tc.length not in _BINARY_DIGITS:
        return empty_findings()
    nums = decode_number(cells, counted)
    value = nums.values[0]
    claimed = None if nums.invalid[0] or value is None else int(value)
    hexed = raw.hex().upper()
    return trailer_count_finding(
        plan.source.name,
        record_no,
        claimed,
        hexed if claimed is None else str(claimed),
        totals.data_records,
        f"トレーラレコードの件数項目が数値ではありません（0x{hexed}）。",
    )
