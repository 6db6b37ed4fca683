"""Compile a Mapping against its Layout and SourceProfile into polars expressions.

What the spec file alone cannot tell (a field the source profile does not have, an item the
layout does not have, an unknown table) fails here, before any data is read; the error names the
spec's key path and line.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from etl.conditions import compile_condition
from etl.extract import SourceProfile
from etl.layout import Item, ItemType, Layout, RecordFile
from etl.mapping.items import compile_item, compile_top_item
from etl.mapping.model import LookupSpec, Mapping, RecordFileSpec
from etl.mapping.transforms import CompileContext, Compiled
from etl.text import EraTable


@dataclass(frozen=True, slots=True)
class CompiledFilter:
    condition: pl.Expr
    reason: str


@dataclass(frozen=True, slots=True)
class CompiledControl:
    """A control total: ``source`` read from the primary records, ``item`` from the output."""

    kind: str  # "sum" | "count_by" | "sum_by"
    item: Item
    source: pl.Expr
    by: Item | None = None  # sum_by: the code item the amount is summed per value of
    by_source: pl.Expr | None = None


@dataclass(frozen=True, slots=True)
class CompiledRecordFile:
    record_file: RecordFile
    source: str
    lookups: tuple[LookupSpec, ...]
    filters: tuple[CompiledFilter, ...]
    items: tuple[tuple[Item, Compiled], ...]  # in the layout's item order
    controls: tuple[CompiledControl, ...] = ()
    group_by: tuple[str, ...] = ()  # one output row per group of these fields' values

    @property
    def aggregates(self) -> tuple[tuple[str, pl.Expr], ...]:
        return tuple(ag for _, comp in self.items for ag in comp.aggregates)

    @property
    def per_record(self) -> bool:
        """True when each output row depends on its own input record only, so the record file can be
        mapped chunk by chunk (no lookup side to wait for, no group spanning chunks)."""
        return not self.lookups and not self.group_by


@dataclass(frozen=True, slots=True)
class CompiledMapping:
    mapping: Mapping
    layout: Layout
    record_files: tuple[CompiledRecordFile, ...]

    @property
    def sources(self) -> list[str]:
        """Every source file the mapping reads (primary and lookups), in first-use order."""
        names: list[str] = []
        for t in self.record_files:
            for n in (t.source, *(lk.source for lk in t.lookups)):
                if n not in names:
                    names.append(n)
        return names


def _fields(mapping: Mapping, spec: RecordFileSpec, profile: SourceProfile) -> frozenset[str]:
    def source_fields(name: str, at: tuple[str | int, ...]) -> list[str]:
        try:
            return list(profile.file(name).columns())  # OCCURS: a column per occurrence
        except KeyError as exc:
            raise mapping.error(at, str(exc.args[0])) from None

    fields = set(source_fields(spec.source, (*spec.at, "from")))
    for lk in spec.lookups:
        at = (*spec.at, "lookups", lk.name)
        lk_fields = source_fields(lk.source, (*at, "source"))
        for mine, theirs in lk.on:
            if mine not in fields or theirs not in lk_fields:
                raise mapping.error(
                    (*at, "join", mine), f"lookup join {mine} = {lk.source}.{theirs}: unknown field"
                )
        fields |= {f"{lk.name}.{f}" for f in lk_fields}
    return frozenset(fields)


def _record_file(
    mapping: Mapping, layout: Layout, profile: SourceProfile, spec: RecordFileSpec, eras: EraTable
) -> CompiledRecordFile:
    try:
        rf = layout.record_file(spec.record_file)
    except KeyError as exc:
        raise mapping.error(spec.at, str(exc.args[0])) from None
    missing = [n for n in rf.item_names if n not in spec.items]
    unknown = [n for n in spec.items if n not in rf.item_names]
    if missing or unknown:
        raise mapping.error(
            (*spec.at, "items"),
            f"items must match layout {layout.id}/{rf.id}: missing {missing}, unknown {unknown}",
        )
    fields = _fields(mapping, spec, profile)
    for i, name in enumerate(spec.group_by):
        if name not in fields:
            known = ", ".join(sorted(fields))
            raise mapping.error(
                (*spec.at, "group_by", i), f"unknown field {name!r}; known: {known}"
            )

    def context(item: Item) -> CompileContext:
        return CompileContext(
            mapping=mapping,
            item=item,
            # on a group_by file an item reads the group's keys; aggregates read the records
            fields=frozenset(spec.group_by) if spec.group_by else fields,
            tables=mapping.tables,
            eras=eras,
            compile_nested=lambda nested: compile_item(nested, context(item)),
            group_by=spec.group_by,
            row_fields=fields,
        )

    items = tuple(
        (item, compile_top_item(spec.items[item.name], context(item))) for item in rf.items
    )
    filters = tuple(
        CompiledFilter(compile_condition(f.when, fields, mapping.error), f.reason)
        for f in spec.filters
    )
    controls = []
    for c in (c for c in mapping.controls if c.record_file == spec.record_file):
        if spec.group_by:
            raise mapping.error(
                c.at, "controls compare record by record: not for a group_by record file"
            )
        if c.item not in rf.item_names:
            raise mapping.error((*c.at, c.kind), f"unknown item {c.item!r} in {rf.id}")
        item = rf.item(c.item)
        source = compile_top_item(c.source, context(item))
        if source.stages:
            raise mapping.error((*c.at, "source"), "a control's source cannot use date conversions")
        if c.by is None or c.by_source is None:
            controls.append(CompiledControl(c.kind, item, source.expr))
            continue
        if item.type not in (ItemType.INTEGER, ItemType.DECIMAL):
            raise mapping.error(
                (*c.at, c.kind),
                f"sum_by needs an integer or decimal item: {c.item!r} is {item.type}",
            )
        if c.by not in rf.item_names:
            raise mapping.error((*c.at, "by"), f"unknown item {c.by!r} in {rf.id}")
        by = rf.item(c.by)
        if by.type is not ItemType.CODE:
            # a code table bounds the rows a control writes; a number or a name would not
            # (one row per 宛名番号 is no control total)
            raise mapping.error(
                (*c.at, "by"), f"sum_by groups by a code item: {c.by!r} is {by.type}"
            )
        by_source = compile_top_item(c.by_source, context(by))
        if by_source.stages:
            raise mapping.error(
                (*c.at, "by_source"), "a control's source cannot use date conversions"
            )
        controls.append(CompiledControl(c.kind, item, source.expr, by, by_source.expr))
    return CompiledRecordFile(
        rf, spec.source, spec.lookups, filters, items, tuple(controls), spec.group_by
    )


def compile_mapping(
    mapping: Mapping, layout: Layout, profile: SourceProfile, eras: EraTable
) -> CompiledMapping:
    if mapping.layout != layout.id:
        raise mapping.error(
            ("layout",), f"spec is for layout {mapping.layout!r}, not {layout.id!r}"
        )
    record_files = tuple(
        _record_file(mapping, layout, profile, t, eras) for t in mapping.record_files
    )
    mapped = {t.record_file.id for t in record_files}
    orphans = [c for c in mapping.controls if c.record_file not in mapped]
    if orphans:
        raise mapping.error(
            (*orphans[0].at, "record_file"),
            f"control for unmapped record file {orphans[0].record_file!r}",
        )
    return CompiledMapping(mapping=mapping, layout=layout, record_files=record_files)
