"""Decode every field of a block of fixed-width data records, one field per task on a thread pool.

Text fields go through etl.extract.decode, zoned and packed decimals through etl.extract.numeric;
every bad byte is kept with its record and field so the record can be rejected with a reason.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache, partial

import numpy as np
import polars as pl
from numpy.typing import NDArray

from etl.extract.decode import BadBytes, check_digits, decode_field
from etl.extract.fixed_width_plan import Plan
from etl.extract.numeric import decode_packed, decode_zoned, number_dtype, packed_digits
from etl.extract.profile import FieldType, SourceField, SourceFile

_FieldResult = tuple[pl.Series, tuple[BadBytes, ...]]


def field_schema(source: SourceFile) -> dict[str, pl.DataType]:
    """What each field decodes to: Int64 for zoned and packed decimals (an exact Decimal with an
    implied scale), String otherwise."""
    schema: dict[str, pl.DataType] = {}
    for f in source.fields:
        length = f.length or 0
        if f.type is FieldType.PACKED:
            schema[f.name] = number_dtype(packed_digits(length), f.scale)
        elif f.type is FieldType.ZONED:
            schema[f.name] = number_dtype(length, f.scale)
        else:
            schema[f.name] = pl.String()
    return schema


def decode_fields(
    data: NDArray[np.uint8], plan: Plan
) -> tuple[dict[str, pl.Series], dict[int, list[tuple[str, BadBytes]]]]:
    """(column per field, bad bytes per record row as (field name, problem))."""
    columns: dict[str, pl.Series] = {}
    bad: dict[int, list[tuple[str, BadBytes]]] = {}
    fields = plan.source.fields
    results = _field_threads().map(partial(_decode_one, data, plan), fields)
    for f, (values, problems) in zip(fields, results, strict=True):
        columns[f.name] = values.alias(f.name)
        for p in problems:
            bad.setdefault(p.row, []).append((f.name, p))
    return columns, bad


@lru_cache(maxsize=1)
def _field_threads() -> ThreadPoolExecutor:
    # Most of a field's decoding is numpy and pyarrow work that releases the GIL, so fields
    # decoded on two threads overlap well; only bytes.decode itself is serial.
    return ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1), thread_name_prefix="decode")


def _decode_one(data: NDArray[np.uint8], plan: Plan, f: SourceField) -> _FieldResult:
    off, length = f.offset or 0, f.length or 0
    if f.type is FieldType.TEXT:
        col = decode_field(data, off, length, plan.codec)
        return col.values, col.bad
    if f.type is FieldType.DIGITS:
        col = check_digits(data, off, length)
        return col.values, col.bad
    raw = data[:, off : off + length]
    nums = (
        decode_packed(raw, f.scale)
        if f.type is FieldType.PACKED
        else decode_zoned(raw, plan.zoned, f.scale)
    )
    kind = "packed" if f.type is FieldType.PACKED else f"zoned ({plan.zoned.value})"
    problems = tuple(
        BadBytes(
            row,
            off + col,
            bytes(raw[row, col : col + 1]),
            f"invalid {kind} decimal byte 0x{raw[row, col]:02X}",
        )
        for row, col in zip(
            np.flatnonzero(nums.invalid).tolist(),
            nums.bad_byte[nums.invalid].tolist(),
            strict=True,
        )
    )
    return nums.values, problems
