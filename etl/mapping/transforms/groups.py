"""Aggregate words of a group_by record file: count, sum, first, last.

Each is a polars aggregation over the records of one group (``group_by`` fields equal),
computed into its own column; the item's steps then run on that column, one row per group.
"""

from __future__ import annotations

import polars as pl

from etl.extract import RECORD_NO
from etl.mapping.model import ItemSpec
from etl.mapping.transforms.base import CompileContext, Compiled, ValueCheck
from etl.text import strip_spaces


def _column(ctx: CompileContext, spec: ItemSpec) -> str:
    return f"_agg:{ctx.stage_name(spec.at)}"


def count(spec: ItemSpec, ctx: CompileContext) -> Compiled:
    """The number of records in the group, as digits."""
    name = _column(ctx, spec)
    return Compiled(pl.col(name), aggregates=((name, pl.len().cast(pl.String)),))


def sum_(spec: ItemSpec, ctx: CompileContext) -> Compiled:
    """The sum of an integer field over the group; a non-integer value is a finding."""
    assert isinstance(spec.args, str)
    name = _column(ctx, spec)
    text = strip_spaces(ctx.row_column(spec.args, (*spec.at, "sum")).cast(pl.String))
    number = text.str.to_integer(strict=False)
    bad = (text.is_not_null() & (text != "") & number.is_null()).sum()
    total, not_numbers = pl.col(name), pl.col(f"{name}:bad")
    check = ValueCheck(
        rule="mapping.not_a_number",
        problem=not_numbers > 0,
        value=not_numbers.cast(pl.String),
        message=pl.format(
            f"{ctx.item.name}の集計元「{spec.args}」に整数でない値が{{}}件あります（合計から除外）",
            not_numbers,
        ),
    )
    return Compiled(
        total,
        (check,),
        aggregates=((name, number.sum().cast(pl.String)), (f"{name}:bad", bad)),
    )


def _ordered(spec: ItemSpec, ctx: CompileContext, word: str) -> pl.Expr:
    assert isinstance(spec.args, str)
    value = ctx.row_column(spec.args, (*spec.at, word)).cast(pl.String)
    keys = [ctx.row_column(f, (*spec.at, "order_by", i)) for i, f in enumerate(spec.order_by)]
    # The record number breaks ties, so the chosen record never depends on the engine.
    return value.sort_by([*keys, pl.col(RECORD_NO)], nulls_last=True)


def first(spec: ItemSpec, ctx: CompileContext) -> Compiled:
    """The field of the group's first record by ``order_by`` (default: record order)."""
    name = _column(ctx, spec)
    return Compiled(pl.col(name), aggregates=((name, _ordered(spec, ctx, "first").first()),))


def last(spec: ItemSpec, ctx: CompileContext) -> Compiled:
    """The field of the group's last record by ``order_by`` (default: record order)."""
    name = _column(ctx, spec)
    return Compiled(pl.col(name), aggregates=((name, _ordered(spec, ctx, "last").last()),))
