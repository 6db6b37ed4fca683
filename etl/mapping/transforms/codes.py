"""code_map: vendor code → standard code through a table; unknown codes become findings."""

from __future__ import annotations

import polars as pl

from etl.config import KeyPath
from etl.mapping.model import CodeMapArgs
from etl.mapping.transforms.base import CompileContext, Compiled, ValueCheck


def code_map(c: Compiled, args: CodeMapArgs, ctx: CompileContext, at: KeyPath) -> Compiled:
    if args.table not in ctx.tables:
        known = ", ".join(sorted(ctx.tables)) or "none"
        raise ctx.fail(at, f"code_map needs a known table: {args.table!r}; known: {known}")
    table = ctx.tables[args.table]
    src = c.expr
    # replace() keeps unknown values as they are; replace_strict(default=None) nulls them.
    if args.unmapped == "keep":
        expr = src.replace(table)
    else:
        expr = src.replace_strict(table, default=None, return_dtype=pl.String)
    # A blank code is no problem; null and "" both count as blank. One read of ``src`` (as
    # ~blank & ~is_in, it was evaluated twice per row).
    check = ValueCheck(
        rule="mapping.unknown_code",
        problem=~src.fill_null("").is_in([*table, ""]),
        value=src,
        message=pl.format(
            f"{ctx.item.name}のコード「{{}}」は変換表「{args.table}」にありません", src
        ),
    )
    return c.then(expr, check)
