"""Findings: problems in the data, kept as data (a polars frame), counted, reported, never raised.

Every stage that notices something wrong with a record (extract: unmapped gaiji; mapping: unknown
code, impossible 和暦 date; validate: schema and rule failures) emits rows in FINDING_SCHEMA.
"""

from __future__ import annotations

from enum import StrEnum

import polars as pl


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


def key_expr(key_items: list[str], sensitive: set[str]) -> pl.Expr:
    """The record key as one string "a|b", sensitive parts masked."""
    parts = [
        (mask_expr(pl.col(k)) if k in sensitive else pl.col(k)).fill_null("") for k in key_items
    ]
    return pl.concat_str(parts, separator="|")
