"""The frames of an ExtractChunk, built the same way by every extractor.

Records are decoded column by column; rejected and filtered records are few, so they are gathered
row by row and turned into frames once per block. Their location columns follow the extractor's
LocationKind (etl.extract.location).
"""

from __future__ import annotations

import polars as pl

from etl.extract.base import (
    RECORD_NO,
    ExtractChunk,
    empty_filtered,
    empty_rejects,
    filter_schema,
    reject_schema,
)
from etl.extract.location import BYTES, Location, LocationKind


def records_frame(
    field_schema: dict[str, pl.DataType],
    columns: dict[str, pl.Series],
    kind: LocationKind = BYTES,
) -> pl.DataFrame:
    """RECORD_NO, the location columns and the fields, cast to their types (empty when no
    columns)."""
    schema: dict[str, pl.DataType] = {RECORD_NO: pl.Int64(), **kind.record_schema}
    schema |= field_schema
    if not columns:
        return pl.DataFrame(schema=schema)
    return pl.DataFrame([columns[name].alias(name) for name in schema]).cast(schema)  # type: ignore[arg-type]


def empty_chunk(
    source: str, records: pl.DataFrame, findings: pl.DataFrame, kind: LocationKind = BYTES
) -> ExtractChunk:
    """The one chunk of an empty file: the schema and the findings still travel."""
    return ExtractChunk(source, 0, records, empty_rejects(kind), empty_filtered(kind), findings)


class SetAside:
    """The rejected and filtered records of one block, in the order they are found."""

    __slots__ = ("_filter_schema", "_filtered", "_kind", "_reject_schema", "_rejects", "_source")

    def __init__(self, source: str, kind: LocationKind = BYTES) -> None:
        self._source = source
        self._kind = kind
        self._reject_schema = reject_schema(kind)
        self._filter_schema = filter_schema(kind)
        self._rejects: dict[str, list[object]] = {k: [] for k in self._reject_schema}
        self._filtered: dict[str, list[object]] = {k: [] for k in self._filter_schema}

    def _located(self, at: Location) -> tuple[object, ...]:
        if at.kind is not self._kind:
            raise TypeError(f"a {at.kind.name} location in a file located by {self._kind.name}")
        return at.values()

    def reject(self, record_no: int, at: Location, item: str, reason: str, raw: bytes) -> None:
        row = (self._source, record_no, *self._located(at), item, reason, raw.hex())
        for k, v in zip(self._reject_schema, row, strict=True):
            self._rejects[k].append(v)

    def filter_out(self, record_no: int, at: Location, reason: str) -> None:
        row = (self._source, record_no, *self._located(at), reason)
        for k, v in zip(self._filter_schema, row, strict=True):
            self._filtered[k].append(v)

    def frames(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(rejects, filtered), each in record order whatever order the records were found in."""
        return (
            pl.DataFrame(self._rejects, schema=self._reject_schema).sort(
                "record_no", maintain_order=True
            ),
            pl.DataFrame(self._filtered, schema=self._filter_schema).sort(
                "record_no", maintain_order=True
            ),
        )
