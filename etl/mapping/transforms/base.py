"""What every vocabulary word works with: the compiled expression, its checks, the context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import polars as pl

from etl.config import KeyPath, format_key_path
from etl.errors import MappingError
from etl.layout import Item
from etl.mapping.model import ItemSpec, Mapping
from etl.text import EraTable


@dataclass(frozen=True, slots=True)
class ValueCheck:
    """A data problem a word can detect row by row; each True row becomes a Finding.

    With ``reject`` set (``on_invalid: reject``) the row is also rejected: it is not written and
    is counted as rejected under that reason.
    """

    rule: str  # e.g. "mapping.unknown_code"
    problem: pl.Expr  # True where the row has the problem
    value: pl.Expr  # the original (offending) value, kept for the finding
    message: pl.Expr  # Japanese message (may embed the value)
    reject: str | None = None  # reject reason (the same for every row: it is counted)


@dataclass(frozen=True, slots=True)
class Compiled:
    expr: pl.Expr
    checks: tuple[ValueCheck, ...] = ()
    # Costly values that both the item and its checks use (a converted date) are computed once
    # into a named column before the item is selected: (column name, expression), in order.
    stages: tuple[tuple[str, pl.Expr], ...] = ()
    # On a group_by record file: (column name, aggregation over the group's records).
    aggregates: tuple[tuple[str, pl.Expr], ...] = ()

    def then(self, expr: pl.Expr, *checks: ValueCheck) -> Compiled:
        return replace(self, expr=expr, checks=(*self.checks, *checks))

    def staged(self, name: str, expr: pl.Expr) -> tuple[Compiled, pl.Expr]:
        """Register ``expr`` as a stage column and return the expression that reads it."""
        column = f"_stage:{name}"
        return replace(self, stages=(*self.stages, (column, expr))), pl.col(column)


@dataclass(frozen=True, slots=True)
class CompileContext:
    mapping: Mapping  # the spec, for located errors
    item: Item  # the item being produced
    fields: frozenset[str]  # columns an item reads: source fields, <lookup>.<field>; group keys
    tables: dict[str, dict[str, str]]
    eras: EraTable
    compile_nested: Callable[[ItemSpec], Compiled]  # for words that contain item specs (concat)
    group_by: tuple[str, ...] = ()  # the record file's group_by fields (empty: one row per record)
    row_fields: frozenset[str] = frozenset()  # on a group_by file: what aggregates may read

    def fail(self, at: KeyPath, reason: str) -> MappingError:
        return self.mapping.error(at, reason)

    def column(self, name: str, at: KeyPath) -> pl.Expr:
        """A source column, checked to exist so a typo fails at compile time."""
        if name not in self.fields:
            if self.group_by and name in self.row_fields:
                raise self.fail(
                    at,
                    f"{name!r} is not a group_by field ({', '.join(self.group_by)}): on a group_by"
                    " record file read other fields through count/sum/first/last",
                )
            known = ", ".join(sorted(self.fields))
            raise self.fail(at, f"unknown source field {name!r}; known: {known}")
        return pl.col(name)

    def row_column(self, name: str, at: KeyPath) -> pl.Expr:
        """A field of the records being aggregated (group_by record files only)."""
        if name not in self.row_fields:
            known = ", ".join(sorted(self.row_fields))
            raise self.fail(at, f"unknown source field {name!r}; known: {known}")
        return pl.col(name)

    def stage_name(self, at: KeyPath) -> str:
        return format_key_path(at)


StepFn = Callable[[Compiled, Any, CompileContext, KeyPath], Compiled]
SourceFn = Callable[[ItemSpec, CompileContext], Compiled]
