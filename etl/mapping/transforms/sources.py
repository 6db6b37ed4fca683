"""Source words: where an item's value starts (take, const, concat)."""

from __future__ import annotations

import polars as pl

from etl.mapping.model import ItemSpec
from etl.mapping.transforms.base import CompileContext, Compiled


def take(spec: ItemSpec, ctx: CompileContext) -> Compiled:
    """A source field as text (zoned/packed integers are rendered as digits)."""
    assert isinstance(spec.args, str)
    return Compiled(ctx.column(spec.args, (*spec.at, "take")).cast(pl.String))


def const(spec: ItemSpec, ctx: CompileContext) -> Compiled:
    assert spec.args is None or isinstance(spec.args, str)
    return Compiled(pl.lit(spec.args, dtype=pl.String))


def concat(spec: ItemSpec, ctx: CompileContext) -> Compiled:
    assert isinstance(spec.args, tuple)
    parts = [ctx.compile_nested(p) for p in spec.args]
    # Empty parts are skipped, so a missing 方書 does not leave a dangling separator.
    non_empty = [pl.when(p.expr != "").then(p.expr) for p in parts]
    expr = pl.concat_str(non_empty, separator=spec.sep, ignore_nulls=True)
    return Compiled(
        expr,
        tuple(c for p in parts for c in p.checks),
        tuple(st for p in parts for st in p.stages),
        tuple(ag for p in parts for ag in p.aggregates),
    )
