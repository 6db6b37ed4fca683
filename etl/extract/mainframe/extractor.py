"""MainframeExtractor: EBCDIC kanji data sets (F/FB or V/VB with RDW) read by their copybook.

Per block of records (.framing): classify record types by their single-byte characters, set
header / trailer / the other layouts' records aside, check each data record's length against
its layout (an OCCURS DEPENDING ON table makes it vary: the counter says by how much), decode
every field vectorised over the block (the text fields of one mode in one call of the file's
charset, etl.extract.charsets; the numbers of one kind in one zoned/packed/binary call) and
reject — one row per record, never an exception —
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
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from etl import events
from etl.errors import ChukanError, ExtractError, ProfileError
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

    def __init__(self) -> None:
        # blocks framed by one layout of a data set, kept for the layouts after it (_framed):
        # state of the run this instance reads for (etl.pipeline.sources.RunExtractors)
        self._kept: dict[tuple[object, ...], list[_Kept]] = {}

    def release(self) -> None:
        """Drop the blocks kept for layouts that were not read (the run is over)."""
        self._kept.clear()

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
        return _SplitFile(plan, _framed(path, plan, profile, chunk_records, self._kept))

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
    def kind_of_byte(self) -> NDArray[np.int8]:
        """A one-byte record type's kind, by byte: every byte decoded once."""
        return _kinds(self, np.arange(256, dtype=np.uint8).reshape(256, 1))

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


# ---- one data set, several layouts: framed once -------------------------------------------
#
# Several sources may read one data set (a record layout each, told apart by the record type).
# The first to read it frames it; the blocks it read are kept for the layouts that follow it
# in the profile, less its own data records (records of another layout there: only their
# numbers and offsets are kept), so the file is read, its RDW chain walked and its records
# gathered once. Kept by the extractor instance (one per run) until taken, for the latest file
# only, and only when the whole file was read (a reader that stopped early leaves nothing
# behind); what no later layout took goes when the run releases the extractor.

_Others = tuple[NDArray[np.int64], NDArray[np.int64]]  # record numbers, byte offsets


@dataclass(frozen=True, slots=True)
class _Kept:
    block: RecordBlock
    ends_file: bool
    others: _Others


_NO_OTHERS: _Others = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))


def _kept_key(
    path: Path, source: SourceFile, profile: SourceProfile, chunk: int
) -> tuple[object, ...]:
    stat = path.stat()
    return (
        str(path.resolve()),
        stat.st_size,
        stat.st_mtime_ns,
        str(profile.folder),
        source.name,
        chunk,
    )


def _later_layouts(plan: Plan, profile: SourceProfile) -> list[Plan]:
    """The sources after this one that read the same data set framed and typed the same way,
    and for which this one's data records are records of another layout."""
    rt = plan.options.record_types
    if rt is None or plan.source not in profile.files:
        return []
    mine = set(rt.codes("data"))
    out: list[Plan] = []
    for other in profile.files[profile.files.index(plan.source) + 1 :]:
        if other.path != plan.source.path or profile.format_of(other) != profile.format_of(
            plan.source
        ):
            continue
        try:
            later = make_plan(plan.path, other, profile)
        except ChukanError:
            continue  # its own read reports it
        o = later.options
        ort = o.record_types
        if (
            ort is not None
            and (o.recfm, o.record_length, o.block_descriptors)
            == (plan.options.recfm, plan.options.record_length, plan.options.block_descriptors)
            and o.charset_key == plan.options.charset_key
            and (ort.offset, ort.length) == (rt.offset, rt.length)
            and mine <= set(ort.codes("other"))
        ):
            out.append(later)
    return out


def _framed(
    path: Path,
    plan: Plan,
    profile: SourceProfile,
    chunk_records: int,
    cache: dict[tuple[object, ...], list[_Kept]],
) -> Iterator[tuple[RecordBlock, bool, _Others]]:
    """The file's blocks (whether each ends the file, the records of another layout taken out
    of it): kept in ``cache`` by an earlier layout of the file, else read (and kept there for
    the later layouts)."""
    key = _kept_key(path, plan.source, profile, chunk_records)
    kept = cache.pop(key, None)
    if kept is not None:
        for one in kept:
            yield one.block, one.ends_file, one.others
        return
    cache.clear()  # one file at a time
    later = [
        (p, _kept_key(path, p.source, profile, chunk_records))
        for p in _later_layouts(plan, profile)
    ]
    keeping: dict[tuple[object, ...], list[_Kept]] = {key: [] for _, key in later}
    for block, ends_file in _with_file_end(read_blocks(plan.path, plan.options, chunk_records)):
        if later:
            mine = classify(block, plan, ends_file) == DATA
            rest = _without(block, mine)
            last_kept = ends_file and block.data.shape[0] > 0 and not mine[-1]
            others = (block.record_no[mine], block.byte_offset[mine])
            for _, key in later:
                keeping[key].append(_Kept(rest, last_kept, others))
        yield block, ends_file, _NO_OTHERS
    cache.update(keeping)


