"""The per-item schema checks of a RecordFile, defined once as polars expressions.

Each ItemCheck says when a row passes (``passes``) and how a failing row is reported (``value``
and ``message``). ``build_schema`` turns them into pandera Checks and ``schema_findings`` turns
pandera's failure cases back into Finding rows through the same objects, so a check cannot mean
one thing in the schema and another in the report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import polars as pl

from etl.findings import KEY_SEPARATOR, mask_expr, record_key_expr
from etl.layout.model import Item, ItemType, Layout, RecordFile

RECORD_NO = "_record_no"
SOURCE = "_source"
DATE_FORMAT = "%Y%m%d"
DATE_DIGITS = 8

_DIGITS_RE = r"^[0-9]+$"
_INTEGER_RE = r"^-?[0-9]+$"
_DATE_RE = r"^[0-9]{8}$"


class SchemaRule(StrEnum):
    """Rule ids of the checks generated from the layout (Finding.rule)."""

    REQUIRED = "schema.required"
    DIGITS = "schema.digits"
    TYPE = "schema.type"
    DATE = "schema.date"
    CODE = "schema.code"
    KEY_UNIQUE = "schema.key_unique"
    CHECK_ERROR = "schema.check_error"


# (raw value, value as shown in findings) -> Japanese message
MessageFn = Callable[[pl.Expr, pl.Expr], pl.Expr]


@dataclass(frozen=True, slots=True)
class ItemCheck:
    """One check on one column; ``passes`` is never null (null values pass, except REQUIRED)."""

    rule: SchemaRule
    column: str  # the column pandera attaches the check to
    item: str  # 項目名 reported in the finding (key items joined by "|")
    passes: pl.Expr
    value: pl.Expr  # the raw reported value, before masking
    sensitive: bool
    message: MessageFn

    @property
    def shown(self) -> pl.Expr:
        """The reported value, masked when the item is sensitive."""
        return mask_expr(self.value) if self.sensitive else self.value


def _null_passes(col: pl.Expr, ok: pl.Expr) -> pl.Expr:
    # Only REQUIRED judges nulls; a condition that comes out null on a value (a failed strptime)
    # counts as a failure, never as a pass.
    return col.is_null() | ok.fill_null(False)


def _text(*parts: str | pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in parts])


def _count(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.String)


def _digit_count(item: Item, col: pl.Expr) -> pl.Expr:
    # 桁数 of an integer does not count the sign (a leading "-"); 8x cheaper than counting
    # digits with a regex, and the same for every value that passes the type check.
    n = col.str.len_chars()
    if item.type is ItemType.INTEGER:
        return n - col.str.starts_with("-").cast(pl.UInt32)
    return n


def _item_checks(layout: Layout, item: Item) -> list[ItemCheck]:
    name = item.name
    col = pl.col(name)

    def check(rule: SchemaRule, passes: pl.Expr, message: MessageFn) -> ItemCheck:
        return ItemCheck(rule, name, name, passes, col, item.sensitive, message)

    checks: list[ItemCheck] = []
    if item.required:
        checks.append(
            check(
                SchemaRule.REQUIRED,
                col.is_not_null(),
                lambda _r, _s: pl.lit(f"{name}は必須項目です"),
            )
        )
    if item.type is ItemType.DATE:
        checks.append(
            check(
                SchemaRule.DIGITS,
                _null_passes(col, col.str.len_chars() == DATE_DIGITS),
                lambda r, _s: _text(
                    f"{name}の桁数が{DATE_DIGITS}桁ではありません（",
                    _count(r.str.len_chars()),
                    "桁）",
                ),
            )
        )
        # A real date comes back unchanged through strptime/strftime: a lenient strptime turns
        # 20190230 into null and reads a 7-digit string as some date (MEASURED.md). Other
        # lengths are left to the 桁数 check, so one bad value gives one finding.
        roundtrip = col.str.strptime(pl.Date, DATE_FORMAT, strict=False).dt.strftime(DATE_FORMAT)
        # chrono also knows a year 0 (1 BC); no record of ours is dated then.
        is_date = col.str.contains(_DATE_RE) & (roundtrip == col) & ~col.str.starts_with("0000")
        checks.append(
            check(
                SchemaRule.DATE,
                _null_passes(col, (col.str.len_chars() != DATE_DIGITS) | is_date),
                lambda _r, s: _text(f"{name}「", s, "」は正しい日付（西暦YYYYMMDD）ではありません"),
            )
        )
    elif item.type is ItemType.CODE:
        # No 桁数 check: a value longer than the code length cannot be in the table, and one
        # finding per bad code is enough.
        table = layout.code_tables[item.code_table or ""]
        codes = list(table.values)
        checks.append(
            check(
                SchemaRule.CODE,
                _null_passes(col, col.is_in(codes)),
                lambda _r, s: _text(f"{name}「", s, f"」は{table.name}表にありません"),
            )
        )
    else:
        checks.append(
            check(
                SchemaRule.DIGITS,
                _null_passes(col, _digit_count(item, col) <= item.digits),
                lambda r, _s: _text(
                    f"{name}の桁数が{item.digits}桁を超えています（",
                    _count(_digit_count(item, r)),
                    "桁）",
                ),
            )
        )
    if item.type is ItemType.DIGITS:
        checks.append(
            check(
                SchemaRule.TYPE,
                _null_passes(col, col.str.contains(_DIGITS_RE)),
                lambda _r, s: _text(f"{name}「", s, "」に数字以外の文字が含まれています"),
            )
        )
    elif item.type is ItemType.INTEGER:
        checks.append(
            check(
                SchemaRule.TYPE,
                _null_passes(col, col.str.contains(_INTEGER_RE)),
                lambda _r, s: _text(f"{name}「", s, "」は整数ではありません"),
            )
        )
    return checks


def _key_check(record_file: RecordFile) -> ItemCheck:
    keys = list(record_file.key)
    label = "・".join(keys)
    return ItemCheck(
        rule=SchemaRule.KEY_UNIQUE,
        # Attached to the first key column, not to the frame: pandera reports frame-level
        # failures by serialising whole rows to JSON in Python, one row at a time.
        column=keys[0],
        item=KEY_SEPARATOR.join(keys),
        passes=pl.struct(keys).is_duplicated().not_(),
        value=record_key_expr(record_file),  # already masked part by part
        sensitive=False,
        # Counted over the failing rows only: every row of a duplicate group fails, so the
        # group is complete there.
        message=lambda _r, s: _text(
            f"キー（{label}）「", s, "」が重複しています（", _count(pl.len().over(keys)), "件）"
        ),
    )


def item_checks(layout: Layout, record_file: RecordFile) -> list[ItemCheck]:
    """Every schema check of a record file, in item order, the key check last."""
    checks = [c for item in record_file.items for c in _item_checks(layout, item)]
    checks.append(_key_check(record_file))
    return checks
