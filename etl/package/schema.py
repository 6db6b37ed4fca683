"""Table Schema (Frictionless) for V2.1 files, built from the layout, and its vectorised check.

Field types are chosen so that ``frictionless validate`` accepts the values chukan writes:

* text, digits, code and date are Table Schema ``string``: V2.1 keeps leading zeros (宛名番号),
  and dates are 西暦 YYYYMMDD, which the ``date`` type would only parse with a strptime format
  that Table Schema v2 deprecates. ``maxLength`` = 桁数; digits and dates carry a ``pattern``
  (Table Schema anchors patterns to the whole value); codes carry ``enum`` from the code table.
* integer is Table Schema ``integer`` with ``minimum``/``maximum`` = ±(10^桁数 − 1): Table
  Schema has no maxLength for numbers, the bounds say the same thing. Beyond 18 digits (past
  int64) it stays a string with a signed-digits pattern.
* decimal(桁数, 小数桁数) is Table Schema ``number`` with ``minimum``/``maximum`` = ±999.99 (for
  (5, 2)), checked exactly as polars Decimals; beyond 15 digits (where a JSON number read as a
  float stops being exact) it stays a string with a pattern of at most 桁数 − 小数桁数 digits
  before the point and exactly 小数桁数 after it.

The types, patterns and bounds come from the item-type table (etl.layout.types), which the
run's schema checks and the SQL column types read too.

Missing values are Table Schema's default ``[""]``: an empty cell is null, and only
``required`` applies to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Any

import polars as pl

from etl.layout import CodeTable, Item, ItemType, RecordFile, type_rule

# A plain decimal number as chukan writes it (frictionless also reads exponents, which the
# V2.1 files never hold).
_NUMBER_RE = r"^\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*$"
_NUMBER_SCALE = 18  # fraction digits a bound is compared with (item scales are far below)
_NUMBER_PRECISION = 38
_COMPARE = Context(prec=_NUMBER_PRECISION + 2)


@dataclass(frozen=True, slots=True)
class FieldRule:
    """One Table Schema field: the constraints chukan writes and checks."""

    name: str
    type: str  # "string" | "integer" | "number"
    required: bool = False
    max_length: int | None = None
    pattern: str | None = None
    enum: tuple[str, ...] | None = None
    minimum: int | Decimal | None = None
    maximum: int | Decimal | None = None
    title: str = ""

    def to_descriptor(self) -> dict[str, Any]:
        constraints: dict[str, Any] = {}
        if self.required:
            constraints["required"] = True
        if self.max_length is not None:
            constraints["maxLength"] = self.max_length
        if self.pattern is not None:
            constraints["pattern"] = self.pattern
        if self.enum is not None:
            constraints["enum"] = list(self.enum)
        if self.minimum is not None:
            constraints["minimum"] = _json_number(self.minimum)
        if self.maximum is not None:
            constraints["maximum"] = _json_number(self.maximum)
        out: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.title:
            out["title"] = self.title
        if constraints:
            out["constraints"] = constraints
        return out

    @classmethod
    def from_descriptor(cls, field: Mapping[str, Any]) -> FieldRule:
        c = field.get("constraints") or {}
        enum = c.get("enum")
        return cls(
            name=str(field["name"]),
            type=str(field.get("type", "string")),
            required=bool(c.get("required", False)),
            max_length=c.get("maxLength"),
            pattern=c.get("pattern"),
            enum=tuple(str(v) for v in enum) if enum is not None else None,
            minimum=_exact_number(c.get("minimum")),
            maximum=_exact_number(c.get("maximum")),
            title=str(field.get("title", "")),
        )

    def without(self, constraint: str) -> FieldRule:
        """The same field minus one constraint (see ``relax_schema``)."""
        values = {s: getattr(self, s) for s in self.__slots__}
        if constraint == "type":  # number cells that are not numbers: keep them as text
            values.update(type="string", minimum=None, maximum=None)
            return FieldRule(**values)
        attr = {
            "required": "required",
            "maxLength": "max_length",
            "pattern": "pattern",
            "enum": "enum",
            "minimum": "minimum",
            "maximum": "maximum",
        }[constraint]
        values[attr] = False if attr == "required" else None
        return FieldRule(**values)


def field_rule(item: Item, code_tables: Mapping[str, CodeTable], in_key: bool) -> FieldRule:
    """The Table Schema field of one layout item, derived from the item-type table."""
    required = item.required or in_key  # a primary key cell can never be empty
    shape = type_rule(item).table_schema(item)
    enum = None
    if (
        item.type is ItemType.CODE
        and item.code_table is not None
        and item.code_table in code_tables
    ):
        enum = tuple(sorted(code_tables[item.code_table].values))
    return FieldRule(
        item.name,
        shape.type,
        required,
        shape.max_length,
        shape.pattern,
        enum,
        shape.minimum,
        shape.maximum,
        title=item.description,
    )


def table_fields(rf: RecordFile, code_tables: Mapping[str, CodeTable]) -> tuple[FieldRule, ...]:
    return tuple(field_rule(it, code_tables, it.name in rf.key) for it in rf.items)


@dataclass(frozen=True, slots=True)
class Violation:
    """Cells of one field (or the primary key) that break one constraint."""

    field: str  # 項目名, or the key items joined by "+" for primaryKey
    constraint: str  # required | maxLength | pattern | enum | type | minimum | maximum | primaryKey
    rows: int
    first_row: int  # 1-based data row (the header is not counted)


def _missing(col: pl.Expr) -> pl.Expr:
    return col.is_null() | (col == "")


def _field_checks(rule: FieldRule) -> list[tuple[str, pl.Expr]]:
    """(constraint, expression true on each violating row) for one field; values are strings."""
    col = pl.col(rule.name)
    present = ~_missing(col)
    checks: list[tuple[str, pl.Expr]] = []
    if rule.required:
        checks.append(("required", _missing(col)))
    if rule.max_length is not None:
        checks.append(("maxLength", present & (col.str.len_chars() > rule.max_length)))
    if rule.pattern is not None:
        checks.append(("pattern", present & ~col.str.contains(f"^(?:{rule.pattern})$")))
    if rule.enum is not None:
        checks.append(("enum", present & ~col.is_in(list(rule.enum))))
    if rule.type == "integer":
        # Table Schema integers: optional sign, digits (frictionless reads them with int()).
        number = col.str.strip_chars().cast(pl.Int64, strict=False)
        checks.append(("type", present & ~col.str.contains(r"^\s*[+-]?[0-9]+\s*$")))
        if rule.minimum is not None:
            checks.append(("minimum", present & (number < rule.minimum)))
        if rule.maximum is not None:
            checks.append(("maximum", present & (number > rule.maximum)))
    elif rule.type == "number":
        checks += _number_checks(rule, col, present)
    return checks


def _number_checks(rule: FieldRule, col: pl.Expr, present: pl.Expr) -> list[tuple[str, pl.Expr]]:
    """Table Schema numbers compared exactly: as polars Decimals, never as floats."""
    text = col.str.strip_chars()
    checks = [("type", present & ~text.str.contains(_NUMBER_RE))]
    dtype = pl.Decimal(_NUMBER_PRECISION, _NUMBER_SCALE)
    number = text.str.strip_prefix("+").cast(dtype, strict=False)
    # A number too large for the Decimal is out of any bound chukan writes.
    huge = number.is_null() & text.str.contains(_NUMBER_RE)
    negative = text.str.starts_with("-")
    if rule.minimum is not None:
        low = _bound(rule.minimum, dtype)
        checks.append(("minimum", present & ((huge & negative) | (number < low))))
    if rule.maximum is not None:
        high = _bound(rule.maximum, dtype)
        checks.append(("maximum", present & ((huge & ~negative) | (number > high))))
    return checks


def _bound(value: int | Decimal, dtype: pl.Decimal) -> pl.Expr:
    limit = Decimal(10 ** (_NUMBER_PRECISION - _NUMBER_SCALE))
    clamped = max(-limit + 1, min(limit - 1, Decimal(value)))  # beyond: only ``huge`` is out
    # rounded half-even to the comparison scale: exact for every bound chukan writes
    return pl.lit(clamped.quantize(Decimal(f"1E-{_NUMBER_SCALE}"), context=_COMPARE), dtype)


def _json_number(value: int | Decimal) -> int | float:
    # json writes a float by its shortest text, which for the bounds of the item-type table
    # (at most 15 significant digits) is the exact decimal; ``_exact_number`` reads it back.
    return value if isinstance(value, int) else float(value)


def _exact_number(value: object) -> int | Decimal | None:
    """A bound read from a descriptor; anything that is not a finite number is no bound."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, int):
        return value
    number = Decimal(repr(value))
    return number if number.is_finite() else None


