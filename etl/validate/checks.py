"""The per-item schema checks of a RecordFile, defined once as polars expressions.

Each ItemCheck says when a row passes (``passes``) and how a failing row is reported (``value``
and ``message``). ``build_schema`` turns them into pandera Checks; ``SchemaChecks`` evaluates the
same ``passes`` in one pass (or has pandera run them) and turns the failing rows into Finding rows
through the same objects, so a check cannot mean one thing in the schema and another in the
report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import polars as pl
from numpy.typing import NDArray

from etl.findings import KEY_SEPARATOR, mask_expr, record_key_expr
from etl.layout import DATE_TYPES, Item, ItemType, Layout, Length, RecordFile, type_rule

RECORD_NO = "_record_no"
# what a date item's value should be, in its schema.date finding
_DATE_FORM = {
    ItemType.DATE: "日付（西暦YYYYMMDD）",
    ItemType.REGISTRY_DATE: "日付（西暦YYYYMMDD、不詳の部分は00）",
}
SOURCE = "_source"
# the patterns ``_digit_test`` tests without a regex: one or more ASCII digits, a "-" before them
_DIGIT_PATTERNS = frozenset({"[0-9]+", "-?[0-9]+"})


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
    # ``passes`` again, cheaper, where the frame is known to be of String columns (the one pass
    # of SchemaChecks); pandera keeps ``passes``, whose errors it words on another dtype
    cheaper: pl.Expr | None = None

    @property
    def one_pass(self) -> pl.Expr:
        """``passes`` as the one pass over a conforming frame evaluates it."""
        return self.passes if self.cheaper is None else self.cheaper

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
    n = col.str.len_chars()
    if type_rule(item).length is not Length.MAX_DIGITS:
        return n
    # 桁数 of a number does not count the sign (a leading "-") nor the decimal point; 8x cheaper
    # than counting digits with a regex, and the same for every value that passes the type check.
    n = n - col.str.starts_with("-").cast(pl.UInt32)
    if item.type is ItemType.DECIMAL and item.scale:
        n = n - col.str.contains(".", literal=True).cast(pl.UInt32)
    return n


def _count_at_most(item: Item, col: pl.Expr) -> pl.Expr:
    """``_digit_count(item, col) <= item.digits`` (null for null), counted only in the few
    values of more bytes than the limit (a byte holds at most one character, one digit): a
    fifth to a half of the cost of counting every value's."""

    def test(values: pl.Series) -> pl.Series:
        fits = values.str.len_bytes() <= item.digits
        longer = fits.not_().fill_null(False)
        if longer.any():
            counted = values.filter(longer).to_frame().select(_digit_count(item, pl.first()))
            fits = fits.scatter(longer.arg_true(), counted.to_series() <= item.digits)
        return fits

    return col.map_batches(test, pl.Boolean, is_elementwise=True)


# the longest value parsed as a number by ``_digit_test``: every 18 digits fit in an Int64
_PARSED_DIGITS = 18


def _digit_test(col: pl.Expr, pattern: str) -> pl.Expr | None:
    """The regex match of the pattern of a digits or integer item on a String column (null for
    null), by polars' parse of the value as a number: a third of the cost of a regex match for
    an integer (the strip of its sign is gone), two fifths for digits. None for every other
    pattern.
    """
    if pattern not in _DIGIT_PATTERNS:
        return None
    signed = pattern.startswith("-?")
    # the parse takes a leading "+" (and "-" when signed), both below the first allowed byte
    first = pl.lit("-" if signed else "0")
    parsed = (col >= first) & col.cast(
        pl.Int64 if signed else pl.UInt64, strict=False
    ).is_not_null()
    regex = f"^(?:{pattern})$"

    def longer(values: pl.Series) -> pl.Series:
        # the few values too long to parse, by the regex; null for every other
        long = values.str.len_bytes() > _PARSED_DIGITS
        matched = pl.repeat(None, len(values), dtype=pl.Boolean, eager=True).alias(values.name)
        if long.any():
            matched = matched.scatter(long.arg_true(), values.filter(long).str.contains(regex))
        return matched

    return (
        pl.when(col.str.len_bytes() <= _PARSED_DIGITS)
        .then(parsed)
        .otherwise(col.map_batches(longer, pl.Boolean, is_elementwise=True))
    )


def _month_days(*, registry: bool) -> NDArray[np.bool_]:
    """Indexed by MMDD (0-9999): the month-days a date of any year may have (0229 left to the
    leap-year test), and for a 住民記録 date its 不詳 parts (0000, MM00) and 0229 of any year."""
    valid = np.zeros(10_000, dtype=np.bool_)
    for month, days in enumerate((31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31), start=1):
        valid[month * 100 + 1 : month * 100 + days + 1] = True
        if registry:
            valid[month * 100] = True
    if registry:
        valid[[0, 229]] = True
    return valid


