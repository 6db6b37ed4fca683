"""Map a compiled record file over extracted source frames: join, filter, group, select, check.

Output frame: ``_record_no``, ``_source`` and one String column per item, in layout order.
Every primary record is in the output (or, on a group_by record file, in a written group), in
``filtered`` with the filter's reason, or in ``rejected`` with the reason of an item whose
``on_invalid: reject`` it failed: ``source_records = written (records) + filtered + rejected``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import polars as pl

from etl.extract import BYTE_OFFSET, FILTER_SCHEMA, RECORD_NO
from etl.findings import (
    KEY_SEPARATOR,
    UNMAPPED_GAIJI_RULE,
    Severity,
    concat_findings,
    finding_exprs,
    mask_expr,
    record_key_expr,
    shown_expr,
)
from etl.hash_counts import repeated
from etl.layout import ItemType, RecordFile
from etl.mapping.compile import CompiledRecordFile
from etl.mapping.model import LookupSpec
from etl.text import any_private_use, has_pua, pua_chars, pua_code

SOURCE_COL = "_source"
ITEM_PREFIX = "_item:"
REASON_COL = "_filter_reason"
REJECT_COL = "_reject_reason"
# columns of a grouped frame: its records' numbers and byte offsets, and how many there are
MEMBERS, MEMBER_OFFSETS, GROUP_SIZE = "_members", "_member_offsets", "_group_size"


def _no_records() -> pl.DataFrame:
    return pl.DataFrame(schema=FILTER_SCHEMA)


@dataclass(frozen=True, slots=True)
class MappedRecordFile:
    record_file: RecordFile
    source: str
    source_records: int  # data records of the primary source offered to this record file
    # the written rows: _record_no, _source and every item; once written (etl.pipeline), only
    # _record_no and the columns the whole-file checks read
    frame: pl.DataFrame
    filtered: pl.DataFrame  # FILTER_SCHEMA
    findings: pl.DataFrame  # FINDING_SCHEMA
    # control totals read from every primary record (before filters): _record_no, _ctl<i>
    # (and _ctl<i>_by, the code of a sum_by control)
    control_values: pl.DataFrame
    controls: tuple[tuple[str, str, str | None], ...]  # (kind, 項目名, sum_by's code 項目名)
    # records refused by an item's `on_invalid: reject` (FILTER_SCHEMA, reason per item)
    rejected: pl.DataFrame = field(default_factory=_no_records)
    # group_by record files: the input records folded into the written rows (None otherwise)
    aggregated: int | None = None

    @property
    def written_records(self) -> int:
        """Input records that the written rows stand for."""
        return self.frame.height if self.aggregated is None else self.aggregated

    @property
    def balanced(self) -> bool:
        """Every offered record is written, filtered or rejected, exactly once."""
        accounted = self.written_records + self.filtered.height + self.rejected.height
        return self.source_records == accounted


# the index's column of its key hashes (a source field is renamed ``<lookup>.<field>``: no clash)
KEY_HASH = "_key_hash"


def _key_hash(keys: Sequence[str]) -> pl.Expr:
    """One 64-bit hash of a record's lookup key, the same on either side of the join (the
    fields positionally named, so the two sides' names do not enter it)."""
    if len(keys) == 1:
        return pl.col(keys[0]).hash(seed=0)
    return pl.struct([pl.col(k).alias(str(i)) for i, k in enumerate(keys)]).hash(seed=0)


@dataclass(frozen=True, slots=True)
class LookupIndex:
    """A lookup's side, ready to join: one record per key (the first of a duplicated one), its
    fields renamed ``<lookup>.<field>`` and its keys' hashes (``KEY_HASH``, made once); built
    once per record file, joined to every chunk."""

    spec: LookupSpec
    frame: pl.DataFrame
    findings: pl.DataFrame  # mapping.lookup_duplicate, one per duplicated side record


def lookup_fields(compiled: CompiledRecordFile, lk: LookupSpec) -> list[str]:
    """The side's fields a record file reads through ``lk``: its join keys and every
    ``<lookup>.<field>`` an item, check, filter or control names (what its index keeps)."""
    exprs: list[pl.Expr] = [f.condition for f in compiled.filters]
    exprs += [c.source for c in compiled.controls]
    exprs += [c.by_source for c in compiled.controls if c.by_source is not None]
    for _, comp in compiled.items:
        exprs += [comp.expr, *(e for _, e in comp.stages), *(e for _, e in comp.aggregates)]
        exprs += [e for chk in comp.checks for e in (chk.problem, chk.value, chk.message)]
    prefix = f"{lk.name}."
    named = {n[len(prefix) :] for e in exprs for n in e.meta.root_names() if n.startswith(prefix)}
    return list(dict.fromkeys([*(t for _, t in lk.on), *sorted(named)]))


