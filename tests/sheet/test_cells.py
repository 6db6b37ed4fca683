"""Cell values as the clerk sees them: the vectorised conversion agrees with a plain reading of
each value, whatever mixture of kinds a column holds (hypothesis)."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.extract import FieldType
from etl.extract.sheet.cells import Kind, field_text, read_column

VALUES = st.one_of(
    st.text(max_size=6),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e20, max_value=1e20),
    st.integers(min_value=-(10**12), max_value=10**12).map(float),
    st.booleans(),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31)),
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2099, 12, 31)),
)


def _seen(value: object) -> str:
    """What Excel shows for a value, written out one value at a time."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value == int(value) and abs(value) < 2**53:
            return str(int(value))
        return repr(float(f"{value:.15g}"))  # 15 significant digits of the binary value
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.strftime("%Y%m%d")
        return value.strftime("%Y/%m/%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y%m%d")
    assert isinstance(value, str)
    return value


@settings(max_examples=300, deadline=None)
@given(st.lists(VALUES, max_size=40))
def test_a_column_reads_as_each_value_would(values: list[object]) -> None:
    column = read_column(values)
    assert column.text.to_list() == [_seen(v) for v in values]
    empty = [isinstance(v, str) and v == "" for v in values]
    assert ((column.kinds == Kind.EMPTY) == np.array(empty, dtype=bool)).all()


@settings(max_examples=200, deadline=None)
@given(st.lists(VALUES, max_size=30))
def test_findings_only_where_the_kind_does_not_fit(values: list[object]) -> None:
    column = read_column(values)
    _, digits = field_text(column, FieldType.DIGITS)
    numbers = [i for i, v in enumerate(values) if isinstance(v, float)]
    assert [p.rows.tolist() for p in digits] == ([numbers] if numbers else [])
    _, text = field_text(column, FieldType.TEXT)
    assert text == []
    _, dates = field_text(column, FieldType.DATE)
    as_text = [i for i, v in enumerate(values) if isinstance(v, str) and v != ""]
    rules = {p.rule: p.rows.tolist() for p in dates}
    assert rules.get("sheet.date_as_text", []) == as_text
    assert rules.get("sheet.date_as_number", []) == numbers
