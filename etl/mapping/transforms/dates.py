"""Date words: 和暦 → 西暦 (source `wareki`), 西暦 → 和暦 (source `seireki`), `date_format` step.

A non-blank date that cannot be converted (平成31年2月30日, a 年号コード the era table does not
know) is handled as the item's ``on_invalid`` says: ``reject`` (default) rejects the record with
a finding; ``keep_empty`` writes the item empty with a blocking finding. Either finding keeps
the original text. An unknown era code and a day that does not exist are told apart.

A 住民記録 date the calendar does not hold (S250000 月日不詳, 平年の2月29日) is written as is
(00 for the 不詳 parts) to a ``registry_date`` item; a ``date`` item cannot hold it, which is
its own finding (``mapping.registry_date``), handled as ``on_invalid`` says.
"""

from __future__ import annotations

import polars as pl

from etl.config import KeyPath
from etl.layout import ItemType
from etl.mapping.model import DateFormatArgs, ItemSpec, OnInvalid, SeirekiArgs, WarekiArgs
from etl.mapping.transforms.base import CompileContext, Compiled, ValueCheck
from etl.text import (
    NOT_A_DATE_JA,
    UNKNOWN_ERA_JA,
    UNKNOWN_YMD_INPUT,
    is_known_era,
    seireki_to_wareki,
    strip_spaces,
    wareki_to_registry_date,
)

YMD = r"^[0-9]{8}$"
# a registry date (年月日不詳, 月日不詳, 日不詳, 平年の2月29日) written to a calendar-date item
REGISTRY_DATE_RULE = "mapping.registry_date"
# the rules whose finding goes with a record an item's `on_invalid: reject` refused
REJECTING_RULES = ("mapping.invalid_date", "mapping.unknown_era", REGISTRY_DATE_RULE)
REJECTED_JA = "。レコードを除外しました"


def _blank(expr: pl.Expr) -> pl.Expr:
    return _empty(strip_spaces(expr))


def _empty(stripped: pl.Expr) -> pl.Expr:
    """Blank, for a value already stripped of spaces (stripping again would cost a pass)."""
    return stripped.is_null() | (stripped == "")


def _invalid(
    ctx: CompileContext, problem: pl.Expr, value: pl.Expr, what: str, on_invalid: OnInvalid
) -> ValueCheck:
    """A date that does not exist; a rejected record says so in its finding."""
    reject = on_invalid == "reject"
    message = f"{ctx.item.name}の{what}「{{}}」は{NOT_A_DATE_JA}" + (REJECTED_JA if reject else "")
    return ValueCheck(
        rule="mapping.invalid_date",
        problem=problem,
        value=value,
        message=pl.format(message, value),
        reject=f"{ctx.item.name}: 存在しない日付" if reject else None,
    )


def wareki(spec: ItemSpec, ctx: CompileContext) -> Compiled:
    args = spec.args
    assert isinstance(args, WarekiArgs)
    at = (*spec.at, "wareki")
    # The era code and digits, stripped and looked up once: the item and its three checks read
    # them (as expressions, each use would strip and look up again).
    base = Compiled(pl.lit(None))
    name = ctx.stage_name(at)
    base, raw_era = base.staged(f"{name}.era", strip_spaces(ctx.column(args.era, (*at, "era"))))
    base, ymd = base.staged(f"{name}.date", strip_spaces(ctx.column(args.date, (*at, "date"))))
    era = raw_era
    if args.era_table is not None:
        if args.era_table not in ctx.tables:
            known = ", ".join(sorted(ctx.tables)) or "none"
            raise ctx.fail((*at, "era_table"), f"unknown table {args.era_table!r}; known: {known}")
        table = ctx.tables[args.era_table]
        looked_up = raw_era.replace_strict(table, default=None, return_dtype=pl.String)
        base, era = base.staged(f"{name}.era_code", looked_up)
    base, converted = base.staged(name, wareki_to_registry_date(era, ymd, ctx.eras))
    converted_date, form = converted.struct.field("date"), converted.struct.field("form")
    # The findings keep the vendor's own era code and digits, e.g. "H310230".
    original = pl.concat_str([raw_era, ymd], ignore_nulls=True)
    era_known = is_known_era(era, ctx.eras).fill_null(False)
    wanted = ~_empty(ymd)
    # 年月日不詳 (000000) needs no era code
    unknown_all = (ymd == UNKNOWN_YMD_INPUT) & _empty(raw_era)
    # The era code is shown as the vendor wrote it ((空欄) when missing), then the whole date.
    shown_era = pl.when(raw_era.is_null() | (raw_era == "")).then(pl.lit("（空欄）"))
    reject = args.on_invalid == "reject"
    unknown_era = ValueCheck(
        rule="mapping.unknown_era",
        problem=wanted & ~era_known & ~unknown_all,
        value=original,
        message=pl.format(
            f"{ctx.item.name}の{UNKNOWN_ERA_JA}（和暦日付「{{}}」）"
            + (REJECTED_JA if reject else ""),
            shown_era.otherwise(raw_era),
            original,
        ),
        reject=f"{ctx.item.name}: 年号コード不明" if reject else None,
    )
    not_a_date = _invalid(
        ctx, wanted & era_known & converted_date.is_null(), original, "和暦日付", args.on_invalid
    )
    if ctx.item.type is ItemType.REGISTRY_DATE:  # carries 不詳 and 平年の2月29日 as they are
        return base.then(converted_date, unknown_era, not_a_date)
    cannot_hold = ValueCheck(
        rule=REGISTRY_DATE_RULE,
        problem=wanted & form.is_not_null(),
        value=original,
        message=pl.format(
            f"{ctx.item.name}の和暦日付「{{}}」は{{}}の日付で、この項目の型（日付）では表せません"
            + (REJECTED_JA if reject else ""),
            original,
            form,
        ),
        reject=f"{ctx.item.name}: 日付の型で表せない日付" if reject else None,
    )
    calendar_date = pl.when(form.is_null()).then(converted_date)
    return base.then(calendar_date, unknown_era, not_a_date, cannot_hold)


SEIREKI_PARTS = {"all": (0, 8), "era": (0, 2), "yymmdd": (2, 6)}


def seireki(spec: ItemSpec, ctx: CompileContext) -> Compiled:
    args = spec.args
    assert isinstance(args, SeirekiArgs)
    at = (*spec.at, "seireki")
    ymd = strip_spaces(ctx.column(args.date, (*at, "date")))
    base, full = Compiled(pl.lit(None)).staged(ctx.stage_name(at), seireki_to_wareki(ymd, ctx.eras))
    start, length = SEIREKI_PARTS[args.part]
    problem = ~_empty(ymd) & full.is_null()
    return base.then(
        full.str.slice(start, length), _invalid(ctx, problem, ymd, "西暦日付", args.on_invalid)
    )


def date_format(c: Compiled, args: DateFormatArgs, ctx: CompileContext, at: KeyPath) -> Compiled:
    src = c.expr
    # The format was checked when the spec was read (etl.mapping.load), so this cannot raise.
    parsed = src.str.strptime(pl.Date, args.format, strict=False)
    # strict=False may accept partial matches: format back and compare to be sure.
    ok = parsed.dt.strftime(args.format) == src
    result = pl.when(ok).then(parsed.dt.strftime("%Y%m%d")).otherwise(None)
    c, ymd = c.staged(ctx.stage_name(at), pl.when(result.str.contains(YMD)).then(result))
    problem = ~_blank(src) & ymd.is_null()
    return c.then(ymd, _invalid(ctx, problem, src, "日付", args.on_invalid))
