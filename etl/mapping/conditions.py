"""Filter conditions (`when:`) compiled to boolean polars expressions. No user text is evaluated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from etl.errors import MappingError
from etl.mapping.transforms.text import strip_spaces


def compile_condition(raw: Any, fields: frozenset[str], path: Path, where: str) -> pl.Expr:
    """Compile a condition; null-safe (a null field never matches ``equals``/``in``).

    >>> import polars as pl
    >>> expr = compile_condition({"field": "s", "in": ["9"]}, frozenset({"s"}), Path("m"), "w")
    >>> pl.DataFrame({"s": ["9", "1", None]}).select(expr).to_series().to_list()
    [True, False, False]
    """
    if not isinstance(raw, dict):
        raise MappingError(path, f"a condition must be a mapping, got {raw!r}", where=where)
    if "all" in raw or "any" in raw:
        key = "all" if "all" in raw else "any"
        parts = raw[key]
        if not isinstance(parts, list) or not parts:
            raise MappingError(path, f"'{key}' takes a non-empty list", where=where)
        exprs = [
            compile_condition(p, fields, path, f"{where}.{key}[{i}]") for i, p in enumerate(parts)
        ]
        return pl.all_horizontal(exprs) if key == "all" else pl.any_horizontal(exprs)
    if "not" in raw:
        return ~compile_condition(raw["not"], fields, path, f"{where}.not")
    name = raw.get("field")
    if name not in fields:
        raise MappingError(path, f"unknown field {name!r} in condition", where=where)
    col = strip_spaces(pl.col(str(name)).cast(pl.String))
    if "equals" in raw:
        return (col == str(raw["equals"])).fill_null(False)
    if "in" in raw and isinstance(raw["in"], list):
        return col.is_in([str(v) for v in raw["in"]]).fill_null(False)
    if raw.get("blank") is True:
        return col.is_null() | (col == "")
    raise MappingError(
        path, "a condition is {field, equals|in|blank: true} or all/any/not", where=where
    )
