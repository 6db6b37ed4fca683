"""Source words: where an item's value starts (take, const, concat)."""

from __future__ import annotations

from typing import Any

import polars as pl

from etl.mapping.transforms.base import CompileContext, Compiled


def take(args: Any, ctx: CompileContext, where: str) -> Compiled:
    """A source field as text (zoned/packed integers are rendered as digits)."""
    return Compiled(ctx.column(args, where).cast(pl.String))


def const(args: Any, ctx: CompileContext, where: str) -> Compiled:
    if isinstance(args, (dict, list)):
        raise ctx.fail(where, "const takes a single value")
    return Compiled(pl.lit(None if args is None else str(args), dtype=pl.String))


def concat(args: Any, ctx: CompileContext, where: str, sep: str = "") -> Compiled:
    if not isinstance(args, list) or not args:
        raise ctx.fail(where, "concat takes a non-empty list of item specs")
    parts = [ctx.compile_nested(p, f"{where}[{i}]") for i, p in enumerate(args)]
    # Empty parts are skipped, so a missing 方書 does not leave a dangling separator.
    non_empty = [pl.when(p.expr != "").then(p.expr) for p in parts]
    expr = pl.concat_str(non_empty, separator=sep, ignore_nulls=True)
    checks = tuple(c for p in parts for c in p.checks)
    return Compiled(expr, checks, tuple(st for p in parts for st in p.stages))
