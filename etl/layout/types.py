"""The item-type table: what each V2.1 item type means, defined once for every consumer.

One ``TypeRule`` per ItemType says how 桁数 bounds a value, which text a valid value is (a
regular expression, the same in the run's polars checks and in a package's Table Schema), which
Table Schema field carries it and which SQL column holds it. etl.validate.checks,
etl.package.schema and etl.dbload.schema derive everything they say about a type from here, so
the three can no longer disagree (a date is a real calendar date in all three).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Context, Decimal, Inexact, InvalidOperation
from enum import StrEnum

from etl.layout.model import Item, ItemType

DATE_DIGITS = 8  # 西暦 YYYYMMDD
MAX_DECIMAL_DIGITS = 38  # numeric(p, s) in DuckDB and polars' Decimal hold at most 38 digits
MAX_BIGINT_DIGITS = 18  # every 18-digit number fits in a signed 64-bit integer
# A Table Schema number bound is a JSON number, read back as a binary float: up to 15
# significant digits its shortest text is the exact decimal that was written.
MAX_JSON_NUMBER_DIGITS = 15
# Decimal arithmetic on totals runs in this context: Python's default (28 digits) would round
# a sum of many 38-digit values.
EXACT = Context(prec=200, Emax=999_999, Emin=-999_999, traps=[InvalidOperation, Inexact])

# A real Gregorian calendar date YYYYMMDD, year 0001-9999 (no record of ours is dated in year 0).
_YEAR = "(?:[0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})"
_MONTH_DAY = (
    "(?:(?:0[13578]|1[02])(?:0[1-9]|[12][0-9]|3[01])"
    "|(?:0[469]|11)(?:0[1-9]|[12][0-9]|30)"
    "|02(?:0[1-9]|1[0-9]|2[0-8]))"
)
_LEAP_YEAR = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
CALENDAR_DATE_PATTERN = f"(?:{_YEAR}{_MONTH_DAY}|{_LEAP_YEAR}0229)"
# A 住民記録 date: a calendar date, or 00 for 不詳 parts (年 YYYY0000, 年月 YYYYMM00, none
# 00000000), or 2月29日 of any year.
REGISTRY_DATE_PATTERN = (
    f"(?:{CALENDAR_DATE_PATTERN}|{_YEAR}(?:0000|(?:0[1-9]|1[0-2])00|0229)|00000000)"
)
DATE_TYPES = frozenset({ItemType.DATE, ItemType.REGISTRY_DATE})  # YYYYMMDD, ordered as text
DIGITS_PATTERN = "[0-9]+"
INTEGER_PATTERN = "-?[0-9]+"


class Length(StrEnum):
    """How an item's 桁数 bounds its value (the ``schema.digits`` check)."""

    MAX_CHARS = "max_chars"  # at most 桁数 characters
    EXACT_CHARS = "exact_chars"  # exactly 桁数 characters (a date)
    MAX_DIGITS = "max_digits"  # at most 桁数 digits; a sign and a decimal point do not count
    CODE = "code"  # bounded by the code table: a longer value is not a code


class SqlDialect(StrEnum):
    DUCKDB = "duckdb"
    POSTGRESQL = "postgresql"


@dataclass(frozen=True, slots=True)
class TableSchemaType:
    """The Table Schema field of an item, without the parts that are not the type's own
    (required, title, a code table's enum)."""

    type: str  # "string" | "integer" | "number"
    max_length: int | None = None
    pattern: str | None = None  # unanchored: Table Schema anchors it to the whole value
    minimum: int | Decimal | None = None
    maximum: int | Decimal | None = None


