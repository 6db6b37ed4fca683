"""The frames of an ExtractChunk, built the same way by every extractor.

Records are decoded column by column; rejected and filtered records are few, so they are gathered
row by row and turned into frames once per block.
"""

from __future__ import annotations

import polars as pl

from etl.extract.base import (
    BYTE_OFFSET,
    FILTER_SCHEMA,
    RECORD_NO,
    REJECT_SCHEMA,
    ExtractChunk,
    empty_filtered,
    empty_rejects,
)


def records_frame(
    field_schema: dict[str, pl.DataType], columns: dict[str, pl.Series]
) -> pl.DataFrame:
    """RECORD_NO, BYTE_OFFSET and the fields, cast to their types (empty when no columns)."""
    schema: dict[str, pl.DataType] = {RECORD_NO: pl.Int64(), BYTE_OFFSET: pl.Int64()}
    schema |= field_schema
    if not columns:
        return pl.DataFrame(schema=schema)
    return pl.DataFrame([columns[name].alias(name) for name in schema]).cast(schema)  # type: ignore[arg-type]


def empty_chunk(source: str, records: pl.DataFrame, findings: pl.DataFrame) -> ExtractChunk:
    """The one chunk of an empty file: the schema and the findings still travel."""
    return ExtractChunk(source, 0, records, empty_rejects(), empty_filtered(), findings)


class SetAside:
    """The rejected and filtered records of one block, in the order they are found."""

    __slots__ = ("_filtered", "_rejects", "_source")

    def __init__(self, source: str) -> None:
        self._source = source
        self._rejects: dict[str, list[object]] = {k: [] for k in REJECT_SCHEMA}
        self._filtered: dict[str, list[object]] = {k: [] for k in FILTER_SCHEMA}

    def reject(self, record_no: int, byte_offset: int, item: str, reason: str, raw: bytes) -> None:
        row = (self._source, record_no, byte_offset, item, reason, raw.hex())
        for k, v in zip(REJECT_SCHEMA, row, strict=True):
            self._rejects[k].append(v)

    def filter_out(self, record_no: int, byte_offset: int, reason: str) -> None:
        row = (self._source, record_no, byte_offset, reason)
        for k, v in zip(FILTER_SCHEMA, row, strict=True):
            self._filtered[k].append(v)

    def frames(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(rejects, filtered), each in record order whatever order the records were found in."""
        return (
            pl.DataFrame(self._rejects, schema=REJECT_SCHEMA).sort(
                "record_no", maintain_order=True
            ),
            pl.DataFrame(self._filtered, schema=FILTER_SCHEMA).sort(
                "record_no", maintain_order=True
            ),
        )
