"""Date words: 和暦 → 西暦 (source `wareki`), 西暦 → 和暦 (source `seireki`), `date_format` step.

Impossible dates become null *and* a finding that keeps the original text.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from etl.mapping.transforms.base import Check, CompileContext, Compiled
from etl.mapping.transforms.text import strip_spaces
from etl.text.wareki import seireki_to_wareki, wareki_to_seireki

YMD = r"^[0-9]{8}$"


def _invalid(
    ctx: CompileContext, tested: pl.Expr, result: pl.Expr, what: str, shown: pl.Expr | None = None
) -> Check:
    """Rows whose non-blank input gave no date; the finding shows ``shown`` (default: input)."""
    blank = tested.is_null() | (strip_spaces(tested) == "")
    value = tested if shown is None else shown
    return Check(
        rule="mapping.invalid_date",
        problem=~blank & result.is_null(),
        value=value,
        message=pl.format(f"{ctx.item.name}の{what}「{{}}」は存在しない日付です", value),
    )


def wareki(args: Any, ctx: CompileContext, where: str) -> Compiled:
    if not isinstance(args, dict) or not {"era", "date"} <= args.keys():
        raise ctx.fail(where, "wareki needs {era: field, date: field(YYMMDD), era_table: table}")
    raw_era = strip_spaces(ctx.column(args["era"], f"{where}.era"))
    ymd = strip_spaces(ctx.column(args["date"], f"{where}.date"))
    era = raw_era
    table = args.get("era_table")
    if table is not None:
        if table not in ctx.tables:
            raise ctx.fail(where, f"unknown era_table {table!r}")
        era = raw_era.replace_strict(ctx.tables[table], default=None, return_dtype=pl.String)
    base, result = Compiled(pl.lit(None)).staged(where, wareki_to_seireki(era, ymd, ctx.eras))
    # The finding keeps the vendor's own era code and digits, e.g. "H310230".
    original = pl.concat_str([raw_era, ymd], ignore_nulls=True)
    return base.then(result, _invalid(ctx, ymd, result, "和暦日付", original))


SEIREKI_PARTS = {"all": (0, 8), "era": (0, 2), "yymmdd": (2, 6)}


def seireki(args: Any, ctx: CompileContext, where: str) -> Compiled:
    if not isinstance(args, dict) or "date" not in args:
        raise ctx.fail(where, "seireki needs {date: field(YYYYMMDD), part: all|era|yymmdd}")
    part = args.get("part", "all")
    if part not in SEIREKI_PARTS:
        raise ctx.fail(where, f"seireki part must be one of {', '.join(SEIREKI_PARTS)}")
    ymd = strip_spaces(ctx.column(args["date"], f"{where}.date"))
    base, full = Compiled(pl.lit(None)).staged(where, seireki_to_wareki(ymd, ctx.eras))
    start, length = SEIREKI_PARTS[part]
    return base.then(full.str.slice(start, length), _invalid(ctx, ymd, full, "西暦日付"))


def date_format(c: Compiled, args: Any, ctx: CompileContext, where: str) -> Compiled:
    if not isinstance(args, str) or "%" not in args:
        raise ctx.fail(where, "date_format needs a strptime format such as '%Y/%m/%d'")
    src = c.expr
    parsed = src.str.strptime(pl.Date, args, strict=False)
    # strict=False may accept partial matches: format back and compare to be sure.
    ok = parsed.dt.strftime(args) == src
    result = pl.when(ok).then(parsed.dt.strftime("%Y%m%d")).otherwise(None)
    c, ymd = c.staged(where, pl.when(result.str.contains(YMD)).then(result))
    return c.then(ymd, _invalid(ctx, src, ymd, "日付"))
