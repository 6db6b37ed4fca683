"""etl.text.utf8: the byte scans give what a per-character look at every value gives."""

from __future__ import annotations

import re

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from etl.text import SPACES, any_edge_space, any_private_use, strip_spaces
from etl.text.utf8 import fixed_digits

# The edges of every range the scans tell apart by their bytes: the BMP private-use area and the
# characters either side (U+F900 and the full-width forms share its lead byte EF), planes 15–16
# and their neighbours (an IVS selector U+E0101 shares the lead byte F3), the two spaces and the
# bytes of U+3000 inside other characters (〠 U+3020 is E3 80 A0, 耀 U+8000 is E8 80 80).
EDGES = (
    "\ue000\ue757\uefff\uf000\uf8f0\uf8ff\uf900\uff61\uffef\ufffd"
    "\U000e0101\U000effff\U000f0000\U000ffffd\U00100000\U0010fffd\U00020b9f"
    " \u3000\u3020\u8000\u3001a山ｱ\t\n"
)
# planes 15–16 as a whole (the scan's range: it does not single out the noncharacters at
# their ends, which the exact regex of has_pua leaves out)
PRIVATE = ((0xE000, 0xF8FF), (0xF0000, 0x10FFFF))
text = st.text(
    alphabet=st.one_of(st.sampled_from(EDGES), st.characters(exclude_categories=("Cs",))),
    max_size=12,
)
columns = st.lists(st.one_of(st.none(), text), max_size=40)


# values polars keeps outside their views (over 12 bytes) that every scan would notice
NOISY = (" \ue000\u3000\U000f0000\U00100000 ", "\u3000" * 5, "\ue000" * 5)


def series(values: list[str | None], cut: int) -> pl.Series:
    """The values as a String column; with ``cut``, as two chunks sliced off a longer one
    whose every other value was filtered away (so the views begin at an offset and the data
    buffers hold bytes outside the values)."""
    whole = pl.Series("s", values, dtype=pl.String)
    if not cut:
        return whole
    noisy = [NOISY[(cut + k) % len(NOISY)] for k in range(len(values) + 2)]
    interleaved = [v for pair in zip(noisy, [None, *values, None], strict=True) for v in pair]
    frame = pl.DataFrame({"s": interleaved, "keep": [k % 2 == 1 for k in range(len(interleaved))]})
    padded = frame.filter("keep")["s"]
    assert padded.to_arrow(compat_level=pl.CompatLevel.newest()).buffers()[2:] != []
    inner = padded.slice(1, len(values))
    head, tail = inner.slice(0, cut % (len(values) + 1)), inner.slice(cut % (len(values) + 1))
    joined = pl.concat([head, tail], rechunk=False)
    assert joined.to_list() == whole.to_list()
    return joined


def is_private(ch: str) -> bool:
    return any(lo <= ord(ch) <= hi for lo, hi in PRIVATE)


@given(values=columns, cut=st.integers(0, 50))
def test_any_private_use_is_a_look_at_every_character(values: list[str | None], cut: int) -> None:
    expected = any(is_private(ch) for v in values if v is not None for ch in v)
    assert any_private_use(series(values, cut)) is expected


@given(values=columns, cut=st.integers(0, 50))
def test_any_edge_space_is_what_stripping_changes(values: list[str | None], cut: int) -> None:
    expected = any(v != v.strip(SPACES) for v in values if v is not None)
    assert any_edge_space(series(values, cut)) is expected
    stripped = pl.select(strip_spaces(pl.lit(series(values, cut)))).to_series().to_list()
    assert stripped == [None if v is None else v.strip(SPACES) for v in values]


def test_empty_and_null_columns() -> None:
    for values in ([], [None], ["", None, ""]):
        column = pl.Series("s", values, dtype=pl.String)
        assert any_private_use(column) is False
        assert any_edge_space(column) is False


digits_like = st.one_of(
    st.from_regex(r"\A[0-9]{6}\Z"),
    st.text(alphabet="0123456789+-/: ０", min_size=5, max_size=7),
    text,
)


@given(values=st.lists(st.one_of(st.none(), digits_like), max_size=40), cut=st.integers(0, 50))
def test_fixed_digits_reads_exactly_six_ascii_digits(values: list[str | None], cut: int) -> None:
    numbers, ok = fixed_digits(series(values, cut), 6)
    wanted = [v is not None and re.fullmatch(r"[0-9]{6}", v) is not None for v in values]
    assert ok.tolist() == wanted
    assert numbers.tolist() == [
        int(v) if w and v else 0 for v, w in zip(values, wanted, strict=True)
    ]


@given(values=st.lists(st.from_regex(r"\A[0-9]{6}\Z"), max_size=40))
def test_fixed_digits_of_a_column_of_digits_only(values: list[str]) -> None:
    # every value six bytes: the bytes are read in place, not gathered
    numbers, ok = fixed_digits(pl.Series("s", values, dtype=pl.String), 6)
    assert ok.all() and numbers.tolist() == [int(v) for v in values]
