"""A lookup joined to a chunk through its index's key hashes gives the rows a plain left join of
the whole index gives (the oracle): same columns, same values, same order."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.extract import RECORD_NO
from etl.mapping import apply
from etl.mapping.apply import _join_lookup, _key_hash, lookup_index
from etl.mapping.model import LookupSpec

# few distinct values, so keys repeat, match and miss; padding, 外字 (private use), control
# characters and the empty string among them
values = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "0001", "0001 ", "\u3000山田", "\ue000", "a\x00b", "0"]),
    st.text(alphabet="01ｱ山\ue001 \t", max_size=4),
)
numbers = st.one_of(st.none(), st.integers(-3, 3), st.sampled_from([2**63 - 1, -(2**63)]))


def _oracle(primary: pl.DataFrame, index: pl.DataFrame, lk: LookupSpec) -> pl.DataFrame:
    return primary.join(
        index,
        left_on=[m for m, _ in lk.on],
        right_on=[f"{lk.name}.{t}" for _, t in lk.on],
        how="left",
        coalesce=False,
        maintain_order="left",
    )


def _frames(
    draw: st.DrawFn, keys: list[str], key_values: st.SearchStrategy[object]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    n_side = draw(st.integers(0, 40))
    n_primary = draw(st.integers(0, 40))
    dtype = pl.String if key_values is values else pl.Int64
    side = pl.DataFrame(
        {
            RECORD_NO: range(n_side),
            **{k: draw(st.lists(key_values, min_size=n_side, max_size=n_side)) for k in keys},
            "shimei": draw(st.lists(values, min_size=n_side, max_size=n_side)),
        },
        schema_overrides=dict.fromkeys(keys, dtype) | {"shimei": pl.String},
    )
    primary = pl.DataFrame(
        {
            RECORD_NO: range(n_primary),
            **{
                f"my_{k}": draw(st.lists(key_values, min_size=n_primary, max_size=n_primary))
                for k in keys
            },
        },
        schema_overrides={f"my_{k}": dtype for k in keys},
    )
    return side, primary


@st.composite
def cases(draw: st.DrawFn) -> tuple[LookupSpec, pl.DataFrame, pl.DataFrame]:
    keys = draw(st.sampled_from([["atena_no"], ["atena_no", "seq"]]))
    key_values = draw(st.sampled_from([values, numbers]))
    side, primary = _frames(draw, keys, key_values)
    lk = LookupSpec("head", "jumin", tuple((f"my_{k}", k) for k in keys))
    return lk, side, primary


@settings(max_examples=300, deadline=None)
@given(case=cases())
def test_hashed_join_is_the_plain_join(case: tuple[LookupSpec, pl.DataFrame, pl.DataFrame]) -> None:
    lk, side, primary = case
    index = lookup_index(lk, side, "juki")
    got = _join_lookup(primary, index)
    first = side.unique([t for _, t in lk.on], keep="first", maintain_order=True)
    renamed = first.select(pl.col(c).alias(f"head.{c}") for c in side.columns if c != RECORD_NO)
    oracle = _oracle(primary, renamed, lk)
    assert got.columns == oracle.columns
    assert got.to_dicts() == oracle.to_dicts()


def _weak_hash(keys: Sequence[str]) -> pl.Expr:
    return _key_hash(keys) % 2  # two values: nearly every key collides with others


@settings(max_examples=100, deadline=None)
@given(case=cases())
def test_colliding_hashes_lose_nothing_and_add_nothing(
    case: tuple[LookupSpec, pl.DataFrame, pl.DataFrame],
) -> None:
    lk, side, primary = case
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(apply, "_key_hash", _weak_hash)
        got = _join_lookup(primary, lookup_index(lk, side, "juki"))
    assert got.to_dicts() == _join_lookup(primary, lookup_index(lk, side, "juki")).to_dicts()


@settings(max_examples=200, deadline=None)
@given(case=cases(), weak=st.booleans())
def test_duplicated_lookup_keys_are_those_of_the_plain_test(
    case: tuple[LookupSpec, pl.DataFrame, pl.DataFrame], weak: bool
) -> None:
    lk, side, _ = case
    keys = [t for _, t in lk.on]
    with pytest.MonkeyPatch.context() as patch:
        if weak:
            patch.setattr(apply, "_key_hash", _weak_hash)
        index = lookup_index(lk, side, "juki")
    plain = side.filter(pl.struct(keys).is_duplicated())[RECORD_NO].to_list()
    assert index.findings["record_no"].to_list() == plain
    assert index.frame.height == side.select(keys).n_unique()
