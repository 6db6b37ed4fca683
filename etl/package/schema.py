"""Table Schema (Frictionless) for V2.1 files, built from the layout, and its vectorised check.

Field types are chosen so that ``frictionless validate`` accepts the values chukan writes:

* text, digits, code and date are Table Schema ``string``: V2.1 keeps leading zeros (宛名番号),
  and dates are 西暦 YYYYMMDD, which the ``date`` type would only parse with a strptime format
  that Table Schema v2 deprecates. ``maxLength`` = 桁数; digits and dates carry a ``pattern``
  (Table Schema anchors patterns to the whole value); codes carry ``enum`` from the code table.
* integer is Table Schema ``integer`` with ``minimum``/``maximum`` = ±(10^桁数 − 1): Table
  Schema has no maxLength for numbers, the bounds say the same thing. Beyond 18 digits (past
  int64) it stays a string with a signed-digits pattern.

Missing values are Table Schema's default ``[""]``: an empty cell is null, and only
``required`` applies to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from etl.layout import CodeTable, Item, ItemType, RecordFile

DIGITS_PATTERN = "[0-9]+"
DATE_PATTERN = "[0-9]{4}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])"
MAX_INT_DIGITS = 18  # int64 holds every 18-digit number


@dataclass(frozen=True, slots=True)
class FieldRule:
    """One Table Schema field: the constraints chukan writes and checks."""

    name: str
    type: str  # "string" | "integer"
    required: bool = False
    max_length: int | None = None
    pattern: str | None = None
    enum: tuple[str, ...] | None = None
    minimum: int | None = None
    maximum: int | None = None
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
            constraints["minimum"] = self.minimum
        if self.maximum is not None:
            constraints["maximum"] = self.maximum
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
            minimum=c.get("minimum"),
            maximum=c.get("maximum"),
            title=str(field.get("title", "")),
        )

    def without(self, constraint: str) -> FieldRule:
        """The same field minus one constraint (see ``relax_schema``)."""
        values = {s: getattr(self, s) for s in self.__slots__}
        if constraint == "type":  # integer cells that are not numbers: keep them as text
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
    """The Table Schema field of one layout item."""
    required = item.required or in_key  # a primary key cell can never be empty
    title = item.description
    if item.type is ItemType.INTEGER and item.digits <= MAX_INT_DIGITS:
        bound = 10**item.digits - 1
        return FieldRule(item.name, "integer", required, minimum=-bound, maximum=bound, title=title)
    if item.type is ItemType.INTEGER:
        signed = f"-?[0-9]{{1,{item.digits}}}"
        return FieldRule(item.name, "string", required, pattern=signed, title=title)
    enum = None
    if (
        item.type is ItemType.CODE
        and item.code_table is not None
        and item.code_table in code_tables
    ):
        enum = tuple(sorted(code_tables[item.code_table].values))
    patterns = {ItemType.DIGITS: DIGITS_PATTERN, ItemType.DATE: DATE_PATTERN}
    pattern: str | None = patterns.get(item.type)
    return FieldRule(item.name, "string", required, item.digits, pattern, enum, title=title)


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
    return checks


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