_CALENDAR_MONTH_DAYS = _month_days(registry=False)
_REGISTRY_MONTH_DAYS = _month_days(registry=True)


def _calendar_test(registry: bool) -> Callable[[pl.Series], pl.Series]:
    month_days = _REGISTRY_MONTH_DAYS if registry else _CALENDAR_MONTH_DAYS

    def test(yyyymmdd: pl.Series) -> pl.Series:
        # a value that is no number (null) is 0, then failed
        value = yyyymmdd.fill_null(0).to_numpy() if yyyymmdd.null_count() else yyyymmdd.to_numpy()
        month_day = value % 10_000
        # year 0001-9999, a month-day of the table (00000000 too, for a 住民記録 date)
        year_ok = value >= 10_000
        if registry:
            year_ok |= value == 0
        ok = year_ok & month_days[month_day]
        if yyyymmdd.null_count():
            ok &= yyyymmdd.is_not_null().to_numpy()
        if not registry:  # 0229: only in a Gregorian leap year (the few rows of that day)
            feb29 = np.flatnonzero(month_day == 229)
            year = value[feb29] // 10_000
            ok[feb29] = (year >= 1) & (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
        return pl.Series(yyyymmdd.name, ok, pl.Boolean)

    return test


def _date_test(col: pl.Expr, item: Item) -> pl.Expr:
    """The match of the calendar pattern of a date item on an 8-character String value (the
    only ones its check tests), by arithmetic on the value as a number and a table of
    month-days: half the cost of the regex, three of which were the dearest checks of a
    chunk. Never null."""
    # 8 bytes that parse as a number are 8 ASCII digits, but for a leading "+" (below "0")
    number = pl.when((col.str.len_bytes() == 8) & (col >= "0")).then(
        col.cast(pl.UInt32, strict=False)
    )
    test = _calendar_test(item.type is ItemType.REGISTRY_DATE)
    return number.map_batches(test, pl.Boolean, is_elementwise=True)


def _type_message(item: Item) -> str:
    if item.type is ItemType.DIGITS:
        return "」に数字以外の文字が含まれています"
    if item.type is ItemType.DECIMAL and item.scale:
        return f"」は小数（小数点以下{item.scale}桁）ではありません"
    return f"」は{type_rule(item).label}ではありません"


def _item_checks(layout: Layout, item: Item) -> list[ItemCheck]:
    name = item.name
    col = pl.col(name)
    rule = type_rule(item)
    pattern = rule.pattern(item)

    def check(
        rule: SchemaRule, passes: pl.Expr, message: MessageFn, cheaper: pl.Expr | None = None
    ) -> ItemCheck:
        return ItemCheck(rule, name, name, passes, col, item.sensitive, message, cheaper)

    checks: list[ItemCheck] = []
    if item.required:
        checks.append(
            check(
                SchemaRule.REQUIRED,
                col.is_not_null(),
                lambda _r, _s: pl.lit(f"{name}は必須項目です"),
            )
        )
    if rule.length is Length.EXACT_CHARS:
        checks.append(
            check(
                SchemaRule.DIGITS,
                _null_passes(col, col.str.len_chars() == item.digits),
                lambda r, _s: _text(
                    f"{name}の桁数が{item.digits}桁ではありません（",
                    _count(r.str.len_chars()),
                    "桁）",
                ),
            )
        )
    elif rule.length is Length.CODE:
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
                _null_passes(col, _count_at_most(item, col)),
            )
        )
    if pattern is None:
        return checks
    matches = col.str.contains(f"^(?:{pattern})$")
    if item.type in DATE_TYPES:
        # The calendar pattern of the item-type table (the package's Table Schema says the
        # same): 20190230 is no date. Other lengths are left to the 桁数 check, so one bad value
        # gives one finding.
        other_length = col.str.len_chars() != item.digits
        checks.append(
            check(
                SchemaRule.DATE,
                _null_passes(col, other_length | matches),
                lambda _r, s: _text(
                    f"{name}「", s, f"」は正しい{_DATE_FORM[item.type]}ではありません"
                ),
                _null_passes(col, other_length | _date_test(col, item)),
            )
        )
    else:
        message = _type_message(item)
        digits = _digit_test(col, pattern)
        checks.append(
            check(
                SchemaRule.TYPE,
                _null_passes(col, matches),
                lambda _r, s: _text(f"{name}「", s, message),
                None if digits is None else _null_passes(col, digits),
            )
        )
    return checks


def key_check(record_file: RecordFile) -> ItemCheck:
    """Keys are unique: a check of the whole file, never of a chunk alone (a duplicate may be
    in two chunks)."""
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


def item_checks(layout: Layout, record_file: RecordFile, *, key: bool = True) -> list[ItemCheck]:
    """Every schema check of a record file, in item order, the key check last (``key=False``:
    the checks of each record alone)."""
    checks = [c for item in record_file.items for c in _item_checks(layout, item)]
    if key:
        checks.append(key_check(record_file))
    return checks
