"""etl.hash_counts against counting the values one by one."""

from __future__ import annotations

from collections import Counter

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from etl.hash_counts import once, repeated

# few distinct values, so repeats are common; None stands for a missing digest
values = st.lists(st.one_of(st.none(), st.integers(0, 6), st.just(2**64 - 1)), max_size=40)


@given(values)
def test_repeated_and_once_count_like_a_counter(data: list[int | None]) -> None:
    hashes = pl.Series("h", data, dtype=pl.UInt64)
    counts = Counter(v for v in data if v is not None)
    assert sorted(repeated(hashes).to_list()) == sorted(v for v, n in counts.items() if n > 1)
    assert sorted(once(hashes).to_list()) == sorted(v for v, n in counts.items() if n == 1)
