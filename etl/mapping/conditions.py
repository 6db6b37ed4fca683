"""Filter conditions (`when:`) compiled to boolean polars expressions. No user text is evaluated."""

from __future__ import annotations

import polars as pl

from etl.mapping.model import Combined, Condition, FieldTest, Mapping
from etl.mapping.transforms.text import strip_spaces


def compile_condition(cond: Condition, fields: frozenset[str], mapping: Mapping) -> pl.Expr:
    """Compile a parsed condition; null-safe (a null field never matches ``equals``/``in``).

    Values are compared as text after trimming spaces; codes are text in the spec too (a YAML
    integer is refused when the spec is read).
    """
    if isinstance(cond, Combined):
        exprs = [compile_condition(p, fields, mapping) for p in cond.parts]
        if cond.op == "not":
            return ~exprs[0]
        return pl.all_horizontal(exprs) if cond.op == "all" else pl.any_horizontal(exprs)
    return _field_test(cond, fields, mapping)


def _field_test(test: FieldTest, fields: frozenset[str], mapping: Mapping) -> pl.Expr:
    if test.field not in fields:
        known = ", ".join(sorted(fields))
        raise mapping.error(
            (*test.at, "field"), f"unknown field {test.field!r} in condition; known: {known}"
        )
    col = strip_spaces(pl.col(test.field).cast(pl.String))
    if test.equals is not None:
        return (col == test.equals).fill_null(False)
    if test.one_of is not None:
        return col.is_in(list(test.one_of)).fill_null(False)
    return col.is_null() | (col == "")
