"""What every vocabulary word works with: the compiled expression, its checks, the context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl

from etl.errors import MappingError
from etl.layout.model import Item
from etl.text.wareki import EraTable


@dataclass(frozen=True, slots=True)
class Check:
    """A data problem a word can detect row by row; each True row becomes a Finding."""

    rule: str  # e.g. "mapping.unknown_code"
    problem: pl.Expr  # True where the row has the problem
    value: pl.Expr  # the original (offending) value, kept for the finding
    message: pl.Expr  # Japanese message (may embed the value)


@dataclass(frozen=True, slots=True)
class Compiled:
    expr: pl.Expr
    checks: tuple[Check, ...] = ()
    # Costly values that both the item and its checks use (a converted date) are computed once
    # into a named column before the item is selected: (column name, expression), in order.
    stages: tuple[tuple[str, pl.Expr], ...] = ()

    def then(self, expr: pl.Expr, *checks: Check) -> Compiled:
        return replace(self, expr=expr, checks=(*self.checks, *checks))

    def staged(self, name: str, expr: pl.Expr) -> tuple[Compiled, pl.Expr]:
        """Register ``expr`` as a stage column and return the expression that reads it."""
        column = f"_stage:{name}"
        return replace(self, stages=(*self.stages, (column, expr))), pl.col(column)


@dataclass(frozen=True, slots=True)
class CompileContext:
    path: Path  # the spec file, for errors
    item: Item  # the target item being produced
    fields: frozenset[str]  # columns available: source fields and <lookup>.<field>
    tables: dict[str, dict[str, str]]
    eras: EraTable
    compile_nested: Callable[[Any, str], Compiled]  # for words that contain item specs (concat)

    def fail(self, where: str, reason: str) -> MappingError:
        return MappingError(self.path, reason, where=where)

    def column(self, name: Any, where: str) -> pl.Expr:
        """A source column, checked to exist so a typo fails at compile time."""
        if not isinstance(name, str) or name not in self.fields:
            known = ", ".join(sorted(self.fields))
            raise self.fail(where, f"unknown source field {name!r}; known: {known}")
        return pl.col(name)


StepFn = Callable[[Compiled, Any, CompileContext, str], Compiled]