def _duplicated_keys(side: pl.DataFrame, keys: list[str]) -> pl.Series:
    """Where the side's key occurs more than once (``struct(keys).is_duplicated()``), tested
    only on the records whose key hash repeats (etl.hash_counts: a tenth of hashing every key
    for is_duplicated, measured on 1M 宛名番号): equal keys hash equal, so those hold every
    duplicate."""
    hashes = side.select(_key_hash(keys)).to_series()
    suspect = hashes.is_in(repeated(hashes).implode())
    if not suspect.any():
        return suspect
    positions = suspect.arg_true()
    exact = side[positions].select(pl.struct(keys).is_duplicated()).to_series()
    return suspect.scatter(positions, exact)


def lookup_index(lk: LookupSpec, side: pl.DataFrame, gyomu: str) -> LookupIndex:
    """Index a lookup's side; a duplicated lookup key is a finding and its first record is used."""
    theirs = [t for _, t in lk.on]
    duplicated = _duplicated_keys(side, theirs)
    dup = side.filter(duplicated)
    findings = dup.select(
        finding_exprs(
            rule="mapping.lookup_duplicate",
            severity=Severity.ERROR,
            gyomu=gyomu,
            file=lk.source,
            record_no=pl.col(RECORD_NO),
            key=pl.concat_str([pl.col(t).cast(pl.String) for t in theirs], separator=KEY_SEPARATOR),
            item=KEY_SEPARATOR.join(theirs),
            value=pl.lit(None),
            message=f"参照先「{lk.source}」でキーが重複しています（先頭のレコードを使用）",
        )
    )
    if dup.height:
        side = side.unique(subset=theirs, keep="first", maintain_order=True)
    fields = [c for c in side.columns if c not in (RECORD_NO, BYTE_OFFSET)]
    renamed = side.select(
        *[pl.col(c).alias(f"{lk.name}.{c}") for c in fields], _key_hash(theirs).alias(KEY_HASH)
    )
    return LookupIndex(lk, renamed, findings)


def _join_lookup(primary: pl.DataFrame, index: LookupIndex) -> pl.DataFrame:
    lk = index.spec
    left_on = [m for m, _ in lk.on]
    right_on = [f"{lk.name}.{t}" for _, t in lk.on]
    # Only the index records whose key hash occurs in this chunk: a join hashes its right side,
    # and the index is the whole looked-up file (≈80 bytes a record hashed, per chunk: the
    # largest transient of a long run); its keys' hashes, made once, probed against the chunk's
    # cost a third of testing its keys themselves. Equal keys hash equal, so no match is lost;
    # the join compares the keys (a colliding hash only lets an extra record through).
    hashes = primary.select(_key_hash(left_on)).to_series()
    wanted = index.frame.filter(pl.col(KEY_HASH).is_in(hashes.implode())).drop(KEY_HASH)
    return primary.join(
        wanted,
        left_on=left_on,
        right_on=right_on,
        how="left",
        coalesce=False,
        maintain_order="left",
    )


def _byte_offset(frame: pl.DataFrame) -> pl.Expr:
    """The records' byte offsets; null for a format located otherwise (lines, cells), one per
    record (so a group's list of them has its members' length)."""
    if BYTE_OFFSET in frame.columns:
        return pl.col(BYTE_OFFSET)
    return pl.when(pl.lit(False)).then(pl.col(RECORD_NO)).cast(pl.Int64)


def _filter(frame: pl.DataFrame, compiled: CompiledRecordFile) -> tuple[pl.DataFrame, pl.DataFrame]:
    if not compiled.filters:
        return frame, pl.DataFrame(schema=FILTER_SCHEMA)
    reason = pl.lit(None, dtype=pl.String)
    for f in reversed(compiled.filters):  # the first matching filter names the reason
        reason = pl.when(f.condition).then(pl.lit(f.reason)).otherwise(reason)
    tagged = frame.with_columns(reason.alias(REASON_COL))
    dropped = tagged.filter(pl.col(REASON_COL).is_not_null()).select(
        source=pl.lit(compiled.source),
        record_no=pl.col(RECORD_NO),
        byte_offset=_byte_offset(frame),
        reason=pl.col(REASON_COL),
    )
    kept = tagged.filter(pl.col(REASON_COL).is_null()).drop(REASON_COL)
    return kept, dropped


