"""Row-wise conversions of a column that repeats its values, done once per distinct value.

A name, code or 郵便番号 column holds far fewer distinct values than records (≈17k 氏名カナ, two
dozen 郵便番号 in 100k records): converting each distinct value once and joining the results back
costs less than converting every row, when the conversion costs more than a hash lookup.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

_VALUE, _CONVERTED = "value", "converted"


def per_distinct(
    values: pl.Series, convert: Callable[[pl.Series], pl.Series], *, most: float
) -> pl.Series:
    """``convert(values)`` for a row-wise ``convert``, computed on the distinct values and joined
    back (nulls matched); on every row when more than ``most`` of them are distinct.

    >>> per_distinct(pl.Series("s", ["a", "b", "a", None]), lambda v: v + "!", most=1.0).to_list()
    ['a!', 'b!', 'a!', None]
    """
    distinct = values.unique()
    if distinct.len() > most * values.len():
        return convert(values)
    # columns of their own names: the values' name may be anything a source field is called
    table = pl.DataFrame({_VALUE: distinct, _CONVERTED: convert(distinct)})
    joined = pl.DataFrame({_VALUE: values}).join(
        table, on=_VALUE, how="left", nulls_equal=True, maintain_order="left"
    )
    return joined[_CONVERTED].alias(values.name)
