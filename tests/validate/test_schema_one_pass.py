"""The one-pass schema checks of a chunk give exactly pandera's findings (SchemaChecks).

``SchemaChecks.findings`` evaluates every check in one polars query; ``pandera_findings`` lets
pandera run each check, as every chunk was checked before. Random frames with random violations
of every check kind (桁数, pattern, code table, required, dtype) must come out the same: the same
rows, in the same order, with the same text.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from etl.findings import FINDING_SCHEMA
from etl.layout.model import CodeTable, Item, ItemType, Layout, Provenance, RecordFile
from etl.layout.types import CALENDAR_DATE_PATTERN, REGISTRY_DATE_PATTERN
from etl.validate import SchemaChecks, schema
from etl.validate.checks import _count_at_most, _date_test, _digit_count, _digit_test

KUBUN = CodeTable("kubun", "区分コード", {"1": "甲", "2": "乙", "10": "丙"})
RF = RecordFile(
    "t",
    "テスト",
    (
        Item("番号", ItemType.DIGITS, 4, required=True),
        Item("氏名", ItemType.TEXT, 3, sensitive=True),
        Item("区分", ItemType.CODE, 2, required=True, code_table="kubun"),
        Item("日付", ItemType.DATE, 8),
        Item("記録日", ItemType.REGISTRY_DATE, 8, required=True),
        Item("額", ItemType.INTEGER, 3),
        Item("率", ItemType.DECIMAL, 4, scale=2),
        Item("個人番号", ItemType.DIGITS, 12, sensitive=True),
    ),
    key=("番号", "区分"),
)
LAYOUT = Layout("t", "テスト", "2.1", (RF,), Provenance("authored"), {"kubun": KUBUN})

# characters that break one check or another: other digits, signs, points, control characters
NOISE = "0123456789-./ a１٣\n\x00漢"


def values(*samples: str) -> st.SearchStrategy[str | None]:
    return st.one_of(
        st.none(),
        st.sampled_from(["", *samples]),
        st.text(alphabet=NOISE, max_size=14),
        st.text(max_size=4),  # any character at all
    )


ROW = st.fixed_dictionaries(
    {
        "番号": values("1", "0001", "12345"),
        "氏名": values("山田", "山田太郎"),
        "区分": values("1", "2", "10", "3", "01"),
        "日付": values("20200229", "20190229", "20190230", "00010101", "00000101", "2019023"),
        "記録日": values("19500000", "19501200", "20190229", "00000000", "19501300"),
        "額": values("-1", "999", "-999", "1000", "-", "+1", "1.0"),
        "率": values("1.00", "-99.99", "100.00", "1.0", "1", ".10", "-.10"),
        "個人番号": values("123456789012", "1234567890123"),
    }
)


def frame_of(rows: list[dict[str, Any]], record_nos: list[int]) -> pl.DataFrame:
    return pl.DataFrame(
        {name: [r[name] for r in rows] for name in RF.item_names},
        schema=dict.fromkeys(RF.item_names, pl.String),
    ).with_columns(
        pl.Series("_record_no", record_nos, dtype=pl.Int64),
        pl.lit("t.dat", pl.String).alias("_source"),
    )


def assert_same(found: pl.DataFrame, expected: pl.DataFrame) -> None:
    assert found.schema == pl.Schema(FINDING_SCHEMA)
    assert found.schema == expected.schema
    assert found.rows() == expected.rows()  # same rows, same order, same text


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(ROW, max_size=12),
    offset=st.integers(min_value=0, max_value=10**6),
    key=st.booleans(),
    order=st.randoms(use_true_random=False),
)
def test_one_pass_gives_pandera_findings(
    rows: list[dict[str, Any]], offset: int, key: bool, order: Any
) -> None:
    frame = frame_of(rows, [offset + 2 * i for i in range(len(rows))])
    columns = frame.columns
    order.shuffle(columns)  # the column order is no part of the schema
    frame = frame.select(columns)
    checks = SchemaChecks(LAYOUT, RF, key=key)
    assert_same(checks.findings(frame), checks.pandera_findings(frame))


def test_a_conforming_frame_is_checked_without_pandera(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pandera(*_: object) -> None:
        raise AssertionError("pandera ran")

    monkeypatch.setattr(schema, "_failure_cases", no_pandera)
    rows = [dict.fromkeys(RF.item_names, "x")] * 2
    found = SchemaChecks(LAYOUT, RF).findings(frame_of(rows, [1, 2]))
    assert "schema.type" in found["rule"].to_list()
    assert "schema.key_unique" in found["rule"].to_list()


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(ROW, min_size=1, max_size=6), data=st.data())
def test_a_frame_that_does_not_conform_is_worded_by_pandera(
    rows: list[dict[str, Any]], data: st.DataObject
) -> None:
    frame = frame_of(rows, list(range(1, len(rows) + 1)))
    column = data.draw(st.sampled_from(frame.columns))
    change = data.draw(st.sampled_from(["drop", "extra", "dtype", "null"]))
    if change == "drop":
        frame = frame.drop(column)
    elif change == "extra":
        frame = frame.with_columns(pl.lit("x").alias("余分"))
    elif change == "dtype":
        other = pl.Categorical if frame.schema[column] == pl.String else pl.Int32
        frame = frame.with_columns(pl.col(column).cast(other))
    else:
        frame = frame.with_columns(pl.lit(None, frame.schema[column]).alias(column))
    checks = SchemaChecks(LAYOUT, RF)
    found = checks.findings(frame)
    assert_same(found, checks.pandera_findings(frame))
    if change != "null" or column == "_record_no":  # a schema-level problem, as pandera says
        assert "schema.check_error" in found["rule"].to_list()


@pytest.mark.parametrize(
    "frame",
    [
        pl.DataFrame(schema={**dict.fromkeys(RF.item_names, pl.String), "_record_no": pl.Int64}),
        pl.DataFrame({"番号": ["1"]}),
        pl.DataFrame(),
    ],
    ids=["empty-without-source", "one-column", "no-columns"],
)
def test_missing_columns_as_before(frame: pl.DataFrame) -> None:
    checks = SchemaChecks(LAYOUT, RF)
    found = checks.findings(frame)
    assert_same(found, checks.pandera_findings(frame))
    assert set(found["rule"]) == {"schema.check_error"}


LONG = "1" * 18, "-" + "9" * 17, "+" + "1" * 17, "1" * 19, "-" + "1" * 18, "1" * 25, "1" * 24 + "a"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(alphabet=NOISE, max_size=6),
            st.text(max_size=3),
            st.text(alphabet=NOISE + "+", min_size=17, max_size=21),  # parsed, or too long
            st.sampled_from(LONG),
        )
    )
)
@example(["+5", "-0", "--5", "+", "-", " 5", "5 ", "1e5", "0x1", "1_0", "٣", "-+5", *LONG])
def test_digit_patterns_match_as_their_regex(texts: list[str | None]) -> None:
    frame = pl.DataFrame({"v": texts}, schema={"v": pl.String})
    for pattern in ("[0-9]+", "-?[0-9]+"):
        test = _digit_test(pl.col("v"), pattern)
        assert test is not None
        got = frame.select(test).to_series().to_list()
        regex = frame.select(pl.col("v").str.contains(f"^(?:{pattern})$")).to_series()
        assert got == regex.to_list()
        # Python's re as a third opinion (\Z: no newline allowed at the end)
        assert got == [None if t is None else bool(re.match(f"(?:{pattern})\\Z", t)) for t in texts]


def _is_calendar_date(text: str) -> bool:
    if not (len(text) == 8 and text.isascii() and text.isdigit()):
        return False
    try:
        return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:])).year >= 1
    except ValueError:
        return False


def _is_registry_date(text: str) -> bool:
    if text == "00000000" or _is_calendar_date(text):
        return True
    if not (len(text) == 8 and text.isascii() and text.isdigit()) or text[:4] == "0000":
        return False
    month, day = int(text[4:6]), int(text[6:])
    return (month, day) == (2, 29) or (day == 0 and month <= 12)


DIGIT8 = st.text(alphabet="0123456789", min_size=8, max_size=8)
DATES = st.lists(
    st.one_of(
        st.none(),
        DIGIT8,  # any year, month and day, 00 and 29 Feb of every kind of year among them
        st.builds(
            lambda y, md: f"{y:04d}{md}",
            st.integers(0, 9999),
            st.sampled_from(
                ["0229", "0228", "0230", "0000", "0100", "1200", "1300", "0431", "0131", "1232"]
            ),
        ),
        st.builds(
            lambda p, d: p + d[len(p) :], st.sampled_from(["+", "-", " ", "１", "٣"]), DIGIT8
        ),
        st.text(alphabet=NOISE + "+", min_size=7, max_size=9),
        st.text(max_size=8),
    )
)


@settings(max_examples=300, deadline=None)
@given(DATES)
@example(["+0010101", "+0200229", "-0010101", " 0010101", "0010101\n", "00000229", "19000229"])
def test_date_test_matches_the_calendar_regex(texts: list[str | None]) -> None:
    frame = pl.DataFrame({"v": texts}, schema={"v": pl.String})
    for item_type, pattern, oracle in (
        (ItemType.DATE, CALENDAR_DATE_PATTERN, _is_calendar_date),
        (ItemType.REGISTRY_DATE, REGISTRY_DATE_PATTERN, _is_registry_date),
    ):
        got = frame.select(_date_test(pl.col("v"), Item("v", item_type, 8))).to_series()
        # null and every value that is not 8 characters fail: the check passes them before
        eight = pl.col("v").str.len_chars() == 8
        regex = frame.filter(eight).select(pl.col("v").str.contains(f"^(?:{pattern})$"))
        assert got.filter(frame.select(eight).to_series()).to_list() == regex.to_series().to_list()
        assert got.to_list() == [t is not None and oracle(t) for t in texts]  # Python's date


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), st.text(alphabet=NOISE + "ｶ𠮷", max_size=8), st.text(max_size=5))
    ),
    st.sampled_from([ItemType.TEXT, ItemType.DIGITS, ItemType.INTEGER, ItemType.DECIMAL]),
    st.integers(min_value=0, max_value=9),
)
def test_count_at_most_counts_as_the_digit_count(
    texts: list[str | None], item_type: ItemType, limit: int
) -> None:
    item = Item("v", item_type, limit, scale=2 if item_type is ItemType.DECIMAL else 0)
    frame = pl.DataFrame({"v": texts}, schema={"v": pl.String})
    got = frame.select(_count_at_most(item, pl.col("v"))).to_series().to_list()
    assert got == frame.select(_digit_count(item, pl.col("v")) <= limit).to_series().to_list()
    # Python's count: characters, less a leading sign and a decimal point for a number
    numeric = item_type in (ItemType.INTEGER, ItemType.DECIMAL)
    expected = [
        None
        if t is None
        else len(t) - (numeric and t.startswith("-")) - (item_type is ItemType.DECIMAL and "." in t)
        <= limit
        for t in texts
    ]
    assert got == expected