def _without(block: RecordBlock, drop: NDArray[np.bool_]) -> RecordBlock:
    """``block`` without the rows ``drop`` (they still count in records_in), its matrix only
    as wide as the longest record left."""
    keep = np.flatnonzero(~drop)
    lengths = block.lengths[keep]
    width = int(lengths.max()) if keep.size else 0
    return replace(
        block,
        data=np.ascontiguousarray(block.data[keep, :width]),
        lengths=lengths,
        record_no=block.record_no[keep],
        byte_offset=block.byte_offset[keep],
    )


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
    control_rows: NDArray[np.int64]  # rows of ``records`` whose text may hold a control


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
    others: _Others  # records of another layout taken out of the block (_framed)

    def decode(self) -> DecodedPiece:
        totals = Totals()
        part = _extract_block(self.block, self.plan, totals, self.ends_file, self.others)
        chunk = ExtractChunk(
            self.plan.source.name,
            part.records_in,
            part.records,
            part.rejects,
            part.filtered,
            part.findings,
            part.partial,
            part.control_rows,
        )
        return DecodedPiece(chunk, totals, self.block.last)


class _SplitFile:
    """A data set read piece by piece; the header/trailer facts are summed in file order."""

    def __init__(self, plan: Plan, framed: Iterator[tuple[RecordBlock, bool, _Others]]) -> None:
        self.plan, self._framed = plan, framed
        self.totals = Totals()

    def pieces(self) -> Iterator[_Piece]:
        for block, ends_file, others in self._framed:
            yield _Piece(block, self.plan, ends_file, others)

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
    if n and rt.length == 1 and block.data.shape[1] > rt.offset:
        kind = plan.kind_of_byte[block.data[:, rt.offset]]
    elif n:
        kind = _kinds(plan, block.data[:, rt.offset : end])
    kind[block.lengths < end] = SHORT
    kind[(kind == HEADER) & (block.record_no != 1)] = MISPLACED_HEADER
    not_last = np.ones(n, dtype=np.bool_)
    if ends_file and n:
        not_last[-1] = False
    kind[(kind == TRAILER) & not_last] = MISPLACED_TRAILER
    return kind


def _kinds(plan: Plan, types: NDArray[np.uint8]) -> NDArray[np.int8]:
    """The kind of each record type value (single-byte characters, decoded)."""
    text = plan.charset.decode(types, TextMode.SBCS).text
    codes = text.replace_strict(plan.kinds, default=UNKNOWN, return_dtype=pl.Int8)
    return codes.fill_null(UNKNOWN).to_numpy().astype(np.int8)


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

    rows: dict[int, list[tuple[str, int, str, int]]] = field(default_factory=dict)

    def add_all(
        self,
        rows: NDArray[np.int64],
        item: str,
        offsets: NDArray[np.int64],
        reasons: list[str],
        order: int = -1,
    ) -> None:
        """``order``: the cell's place, which orders problems at one offset (the record's
        length and count checks come first)."""
        for row, off, reason in zip(rows.tolist(), offsets.tolist(), reasons, strict=True):
            self.rows.setdefault(row, []).append((item, off, reason, order))