def _gaiji_findings(
    out: pl.DataFrame, compiled: CompiledRecordFile, gyomu: str, key: pl.Expr
) -> list[pl.DataFrame]:
    """Unmapped 外字 (left as private-use characters): one finding per value, naming the codes."""
    rf = compiled.record_file
    frames = []
    for item in rf.items:
        if item.type is not ItemType.TEXT:
            continue
        if not any_private_use(out[item.name]):
            continue  # the usual case: one pass over the column's bytes, no filter
        hits = out.filter(has_pua(pl.col(item.name)))
        # Per-row Python only on the few rows that carry unmapped gaiji (codec lookup per char).
        codes = hits.select(
            pua_chars(pl.col(item.name))
            .list.eval(pl.element().map_elements(pua_code, return_dtype=pl.String))
            .list.join(",")
        ).to_series()
        frames.append(
            hits.with_columns(codes.alias("_codes")).select(
                finding_exprs(
                    rule=UNMAPPED_GAIJI_RULE,
                    severity=Severity.ERROR,
                    gyomu=gyomu,
                    file=rf.id,
                    record_no=pl.col(RECORD_NO),
                    key=key,
                    item=item.name,
                    value=shown_expr(item),
                    message=pl.format(
                        f"{item.name}に外字表にない外字（コード {{}}）があります。"
                        "元のコードのまま保持しています",
                        pl.col("_codes"),
                    ),
                )
            )
        )
    return frames


def _group(kept: pl.DataFrame, compiled: CompiledRecordFile) -> pl.DataFrame:
    """One row per distinct group_by value, in order of first appearance (deterministic)."""
    return kept.group_by(list(compiled.group_by), maintain_order=True).agg(
        *[expr.alias(name) for name, expr in compiled.aggregates],
        pl.col(RECORD_NO).first(),
        pl.col(RECORD_NO).alias(MEMBERS),
        _byte_offset(kept).alias(MEMBER_OFFSETS),
        pl.len().alias(GROUP_SIZE),
    )


