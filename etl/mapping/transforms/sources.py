"""Source words: where an item's value starts (take, const, concat)."""

from __future__ import annotations

import re
from functools import partial

import polars as pl

from etl.config import KeyPath
from etl.layout import ItemType
from etl.mapping.model import ItemSpec
from etl.mapping.transforms.base import CompileContext, Compiled
from etl.text import per_distinct, strip_spaces

_DECIMAL_PRECISION = 38  # polars' Decimal holds at most 38 digits


def take(spec: ItemSpec, ctx: CompileContext) -> Compiled:
    """A source field as text (zoned/packed numbers are rendered as digits, with a point when
    they have an implied scale); into a decimal item with exactly its 小数桁数."""
    assert isinstance(spec.args, str)
    if spec.occurrence is not None:
        text = occurrence(spec.args, spec.occurrence, ctx, (*spec.at, "occurrence"))
    else:
        text = ctx.column(spec.args, (*spec.at, "take")).cast(pl.String)
    if ctx.item.type is ItemType.DECIMAL:
        return Compiled(decimal_text(text, ctx.item.scale))
    return Compiled(text)


def occurrence(name: str, which: str, ctx: CompileContext, at: KeyPath) -> pl.Expr:
    """The first or last present (not null, not blank) occurrence of a field an OCCURS table
    repeats: the columns ``NAME(1)``, ``NAME(2)`` … of a mainframe record."""
    pattern = re.compile(re.escape(name) + r"\((\d+)\)")
    found = sorted(
        (int(m.group(1)), c) for c in ctx.fields if (m := pattern.fullmatch(c)) is not None
    )
    if not found:
        raise ctx.fail(at, f"{name!r} is not repeated by an OCCURS table (no {name}(1) column)")
    columns = [pl.col(c).cast(pl.String) for _, c in found]
    if which == "last":
        columns.reverse()
    return pl.coalesce([pl.when(strip_spaces(c) != "").then(c) for c in columns])


def decimal_text(text: pl.Expr, scale: int) -> pl.Expr:
    """A plain decimal with exactly ``scale`` digits after the point: 12345.6 → 12345.60.

    Only exact rewrites happen, through polars' Decimal (never a float): a value with more
    decimals than the item has, an exponent or any other text is kept as it is, and the schema
    check of the item reports it; nothing is rounded.
    """
    fraction = f"(?:\\.[0-9]{{1,{scale}}})?" if scale else ""
    exact = text.str.contains(f"^-?[0-9]+{fraction}$")
    number = text.cast(pl.Decimal(_DECIMAL_PRECISION, scale), strict=False)
    return pl.when(exact & number.is_not_null()).then(number.cast(pl.String)).otherwise(text)


def const(spec: ItemSpec, ctx: CompileContext) -> Compiled:
    assert spec.args is None or isinstance(spec.args, str)
    return Compiled(pl.lit(spec.args, dtype=pl.String))


def concat(spec: ItemSpec, ctx: CompileContext) -> Compiled:
    assert isinstance(spec.args, tuple)
    parts = [ctx.compile_nested(p) for p in spec.args]
    # Empty parts are skipped, so a missing 方書 does not leave a dangling separator; replace()
    # evaluates a part once, when(part != "").then(part) evaluated it twice.
    non_empty = [p.expr.replace("", None) for p in parts]
    expr = pl.concat_str(non_empty, separator=spec.sep, ignore_nulls=True)
    stages = tuple(st for p in parts for st in p.stages)
    aggregates = tuple(ag for p in parts for ag in p.aggregates)
    fields = set(expr.meta.root_names())
    if len(fields) == 1 and not stages and not aggregates:
        # Parts of one field (郵便番号 split at its hyphen): a value of that field always gives
        # the same text, and such a field repeats (a few thousand 郵便番号 in 100k records).
        expr = once_per_value(expr, fields.pop())
    return Compiled(
        expr,
        tuple(c for p in parts for c in p.checks),
        stages,
        aggregates,
    )


def once_per_value(expr: pl.Expr, field: str) -> pl.Expr:
    """``expr``, a row-wise expression of the column ``field`` alone, evaluated once per
    distinct value of it (every row where the values are mostly distinct)."""

    def evaluate(values: pl.Series) -> pl.Series:
        return values.to_frame().select(expr).to_series()

    return pl.col(field).map_batches(
        partial(per_distinct, convert=evaluate, most=0.25),
        return_dtype=pl.String,
        is_elementwise=True,
    )
