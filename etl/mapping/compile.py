"""Compile a Mapping against its Layout and SourceProfile into polars expressions.

Everything that can be wrong with a spec (unknown field, item missing, bad step arguments) fails
here, before any data is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import polars as pl

from etl.errors import MappingError
from etl.extract.profile import SourceProfile
from etl.layout.model import Item, Layout, RecordFile
from etl.mapping.conditions import compile_condition
from etl.mapping.items import compile_item, compile_top_item
from etl.mapping.model import ItemSpec, LookupSpec, Mapping, TargetSpec
from etl.mapping.transforms import CompileContext, Compiled
from etl.text.wareki import EraTable


@dataclass(frozen=True, slots=True)
class CompiledFilter:
    condition: pl.Expr
    reason: str


@dataclass(frozen=True, slots=True)
class CompiledControl:
    """A control total: ``source`` read from the primary records, ``item`` from the output."""

    kind: str  # "sum" | "count_by"
    item: Item
    source: pl.Expr


@dataclass(frozen=True, slots=True)
class CompiledTarget:
    record_file: RecordFile
    source: str
    lookups: tuple[LookupSpec, ...]
    filters: tuple[CompiledFilter, ...]
    items: tuple[tuple[Item, Compiled], ...]  # in the layout's item order
    controls: tuple[CompiledControl, ...] = ()


@dataclass(frozen=True, slots=True)
class CompiledMapping:
    mapping: Mapping
    layout: Layout
    targets: tuple[CompiledTarget, ...]

    @property
    def sources(self) -> list[str]:
        """Every source file the mapping reads (primary and lookups), in first-use order."""
        names: list[str] = []
        for t in self.targets:
            for n in (t.source, *(lk.source for lk in t.lookups)):
                if n not in names:
                    names.append(n)
        return names


def _fields(spec: TargetSpec, profile: SourceProfile, path: str) -> frozenset[str]:
    def source_fields(name: str, where: str) -> list[str]:
        try:
            return [f.name for f in profile.file(name).fields]
        except KeyError as exc:
            raise MappingError(path, str(exc.args[0]), where=where) from exc

    where = f"record_files.{spec.record_file}"
    fields = set(source_fields(spec.source, f"{where}.from"))
    for lk in spec.lookups:
        lk_fields = source_fields(lk.source, f"{where}.lookups.{lk.name}")
        for mine, theirs in lk.on:
            if mine not in fields or theirs not in lk_fields:
                raise MappingError(
                    path, f"lookup join {mine} = {lk.source}.{theirs}: unknown field", where=where
                )
        fields |= {f"{lk.name}.{f}" for f in lk_fields}
    return frozenset(fields)


def _target(
    mapping: Mapping, layout: Layout, profile: SourceProfile, spec: TargetSpec, eras: EraTable
) -> CompiledTarget:
    where = f"record_files.{spec.record_file}"
    try:
        rf = layout.record_file(spec.record_file)
    except KeyError as exc:
        raise MappingError(mapping.path, str(exc.args[0]), where=where) from exc
    missing = [n for n in rf.item_names if n not in spec.items]
    unknown = [n for n in spec.items if n not in rf.item_names]
    if missing or unknown:
        raise MappingError(
            mapping.path,
            f"items must match layout {layout.id}/{rf.id}: missing {missing}, unknown {unknown}",
            where=where,
        )
    fields = _fields(spec, profile, str(mapping.path))

    def compile_for(item: Item, item_spec: ItemSpec) -> Compiled:
        ctx = CompileContext(
            path=mapping.path,
            item=item,
            fields=fields,
            tables=mapping.tables,
            eras=eras,
            compile_nested=partial(_unbound, mapping),
        )
        return compile_top_item(item_spec, ctx)

    items = tuple((item, compile_for(item, spec.items[item.name])) for item in rf.items)
    filters = tuple(
        CompiledFilter(compile_condition(f.when, fields, mapping.path, f.where), f.reason)
        for f in spec.filters
    )
    controls = []
    for c in (c for c in mapping.controls if c.record_file == spec.record_file):
        if c.item not in rf.item_names:
            raise MappingError(mapping.path, f"unknown item {c.item!r} in {rf.id}", where=c.where)
        item = rf.item(c.item)
        source = compile_for(item, c.source)
        if source.stages:
            raise MappingError(
                mapping.path, "a control's source cannot use date conversions", where=c.where
            )
        controls.append(CompiledControl(c.kind, item, source.expr))
    return CompiledTarget(rf, spec.source, spec.lookups, filters, items, tuple(controls))


def _unbound(mapping: Mapping, raw: object, where: str) -> Compiled:
    # compile_top_item replaces this with a context-aware compiler; reaching it is a bug.
    raise MappingError(mapping.path, "nested item compiled without context", where=where)


def compile_mapping(
    mapping: Mapping, layout: Layout, profile: SourceProfile, eras: EraTable
) -> CompiledMapping:
    if mapping.layout != layout.id:
        raise MappingError(
            mapping.path, f"spec is for layout {mapping.layout!r}, not {layout.id!r}"
        )
    targets = tuple(_target(mapping, layout, profile, t, eras) for t in mapping.targets)
    mapped = {t.record_file.id for t in targets}
    orphans = [c for c in mapping.controls if c.record_file not in mapped]
    if orphans:
        raise MappingError(
            mapping.path,
            f"control for unmapped record file {orphans[0].record_file!r}",
            where=orphans[0].where,
        )
    return CompiledMapping(mapping=mapping, layout=layout, targets=targets)


__all__ = [
    "CompiledControl",
    "CompiledFilter",
    "CompiledMapping",
    "CompiledTarget",
    "compile_item",
    "compile_mapping",
]