def _reject(
    wide: pl.DataFrame, compiled: CompiledRecordFile, reasons: list[tuple[str, str]]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split off the rows a rejecting check flagged ((problem column, reason), first wins)."""
    if not reasons:
        return wide, _no_records()
    reason = pl.lit(None, dtype=pl.String)
    for column, why in reversed(reasons):
        reason = pl.when(pl.col(column)).then(pl.lit(why)).otherwise(reason)
    tagged = wide.with_columns(reason.alias(REJECT_COL))
    bad = tagged.filter(pl.col(REJECT_COL).is_not_null())
    if compiled.group_by:  # a rejected group rejects each of its records
        bad = bad.select(
            pl.col(MEMBERS).alias(RECORD_NO), pl.col(MEMBER_OFFSETS).alias(BYTE_OFFSET), REJECT_COL
        ).explode(RECORD_NO, BYTE_OFFSET)
    rejected = bad.select(
        source=pl.lit(compiled.source),
        record_no=pl.col(RECORD_NO),
        byte_offset=_byte_offset(bad),
        reason=pl.col(REJECT_COL),
    )
    return tagged.filter(pl.col(REJECT_COL).is_null()).drop(REJECT_COL), rejected


def map_record_file(
    compiled: CompiledRecordFile, frames: dict[str, pl.DataFrame], gyomu: str
) -> MappedRecordFile:
    """A record file mapped from whole frames: its lookups indexed, its records as one chunk."""
    indexes = [lookup_index(lk, frames[lk.source], gyomu) for lk in compiled.lookups]
    mapped = map_chunk(compiled, frames[compiled.source], indexes, gyomu)
    findings = concat_findings([*(ix.findings for ix in indexes), mapped.findings])
    return replace(mapped, findings=findings)


def map_chunk(
    compiled: CompiledRecordFile,
    records: pl.DataFrame,
    lookups: Sequence[LookupIndex],
    gyomu: str,
) -> MappedRecordFile:
    """Map a chunk of the primary source (all of it for a group_by record file); ``lookups``
    are the record file's indexes, in the order of its lookups (their findings are not
    repeated here)."""
    primary = records
    finding_frames: list[pl.DataFrame] = []
    for index in lookups:
        primary = _join_lookup(primary, index)
    control_values = primary.select(
        pl.col(RECORD_NO),
        *[c.source.alias(f"_ctl{i}") for i, c in enumerate(compiled.controls)],
        *[
            c.by_source.alias(f"_ctl{i}_by")
            for i, c in enumerate(compiled.controls)
            if c.by_source is not None
        ],
    )
    kept, filtered = _filter(primary, compiled)
    if compiled.group_by:
        kept = _group(kept, compiled)

    rf = compiled.record_file
    for _, comp in compiled.items:
        for name, expr in comp.stages:  # in order: a stage may read an earlier one
            kept = kept.with_columns(expr.alias(name))
    checks = [(item, chk) for item, comp in compiled.items for chk in comp.checks]
    # Items go into prefixed columns beside the source fields, so a check's value and message
    # can be computed on the few failing rows only, from the source fields they name.
    wide = kept.with_columns(
        *[comp.expr.alias(ITEM_PREFIX + item.name) for item, comp in compiled.items],
        *[chk.problem.fill_null(False).alias(f"_p{i}") for i, (_, chk) in enumerate(checks)],
    )
    key = record_key_expr(rf, ITEM_PREFIX)
    fired = wide.select(pl.col(f"_p{i}").any() for i in range(len(checks))).row(0) if checks else ()
    for i, (item, chk) in enumerate(checks):
        if not fired[i]:
            continue
        value = chk.value.cast(pl.String)
        # lazily, so only the columns the finding reads are filtered, not the whole wide frame
        finding_frames.append(
            wide.lazy()
            .filter(pl.col(f"_p{i}"))
            .select(
                finding_exprs(
                    rule=chk.rule,
                    severity=Severity.ERROR,
                    gyomu=gyomu,
                    file=rf.id,
                    record_no=pl.col(RECORD_NO),
                    key=key,
                    item=item.name,
                    value=mask_expr(value) if item.sensitive else value,
                    message=chk.message,
                )
            )
            .collect()
        )
    reasons = [(f"_p{i}", chk.reject) for i, (_, chk) in enumerate(checks) if chk.reject]
    # What is read from here on: the record no. and offset, the items, the rejecting problems
    # and a group's members (the source fields and stages need not be filtered again).
    needed = [RECORD_NO, BYTE_OFFSET, MEMBERS, MEMBER_OFFSETS, GROUP_SIZE]
    needed += [ITEM_PREFIX + n for n in rf.item_names] + [column for column, _ in reasons]
    wide = wide.select(c for c in dict.fromkeys(needed) if c in wide.columns)
    wide, rejected = _reject(wide, compiled, reasons)
    if rejected.height:  # rejected records reach neither side of a control total
        control_values = control_values.filter(
            ~pl.col(RECORD_NO).is_in(rejected["record_no"].implode())
        )
    out = wide.select(
        pl.col(RECORD_NO),
        pl.lit(compiled.source).alias(SOURCE_COL),
        *[pl.col(ITEM_PREFIX + n).alias(n) for n in rf.item_names],
    )
    key = record_key_expr(rf)
    finding_frames += _gaiji_findings(out, compiled, gyomu, key)
    findings = concat_findings(finding_frames)
    controls = tuple(
        (c.kind, c.item.name, None if c.by is None else c.by.name) for c in compiled.controls
    )
    aggregated = int(wide[GROUP_SIZE].sum()) if compiled.group_by else None
    return MappedRecordFile(
        rf,
        compiled.source,
        primary.height,
        out,
        filtered,
        findings,
        control_values,
        controls,
        rejected,
        aggregated,
    )


def record_keys(
    compiled: CompiledRecordFile, lookups: Sequence[LookupIndex], records: pl.DataFrame
) -> pl.DataFrame:
    """The output key each of ``records`` (primary-source rows) would get: record_no, key.

    Used for rejected records, decoded as far as they go, so their findings name a key.
    """
    rf = compiled.record_file
    frame = records
    for index in lookups:
        frame = _join_lookup(frame, index)
    for item, comp in compiled.items:
        if item.name in rf.key:
            if comp.aggregates:  # a key made from a whole group: no single record has it
                frame = frame.with_columns(pl.lit(None, pl.String).alias(ITEM_PREFIX + item.name))
                continue
            for name, expr in comp.stages:
                frame = frame.with_columns(expr.alias(name))
            frame = frame.with_columns(comp.expr.alias(ITEM_PREFIX + item.name))
    return frame.select(
        pl.col(RECORD_NO).alias("record_no"), record_key_expr(rf, ITEM_PREFIX).alias("key")
    )


def merge_mapped(parts: list[MappedRecordFile]) -> MappedRecordFile:
    """One MappedRecordFile from the same record file mapped chunk by chunk (every step is per row:
    only record files that are ``per_record``, never a group_by one)."""
    first = parts[0]
    if len(parts) == 1:
        return first
    assert all(p.aggregated is None for p in parts), "a grouped record file is mapped in one piece"
    return MappedRecordFile(
        first.record_file,
        first.source,
        sum(p.source_records for p in parts),
        pl.concat([p.frame for p in parts]),
        pl.concat([p.filtered for p in parts]),
        concat_findings([p.findings for p in parts]),
        pl.concat([p.control_values for p in parts]),
        first.controls,
        pl.concat([p.rejected for p in parts]),
    )