def _extract_block(
    block: RecordBlock, plan: Plan, totals: Totals, ends_file: bool, others: _Others
) -> _Part:
    """``others``: records of another layout taken out of ``block`` (counted in its
    records_in), filtered beside those still in it."""
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
    others_here = np.flatnonzero(kind == OTHER)
    other_no = np.concatenate([block.record_no[others_here], others[0]])
    count = int(other_no.size)
    other_frame = pl.DataFrame(
        {
            "source": pl.repeat(plan.source.name, count, dtype=pl.String, eager=True),
            "record_no": other_no,
            "byte_offset": np.concatenate([block.byte_offset[others_here], others[1]]),
            "reason": pl.repeat(
                "record of another layout of this file", count, dtype=pl.String, eager=True
            ),
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
    totals.data_records += int(data_idx.size) + count
    rows = _DataRows(block, data_idx, plan)
    columns, problems, counts = rows.decode()
    keep = np.ones(data_idx.size, dtype=np.bool_)
    for row in sorted(problems.rows):
        found = sorted(problems.rows[row], key=lambda p: (p[1], p[3]))
        base = int(rows.offsets[row]) + block.data_offset
        reason = "; ".join(
            f"{item}: {why} at byte offset {base + off}" for item, off, why, _ in found
        )
        item, off, _, _ = found[0]
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
        controls = rows.controls()
        if not keep.all():
            records = decoded.filter(pl.Series(keep))
            partial = decoded.filter(~pl.Series(keep))
            controls = (np.cumsum(keep) - 1)[controls[keep[controls]]]
        rejects, filtered = set_aside()
        records_in = block.records_in
        return _Part(records_in, records, rejects, filtered, partial, findings, controls)
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
    kept_rows = np.repeat(keep, counts)
    kept = pl.Series(kept_rows)
    columns = {
        RECORD_NO: pl.Series(RECORD_NO, rows.numbers[parent]),
        BYTE_OFFSET: pl.Series(BYTE_OFFSET, rows.offsets[parent]),
    } | {
        name: values.filter(kept) if name in rows.child_columns else values.gather(parent)
        for name, values in columns.items()
    }
    records = records_frame(plan.schema, columns)
    # a child record may hold a control character in its own fields or in its parent's
    flagged = rows.child_controls(counts)
    flagged[np.repeat(rows.controls_mask(), counts)] = True
    controls = np.flatnonzero(flagged[kept_rows]).astype(np.int64)
    rejects, filtered = set_aside()
    records_in = records.height + rejects.height + filtered.height
    return _Part(records_in, records, rejects, filtered, None, findings, controls)


@dataclass(frozen=True, slots=True)
class _Cell:
    """One value column of a record: a field, or one occurrence of a field of a table."""

    field: SourceField
    name: str
    start: int  # byte in the record's data (in an occurrence's, for a table's rows)
    present: NDArray[np.bool_] | None  # rows that hold it (None: all)
    order: int  # its place among the record's cells: problems at one offset follow it

    @property
    def length(self) -> int:
        return self.field.length or 0

    @property
    def end(self) -> int:
        return self.start + self.length


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
        # rows whose text holds a control character: data rows, and rows of the children table
        self._controls: list[NDArray[np.int64]] = []
        self._child_controls: list[NDArray[np.int64]] = []

    def controls(self) -> NDArray[np.int64]:
        """The data rows whose text fields hold a control character (ascending)."""
        if not self._controls:
            return np.empty(0, dtype=np.int64)
        return np.unique(np.concatenate(self._controls))

    def controls_mask(self) -> NDArray[np.bool_]:
        mask = np.zeros(self.data.shape[0], dtype=np.bool_)
        mask[self.controls()] = True
        return mask

    def child_controls(self, counts: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Per row of the children table (every occurrence of every data row): whether its
        own text fields hold a control character."""
        mask = np.zeros(int(counts.sum()), dtype=np.bool_)
        for rows in self._child_controls:
            mask[rows] = True
        return mask

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
        cells: list[_Cell] = []  # every value column of a record, in the fields' order
        child_cells: list[_Cell] = []  # the children table's fields (a row per occurrence)
        for f in plan.source.fields:
            g = plan.options.group(f.group) if f.group is not None else None
            if g is None:
                cells.append(_Cell(f, f.name, f.offset or 0, None, len(cells) + len(child_cells)))
                continue
            if children is not None and g.name == children.name:
                order = len(cells) + len(child_cells)
                child_cells.append(_Cell(f, f.name, (f.offset or 0) - g.offset, None, order))
                continue
            present_counts = counts if g.depending_on is not None else np.full(n, g.times)
            for i, name in enumerate(occurrence_names(f.name, g.times)):
                present = present_counts > i
                start = (f.offset or 0) + i * g.length
                order = len(cells) + len(child_cells)
                cells.append(_Cell(f, name, start, None if present.all() else present, order))
        columns |= self.decode_cells(self.padded(max((c.end for c in cells), default=0)), cells)
        if children is not None:
            columns |= self.child_columns_of(children, child_cells, counts)
        return {name: columns[name] for name in plan.schema}, self.problems, counts

    def padded(self, width: int) -> NDArray[np.uint8]:
        """The data matrix, PAD-extended to at least ``width`` bytes."""
        if width <= self.data.shape[1]:
            return self.data
        out = np.full((self.data.shape[0], width), 0x40, dtype=np.uint8)
        out[:, : self.data.shape[1]] = self.data
        return out

    def decode_cells(
        self,
        data: NDArray[np.uint8],
        cells: list[_Cell],
        at: NDArray[np.int64] | None = None,
        rows: NDArray[np.int64] | None = None,
    ) -> dict[str, pl.Series]:
        """The cells of ``data`` (one value per row), the text ones of each mode in one call,
        the numbers of each kind in one;
        problems at ``at`` (per row: where its cells' offsets count from, default 0) are
        reported for ``rows`` (the data record of each row; default: the row itself)."""
        columns: dict[str, pl.Series] = {}
        by_mode: dict[TextMode, list[_Cell]] = {}
        by_kind: dict[tuple[FieldType, int, int, bool | None], list[_Cell]] = {}
        for c in cells:
            f = c.field
            if f.type is FieldType.TEXT:
                by_mode.setdefault(f.mode or TextMode.MIXED, []).append(c)
            else:
                by_kind.setdefault((f.type, c.length, f.scale, f.signed), []).append(c)
        for group in by_kind.values():
            columns |= self.number_columns(data, group, at, rows)
        for mode, group in by_mode.items():
            decoded = self.plan.charset.decode_fields(
                data,
                [(c.start, c.length) for c in group],
                mode,
                present=[c.present for c in group],
            )
            for c, d in zip(group, decoded, strict=True):
                e = d.errors
                if e.rows.size:
                    base = c.start if at is None else at[e.rows] + c.start
                    self.problems.add_all(
                        e.rows if rows is None else rows[e.rows],
                        c.name,
                        base + e.offsets,
                        e.reasons,
                        c.order,
                    )
                columns[c.name] = d.text.alias(c.name)
                if d.controls.size:
                    (self._controls if rows is None else self._child_controls).append(d.controls)
        return columns

    def number_columns(
        self,
        data: NDArray[np.uint8],
        group: list[_Cell],
        at: NDArray[np.int64] | None,
        rows: NDArray[np.int64] | None,
    ) -> dict[str, pl.Series]:
        """Number cells of one kind (type, length, scale, sign), decoded in one call on their
        present values stacked (each value decodes alone, so stacking changes nothing); null
        and not decoded where a cell is not present (an occurrence beyond the count)."""
        m = data.shape[0]
        kept = [None if c.present is None else np.flatnonzero(c.present) for c in group]
        stack = [
            data[:, c.start : c.end] if k is None else data[k, c.start : c.end]
            for c, k in zip(group, kept, strict=True)
        ]
        nums = decode_number(np.concatenate(stack), group[0].field)
        out: dict[str, pl.Series] = {}
        first = 0
        for c, k, part in zip(group, kept, stack, strict=True):
            size = part.shape[0]
            values = nums.values.slice(first, size).alias(c.name)
            bad = np.flatnonzero(nums.invalid[first : first + size])
            if bad.size:
                at_row = bad if k is None else k[bad]  # the row of each bad value
                base = c.start if at is None else at[at_row] + c.start
                self.problems.add_all(
                    at_row if rows is None else rows[at_row],
                    c.name,
                    base + np.maximum(nums.bad_byte[first + bad], 0),
                    nums.reasons_at(first + bad),
                    c.order,
                )
            if k is not None:
                full = pl.Series(c.name, [None], dtype=values.dtype).extend_constant(None, m - 1)
                values = full.scatter(k, values) if k.size else full
            out[c.name] = values
            first += size
        return out

    def child_columns_of(
        self, g: OccursGroup, cells: list[_Cell], counts: NDArray[np.int64]
    ) -> dict[str, pl.Series]:
        """The fields of table ``g``, one row per present occurrence, row after row: the
        occurrences are gathered into one matrix (row: occurrence), then decoded as cells."""
        parent = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
        first = np.cumsum(counts) - counts
        occurrence = np.arange(parent.size, dtype=np.int64) - np.repeat(first, counts)
        at = g.offset + occurrence * g.length  # where each occurrence starts in its record
        width = self.data.shape[1]
        if not parent.size:
            table = np.empty((0, g.length), np.uint8)
        elif int(at.max()) + g.length <= width:  # every occurrence inside the matrix: row copies
            rows = np.ascontiguousarray(self.data).reshape(-1)
            table = sliding_window_view(rows, g.length)[parent * width + at]
        else:  # bytes beyond the matrix read as its last column
            index = np.minimum(at[:, None] + np.arange(g.length)[None, :], max(width - 1, 0))
            table = self.data[parent[:, None], index]
        self.child_columns.update(c.name for c in cells)
        return self.decode_cells(np.ascontiguousarray(table), cells, at, parent)

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
            nums.reasons_at(np.array([r]))[0] if counts[r] < 0 and nums.invalid[r]
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
