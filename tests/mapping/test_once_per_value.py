"""once_per_value: a concat of one field's parts, evaluated per distinct value, gives what
evaluating it on every row gives."""

from __future__ import annotations

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from etl.mapping.transforms.sources import once_per_value
from etl.text import strip_spaces

zips = st.one_of(
    st.none(),
    st.sampled_from(["982-0618", " 982-0470", "9820470", "-", "", "1-2-3", "　100-0001　"]),
    st.text(alphabet="0123456789- 　", max_size=10),
)
# the shape of 郵便番号 in mappings/vendor-a/juki.yaml: both sides of the hyphen, joined
parts = [
    strip_spaces(pl.col("zip")).str.splitn("-", index + 2).struct.field(f"field_{index}")
    for index in (0, 1)
]
ZIP = pl.concat_str([p.replace("", None) for p in parts], separator="", ignore_nulls=True)


@given(
    values=st.one_of(
        st.lists(zips, max_size=60),
        # repeated values, so the per-distinct path (not the every-row one) is taken
        st.lists(zips, min_size=1, max_size=5).flatmap(
            lambda few: st.lists(st.sampled_from(few), min_size=20, max_size=200)
        ),
    )
)
def test_once_per_value_is_every_row(values: list[str | None]) -> None:
    frame = pl.DataFrame(
        {"zip": values, "other": range(len(values))}, schema_overrides={"zip": pl.String}
    )
    every_row = frame.select(ZIP.alias("z")).to_series().to_list()
    once = frame.select(once_per_value(ZIP, "zip").alias("z")).to_series().to_list()
    assert once == every_row


def test_an_integer_field() -> None:
    frame = pl.DataFrame({"n": [1, None, 1, 2] * 10})
    expr = pl.concat_str([pl.col("n").cast(pl.String), pl.lit("x")], ignore_nulls=True)
    assert (
        frame.select(once_per_value(expr, "n")).to_series().to_list()
        == frame.select(expr).to_series().to_list()
    )


def test_a_field_named_like_the_helpers_columns() -> None:
    for name in ("value", "converted"):
        frame = pl.DataFrame({name: ["a-1", "b-2", "a-1", None] * 10})
        expr = pl.concat_str([pl.col(name).str.slice(0, 1), pl.lit("!")])
        assert (
            frame.select(once_per_value(expr, name)).to_series().to_list()
            == frame.select(expr).to_series().to_list()
        )