@dataclass(frozen=True, slots=True)
class TypeRule:
    """One row of the item-type table."""

    type: ItemType
    label: str  # Japanese name of the type (data dictionary, findings)
    length: Length
    sql_typed: bool  # loaded into a typed (non-text) SQL column: empty text is NULL there

    def describe(self, item: Item) -> str:
        """The type as the data dictionary names it: 小数 (小数点以下2桁)."""
        if self.type is ItemType.DECIMAL:
            return f"{self.label} (小数点以下{item.scale}桁)"
        return self.label

    def pattern(self, item: Item) -> str | None:
        """The text every present value is (unanchored), or None when any text will do."""
        match self.type:
            case ItemType.DIGITS:
                return DIGITS_PATTERN
            case ItemType.DATE:
                return CALENDAR_DATE_PATTERN
            case ItemType.REGISTRY_DATE:
                return REGISTRY_DATE_PATTERN
            case ItemType.INTEGER:
                return INTEGER_PATTERN
            case ItemType.DECIMAL:
                return decimal_pattern(item.scale)
        return None

    def table_schema(self, item: Item) -> TableSchemaType:
        """The Table Schema field type and the constraints the type implies."""
        match self.type:
            case ItemType.INTEGER if item.digits <= MAX_BIGINT_DIGITS:
                bound = 10**item.digits - 1
                return TableSchemaType("integer", minimum=-bound, maximum=bound)
            case ItemType.INTEGER:
                return TableSchemaType("string", pattern=f"-?[0-9]{{1,{item.digits}}}")
            case ItemType.DECIMAL if item.digits <= MAX_JSON_NUMBER_DIGITS:
                top = decimal_bound(item.digits, item.scale)
                return TableSchemaType("number", minimum=-top, maximum=top)
            case ItemType.DECIMAL:
                whole = item.digits - item.scale
                return TableSchemaType("string", pattern=decimal_pattern(item.scale, whole))
        return TableSchemaType("string", max_length=item.digits, pattern=self.pattern(item))

    def sql_type(self, item: Item, dialect: SqlDialect) -> str:
        match self.type:
            case ItemType.DATE:
                return "date"
            case ItemType.INTEGER if item.digits <= MAX_BIGINT_DIGITS:
                return "bigint"
            case ItemType.INTEGER:
                return f"numeric({item.digits}, 0)"
            case ItemType.DECIMAL:
                return f"numeric({item.digits}, {item.scale})"
        # text, digits, code: kept as text (leading zeros); PostgreSQL checks 桁数 as characters
        return f"varchar({item.digits})" if dialect is SqlDialect.POSTGRESQL else "varchar"


def decimal_pattern(scale: int, whole_digits: int | None = None) -> str:
    """A plain decimal with exactly ``scale`` digits after the point (no exponent, no '+')."""
    whole = "[0-9]+" if whole_digits is None else f"[0-9]{{1,{whole_digits}}}"
    return f"-?{whole}\\.[0-9]{{{scale}}}" if scale else f"-?{whole}"


def decimal_bound(digits: int, scale: int) -> Decimal | int:
    """The largest value of numeric(digits, scale): 999.99 for (5, 2)."""
    nines: int = 10**digits - 1
    if scale == 0:
        return nines
    return Decimal(f"{nines}E-{scale}")  # built from text: exact at any precision


TYPE_TABLE: dict[ItemType, TypeRule] = {
    rule.type: rule
    for rule in (
        TypeRule(ItemType.TEXT, "文字", Length.MAX_CHARS, sql_typed=False),
        TypeRule(ItemType.DIGITS, "数字文字列", Length.MAX_CHARS, sql_typed=False),
        TypeRule(ItemType.CODE, "コード", Length.CODE, sql_typed=False),
        TypeRule(ItemType.DATE, "日付 (西暦 YYYYMMDD)", Length.EXACT_CHARS, sql_typed=True),
        # text in SQL: a date column cannot hold 19500000 (月日不詳)
        TypeRule(
            ItemType.REGISTRY_DATE,
            "住民記録日付 (西暦 YYYYMMDD、不詳は00)",
            Length.EXACT_CHARS,
            sql_typed=False,
        ),
        TypeRule(ItemType.INTEGER, "整数", Length.MAX_DIGITS, sql_typed=True),
        TypeRule(ItemType.DECIMAL, "小数", Length.MAX_DIGITS, sql_typed=True),
    )
}


def type_rule(item: Item) -> TypeRule:
    return TYPE_TABLE[item.type]
