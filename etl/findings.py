"""Findings: problems in the data, kept as data (a polars frame), counted, reported, never raised.

Every stage that notices something wrong with a record (extract: unmapped gaiji; mapping: unknown
code, impossible 和暦 date; validate: schema and rule failures) emits rows in FINDING_SCHEMA.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import polars as pl

from etl.layout import Item, RecordFile
from etl.text import pua_chars, pua_code

KEY_SEPARATOR = "|"
UNMAPPED_GAIJI_RULE = "gaiji.unmapped"  # a value holds a 外字 the vendor's table does not map


class Severity(StrEnum):
    ERROR = "error"  # blocks production (exit code 1)
    WARNING = "warning"  # reported, does not block


FINDING_SCHEMA: dict[str, pl.DataType] = {
    "rule": pl.String(),  # stable rule id, e.g. "schema.required", "gaiji.unmapped"
    "severity": pl.String(),  # Severity value
    "gyomu": pl.String(),  # Layout id, e.g. "juki"
    "file": pl.String(),  # RecordFile id (or source file name for extract findings)
    "record_no": pl.Int64(),  # physical record number in the source file (1-based)
    "key": pl.String(),  # record key values joined by "|"
    "item": pl.String(),  # 項目名 (or source field name)
    "value": pl.String(),  # offending value, masked when the item is sensitive
    "message": pl.String(),  # Japanese, for municipal staff
}


def detached(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with its text in buffers of its own.

    A polars string is a view: a column sliced, trimmed or selected from a decoded chunk still
    holds the whole chunk's text. What a run keeps after a chunk has gone by (index fields,
    key columns, findings) is copied out, or every chunk would stay in memory.
    """
    text = [c for c, t in frame.schema.items() if t == pl.String]
    if not text or not frame.height:
        return frame
    return frame.with_columns(pl.concat_str([pl.col(c), pl.lit("")]).alias(c) for c in text)


def empty_findings() -> pl.DataFrame:
    return pl.DataFrame(schema=FINDING_SCHEMA)


def concat_findings(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """Concatenate finding frames, coercing each to FINDING_SCHEMA column order."""
    cols = list(FINDING_SCHEMA)
    parts = [f.select(cols).cast(FINDING_SCHEMA) for f in frames if f.height]  # type: ignore[arg-type]
    return pl.concat(parts, how="vertical") if parts else empty_findings()


def mask_expr(value: pl.Expr) -> pl.Expr:
    """Mask a sensitive value: keep its length visible, show only the last 2 characters.

    >>> pl.select(mask_expr(pl.lit("123456789012"))).item()
    '**********12'
    """
    n = value.str.len_chars()
    return (
        pl.when(n <= 2)
        .then(pl.lit("**"))
        .otherwise(pl.lit("*").repeat_by(n - 2).list.join("") + value.str.slice(-2))
    )


def shown_expr(item: Item, prefix: str = "") -> pl.Expr:
    """An item's value as it may appear in findings and reports: masked when sensitive."""
    col = pl.col(prefix + item.name)
    return mask_expr(col) if item.sensitive else col


def joined_expr(record_file: RecordFile, names: Sequence[str], prefix: str = "") -> pl.Expr:
    """Several items as one string "a|b", sensitive parts masked, a null part shown as ""."""
    parts = [shown_expr(record_file.item(n), prefix).fill_null("") for n in names]
    return pl.concat_str(parts, separator=KEY_SEPARATOR)


def record_key_expr(record_file: RecordFile, prefix: str = "") -> pl.Expr:
    """The record key of each row (items read from columns named ``prefix + 項目名``)."""
    return joined_expr(record_file, record_file.key, prefix)


def finding_exprs(
    *,
    rule: str,
    severity: Severity,
    gyomu: str | pl.Expr,
    file: str | pl.Expr,
    record_no: pl.Expr,
    key: pl.Expr,
    item: str | pl.Expr,
    value: pl.Expr,
    message: str | pl.Expr,
) -> list[pl.Expr]:
    """The columns of FINDING_SCHEMA, in order, for a ``select`` over the offending rows."""

    def lit(v: str | pl.Expr) -> pl.Expr:
        return pl.lit(v) if isinstance(v, str) else v

    return [
        pl.lit(rule).alias("rule"),
        pl.lit(severity.value).alias("severity"),
        lit(gyomu).cast(pl.String).alias("gyomu"),
        lit(file).cast(pl.String).alias("file"),
        record_no.cast(pl.Int64).alias("record_no"),
        key.cast(pl.String).alias("key"),
        lit(item).cast(pl.String).alias("item"),
        value.cast(pl.String).alias("value"),
        lit(message).cast(pl.String).alias("message"),
    ]


def unmapped_gaiji_codes(findings: pl.DataFrame, encoding: str = "cp932") -> pl.DataFrame:
    """The gaiji.unmapped findings, each with ``codes``: the vendor codes (upper hex) of the
    private-use characters its value still holds, in order."""
    rows = findings.filter(pl.col("rule") == UNMAPPED_GAIJI_RULE)
    chars = rows.select(pua_chars(pl.col("value")).alias("c")).explode("c")["c"]
    # One Python call per distinct character (a handful), not per row.
    codes = {c: pua_code(c, encoding) for c in chars.drop_nulls().unique().to_list()}
    return rows.with_columns(
        pua_chars(pl.col("value"))
        .list.eval(pl.element().replace_strict(codes, default="?"))
        .fill_null([])
        .alias("codes")
    )