def check_table(
    frame: pl.DataFrame, fields: Sequence[FieldRule], primary_key: Sequence[str]
) -> list[Violation]:
    """Every constraint a frame (all columns as strings) breaks, counted in one polars pass."""
    named: list[tuple[str, str, pl.Expr]] = [
        (rule.name, c, e)
        for rule in fields
        if rule.name in frame.columns
        for c, e in _field_checks(rule)
    ]
    if primary_key and all(k in frame.columns for k in primary_key):
        key = pl.col(primary_key[0]) if len(primary_key) == 1 else pl.struct(primary_key)
        named.append(("+".join(primary_key), "primaryKey", key.is_duplicated()))
    if not named or not frame.height:
        return []
    # Counting is one parallel pass; the first offending row is looked up only for the few
    # constraints that are broken.
    hits = [e.fill_null(False) for _, _, e in named]
    counts = frame.select([h.sum().alias(f"n{i}") for i, h in enumerate(hits)]).row(0)
    broken = [i for i, n in enumerate(counts) if n]
    if not broken:
        return []
    row = pl.int_range(1, pl.len() + 1)
    firsts = frame.select([row.filter(hits[i]).first().alias(f"r{i}") for i in broken]).row(0)
    return [
        Violation(named[i][0], named[i][1], int(counts[i]), int(first))
        for i, first in zip(broken, firsts, strict=True)
    ]


def relax_schema(
    fields: Sequence[FieldRule], primary_key: Sequence[str], violations: Sequence[Violation]
) -> tuple[tuple[FieldRule, ...], tuple[str, ...]]:
    """Drop the constraints the data already breaks (each is a recorded finding of the run), so
    the schema stays true of the sealed bytes; the package lists what was dropped."""
    broken = {(v.field, v.constraint) for v in violations}
    relaxed = []
    for rule in fields:
        for constraint in (
            "type",
            "required",
            "maxLength",
            "pattern",
            "enum",
            "minimum",
            "maximum",
        ):
            if (rule.name, constraint) in broken:
                rule = rule.without(constraint)
        relaxed.append(rule)
    key_broken = any(v.constraint == "primaryKey" for v in violations) or any(
        (k, "required") in broken for k in primary_key
    )
    return tuple(relaxed), (() if key_broken else tuple(primary_key))
