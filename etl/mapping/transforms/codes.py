"""code_map: vendor code → standard code through a table; unknown codes become findings."""

from __future__ import annotations

from typing import Any

import polars as pl

from etl.mapping.transforms.base import Check, CompileContext, Compiled


def code_map(c: Compiled, args: Any, ctx: CompileContext, where: str) -> Compiled:
    name, unmapped = (args, "keep") if isinstance(args, str) else (None, None)
    if isinstance(args, dict):
        name, unmapped = args.get("table"), args.get("unmapped", "keep")
    if name not in ctx.tables or unmapped not in ("keep", "null"):
        known = ", ".join(sorted(ctx.tables)) or "none"
        raise ctx.fail(
            where, f"code_map needs a known table (known: {known}) and unmapped: keep|null"
        )
    table = ctx.tables[str(name)]
    src = c.expr
    # replace() keeps unknown values as they are; replace_strict(default=None) nulls them.
    if unmapped == "keep":
        expr = src.replace(table)
    else:
        expr = src.replace_strict(table, default=None, return_dtype=pl.String)
    blank = src.is_null() | (src == "")
    check = Check(
        rule="mapping.unknown_code",
        problem=~blank & ~src.is_in(list(table)),
        value=src,
        message=pl.format(f"{ctx.item.name}のコード「{{}}」は変換表「{name}」にありません", src),
    )
    return c.then(expr, check)
