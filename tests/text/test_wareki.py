"""etl.text.wareki: era table, scalar and vectorised 和暦 ↔ 西暦."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.errors import LayoutError
from etl.resources import data_dir
from etl.text import (
    EraTable,
    WarekiError,
    is_known_era,
    load_eras,
    seireki_to_wareki,
    to_seireki,
    to_wareki,
    wareki_to_registry_date,
    wareki_to_seireki,
)

ERAS = load_eras()
FIRST, LAST = date(1873, 1, 1), date(2100, 12, 31)
dates = st.dates(min_value=FIRST, max_value=LAST)


def ymd(d: date) -> str:
    return f"{d.year:04d}{d.month:02d}{d.day:02d}"


def roundtrip_frame(values: Sequence[str | None]) -> pl.DataFrame:
    """seireki → wareki → seireki through the expressions, keeping every step as a column."""
    return (
        pl.DataFrame({"s": list(values)}, schema={"s": pl.String})
        .with_columns(w=seireki_to_wareki(pl.col("s"), ERAS))
        .with_columns(
            back=wareki_to_seireki(pl.col("w").str.slice(0, 2), pl.col("w").str.slice(2), ERAS)
        )
    )


# --- reference implementations for "scalar and vectorised agree" -------------------------------


def scalar_w2s(era: str | None, yymmdd: str | None) -> str | None:
    if era is None or yymmdd is None or not re.fullmatch(r"[0-9]{6}", yymmdd):
        return None
    try:
        d = to_seireki(era, int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:]), ERAS)
    except WarekiError:
        return None
    return ymd(d)


def scalar_s2w(s: str | None) -> str | None:
    if s is None or not re.fullmatch(r"[0-9]{8}", s):
        return None
    try:
        d = date(int(s[:4]), int(s[4:6]), int(s[6:]))
        code, y, m, dd = to_wareki(d, ERAS)
    except (ValueError, WarekiError):  # WarekiError is a ValueError too
        return None
    return f"{code}{y:02d}{m:02d}{dd:02d}" if y <= 99 else None


# --- the era table ------------------------------------------------------------------------------


def test_era_table_is_data_with_computed_ends() -> None:
    rows = [(e.code, e.name, e.first_year, e.start, e.end) for e in ERAS.eras]
    assert rows == [
        # the 改元日 is also the old era's last day (明治45年7月30日 = 大正元年7月30日)
        ("01", "明治", 1868, date(1873, 1, 1), date(1912, 7, 30)),
        ("02", "大正", 1912, date(1912, 7, 30), date(1926, 12, 25)),
        ("03", "昭和", 1926, date(1926, 12, 25), date(1989, 1, 7)),
        ("04", "平成", 1989, date(1989, 1, 8), date(2019, 4, 30)),
        ("05", "令和", 2019, date(2019, 5, 1), None),
    ]
    assert ERAS.as_frame().columns == ["code", "name", "first_year", "start", "end"]
    assert load_eras() is ERAS  # cached


def test_era_codes_are_marked_authored() -> None:
    doc = yaml.safe_load((data_dir("layouts") / "eras.yaml").read_text(encoding="utf-8"))
    assert doc["authored"] is True
    assert "facts.md §4.2" in doc["note"]


def test_by_code_unknown_raises_key_error() -> None:
    assert ERAS.by_code("04").name == "平成"
    with pytest.raises(KeyError, match="'09'"):
        ERAS.by_code("09")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("eras: []\n", r"eras \(line 1\): List should have at least 1 item"),
        ("eras:\n  - {code: 1, name: x, start: 2000-01-01}\n", r"eras\[0\]\.code .*quote codes"),
        ("eras:\n  - {code: '001', name: x, start: 2000-01-01}\n", r"eras\[0\]\.code .*0-9"),
        ("eras:\n  - {code: '01', name: x}\n", r"eras\[0\]\.start \(line 2\): required key"),
        ("eras:\n  - {code: '01', name: x, start: 2000-02-30}\n", "'2000-02-30' is not a valid"),
        ("eras:\n  - {code: '01', name: x, start: '2000-13-01'}\n", r"eras\[0\]\.start .*date"),
        (
            "eras:\n  - {code: '01', name: a, start: 2000-01-01}\n"
            "  - {code: '01', name: b, start: 2001-01-01}\n",
            "duplicate",
        ),
        (
            "eras:\n  - {code: '01', name: a, start: 2001-01-01}\n"
            "  - {code: '02', name: b, start: 2000-01-01}\n",
            "chronological",
        ),
        (
            "eras:\n  - {code: '01', name: a, start: 2000-01-01, end: 2001-01-02}\n"
            "  - {code: '02', name: b, start: 2001-01-01}\n",
            r"eras\[0\]\.end .*next era's start 2001-01-01 or the day before",
        ),
        (
            "eras:\n  - {code: '01', name: a, start: 2000-01-01, end: 2000-12-30}\n"
            "  - {code: '02', name: b, start: 2001-01-01}\n",
            r"eras\[0\]\.end",
        ),
        (
            "eras:\n  - {code: '01', name: a, start: 2000-01-01, end: 2001-01-01}\n",
            r"eras\[0\]\.end .*open-ended",
        ),
        (
            "eras:\n  - {code: '01', name: a, start: 2000-01-01, kizon_code: '1'}\n"
            "  - {code: '02', name: b, start: 2001-01-01, kizon_code: '1'}\n",
            r"eras\[1\]\.kizon_code .*duplicate",
        ),
        ("eras:\n  - {code: '01', name: a, start: 2000-01-01, kizon_code: '01'}\n", "0-9"),
        ("eras: [\n", "invalid YAML"),
    ],
)
def test_bad_era_table_raises_layout_error(tmp_path: Path, body: str, reason: str) -> None:
    path = tmp_path / "eras.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(LayoutError, match=reason) as info:
        load_eras(path)
    assert info.value.path == path


# --- boundaries and invalid dates ---------------------------------------------------------------

BOUNDARIES = [
    (date(2000, 2, 29), ("04", 12, 2, 29)),  # 2000 is a leap year
    (date(1873, 1, 1), ("01", 6, 1, 1)),
    (date(1912, 7, 29), ("01", 45, 7, 29)),
    (date(1912, 7, 30), ("02", 1, 7, 30)),
    (date(1926, 12, 24), ("02", 15, 12, 24)),
    (date(1926, 12, 25), ("03", 1, 12, 25)),
    (date(1989, 1, 7), ("03", 64, 1, 7)),
    (date(1989, 1, 8), ("04", 1, 1, 8)),
    (date(2019, 4, 30), ("04", 31, 4, 30)),
    (date(2019, 5, 1), ("05", 1, 5, 1)),
]


@pytest.mark.parametrize(("d", "wareki"), BOUNDARIES)
def test_era_boundaries(d: date, wareki: tuple[str, int, int, int]) -> None:
    assert to_wareki(d, ERAS) == wareki
    assert to_seireki(*wareki, ERAS) == d
    code, y, m, dd = wareki
    frame = roundtrip_frame([ymd(d)])
    assert frame.row(0) == (ymd(d), f"{code}{y:02d}{m:02d}{dd:02d}", ymd(d))


INVALID = [
    ("04", 31, 2, 30, "not a calendar date"),  # 平成31年2月30日
    ("04", 31, 5, 1, "令和元年5月1日"),  # after 平成 ended
    ("03", 64, 1, 8, "平成元年1月8日"),  # after 昭和 ended
    ("05", 1, 4, 30, "平成31年4月30日"),  # 令和1年4月30日, before 令和 began
    ("01", 5, 12, 2, "lunisolar"),  # 明治5年12月2日: last lunisolar day
    ("01", 1, 1, 1, "lunisolar"),  # 明治元年
    ("02", 1, 7, 29, "明治45年7月29日"),
    ("03", 1, 12, 24, "大正15年12月24日"),
    ("01", 45, 7, 31, "大正元年7月31日"),  # the 改元日 is in both eras, the day after is not
    ("02", 15, 12, 26, "昭和元年12月26日"),
    ("04", 31, 5, 0, "not a calendar date"),  # 日不詳 is a registry date, not a calendar one
    ("04", 0, 1, 8, "元年"),
    ("04", 1, 13, 1, "not a calendar date"),
    ("01", 33, 2, 29, "not a calendar date"),  # 1900 is not a leap year
    ("05", 82, 2, 29, "not a calendar date"),  # nor is 2100
    ("09", 1, 1, 1, "unknown era code .09."),
]


@pytest.mark.parametrize(("code", "y", "m", "d", "message"), INVALID)
def test_invalid_wareki_rejected(code: str, y: int, m: int, d: int, message: str) -> None:
    with pytest.raises(WarekiError, match=message):
        to_seireki(code, y, m, d, ERAS)
    assert scalar_w2s(code, f"{y:02d}{m:02d}{d:02d}") is None
    out = pl.select(wareki_to_seireki(pl.lit(code), pl.lit(f"{y:02d}{m:02d}{d:02d}"), ERAS))
    assert out.item() is None


@pytest.mark.parametrize(
    "value",
    [
        "20190230",
        "2019023",  # 7 digits: strptime(strict=False) alone accepted these
        "201902300",
        "18721231",
        "00000101",
        "2019-2-1",
        "",
        "２０１９０５０１",  # full-width digits: a Unicode \d would accept them
    ],
)
def test_invalid_seireki_rejected(value: str) -> None:
    assert pl.select(seireki_to_wareki(pl.lit(value), ERAS)).item() is None
    assert scalar_s2w(value) is None


def test_to_wareki_before_first_day() -> None:
    with pytest.raises(WarekiError, match="lunisolar"):
        to_wareki(date(1872, 12, 31), ERAS)


def test_era_year_over_99_is_null_in_ggyymmdd() -> None:
    frame = roundtrip_frame(["21171231", "21180101"])
    assert frame["w"].to_list() == ["05991231", None]


# --- round trips --------------------------------------------------------------------------------


def test_every_day_roundtrips_vectorised() -> None:
    days = pl.date_range(FIRST, LAST, "1d", eager=True)
    frame = roundtrip_frame(days.dt.strftime("%Y%m%d").to_list())
    assert frame["w"].null_count() == 0
    assert (frame["back"] == frame["s"]).all()


def test_every_day_roundtrips_scalar() -> None:
    d = FIRST
    while d <= LAST:
        assert to_seireki(*to_wareki(d, ERAS), ERAS) == d
        d += timedelta(days=1)


def test_every_wareki_yymmdd_agrees_with_scalar() -> None:
    # Every YYMMDD with month 00–13 and day 00–32 in every era: all the impossible dates too.
    rows = [
        (f"{g:02d}", f"{y:02d}{m:02d}{d:02d}")
        for g in range(1, 6)
        for y in range(100)
        for m in range(14)
        for d in range(33)
    ]
    frame = pl.DataFrame(rows, schema={"g": pl.String, "d": pl.String}, orient="row")
    got = frame.select(wareki_to_seireki(pl.col("g"), pl.col("d"), ERAS)).to_series().to_list()
    assert got == [scalar_w2s(g, d) for g, d in rows]


@given(dates)
def test_roundtrip_scalar(d: date) -> None:
    code, y, m, dd = to_wareki(d, ERAS)
    era = ERAS.by_code(code)
    assert era.start <= d and (era.end is None or d <= era.end)
    assert to_seireki(code, y, m, dd, ERAS) == d


@settings(max_examples=50)
@given(st.lists(dates, max_size=200))
def test_roundtrip_vectorised(ds: list[date]) -> None:
    values = [ymd(d) for d in ds]
    frame = roundtrip_frame(values)
    assert frame["back"].to_list() == values
    assert frame["w"].to_list() == [scalar_s2w(v) for v in values]


# --- scalar and vectorised agree on anything ----------------------------------------------------

codes = st.one_of(
    st.sampled_from(["01", "02", "03", "04", "05", "00", "06", "99", "4", " 4", "", "１"]),
    st.text(max_size=3),
    st.none(),
)
six = st.one_of(
    st.from_regex(r"\A[0-9]{6}\Z"),
    st.from_regex(r"\A[0-9]{2}(0[0-9]|1[0-3])[0-3][0-9]\Z"),  # mostly plausible months/days
    st.text(alphabet="0123456789 ０１-", max_size=8),
    st.text(max_size=8),
    st.none(),
)
eight = st.one_of(
    st.dates(min_value=date(1, 1, 1)).map(ymd),
    st.from_regex(r"\A(18|19|20|21)[0-9]{2}(0[0-9]|1[0-3])[0-3][0-9]\Z"),
    st.text(alphabet="0123456789 ０-", max_size=9),
    st.text(max_size=9),
    st.none(),
)


@settings(max_examples=60)
@given(st.lists(st.tuples(codes, six), max_size=100))
def test_wareki_to_seireki_agrees_with_scalar(rows: list[tuple[str | None, str | None]]) -> None:
    frame = pl.DataFrame(rows, schema={"g": pl.String, "d": pl.String}, orient="row")
    got = frame.select(wareki_to_seireki(pl.col("g"), pl.col("d"), ERAS)).to_series().to_list()
    assert got == [scalar_w2s(g, d) for g, d in rows]


@settings(max_examples=60)
@given(st.lists(eight, max_size=100))
def test_seireki_to_wareki_agrees_with_scalar(values: list[str | None]) -> None:
    got = roundtrip_frame(values)["w"].to_list()
    assert got == [scalar_s2w(v) for v in values]


def test_custom_table_is_used(tmp_path: Path) -> None:
    # Era facts come from the table passed in, not from code.
    path = tmp_path / "eras.yaml"
    path.write_text(
        "eras:\n  - {code: '10', name: A, start: 2000-01-01}\n"
        "  - {code: '20', name: B, start: 2000-03-01}\n",
        encoding="utf-8",
    )
    table = load_eras(path)
    assert isinstance(table, EraTable)
    assert to_wareki(date(2000, 2, 29), table) == ("10", 1, 2, 29)
    assert pl.select(seireki_to_wareki(pl.lit("20000301"), table)).item() == "20010301"


# --- the 改元日 in both notations, 既存住基 1-digit codes ---------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "day"),
    [
        (("01", 45, 7, 30), ("02", 1, 7, 30), date(1912, 7, 30)),  # 明治45年7月30日 = 大正元年
        (("02", 15, 12, 25), ("03", 1, 12, 25), date(1926, 12, 25)),  # 大正15年12月25日 = 昭和元年
    ],
)
def test_change_day_reads_in_both_eras(
    old: tuple[str, int, int, int], new: tuple[str, int, int, int], day: date
) -> None:
    assert to_seireki(*old, ERAS) == to_seireki(*new, ERAS) == day
    assert to_wareki(day, ERAS) == new  # written back in the new era's notation
    frame = pl.DataFrame(
        {
            "g": [old[0], new[0]],
            "d": [f"{old[1]:02d}{old[2]:02d}{old[3]:02d}", f"{new[1]:02d}{new[2]:02d}{new[3]:02d}"],
        }
    )
    got = frame.select(wareki_to_seireki(pl.col("g"), pl.col("d"), ERAS)).to_series()
    assert got.to_list() == [ymd(day)] * 2


def test_kizon_one_digit_codes_read_like_two_digit_codes() -> None:
    rows = [(str(g), f"{g:02d}") for g in range(1, 6)]
    frame = pl.DataFrame({"one": [r[0] for r in rows], "two": [r[1] for r in rows]})
    one = frame.select(wareki_to_seireki(pl.col("one"), pl.lit("300101"), ERAS)).to_series()
    two = frame.select(wareki_to_seireki(pl.col("two"), pl.lit("300101"), ERAS)).to_series()
    assert one.to_list() == two.to_list()
    assert one.null_count() == 1  # 大正30年 does not exist; 明治, 昭和, 平成, 令和30年 do
    assert to_seireki("4", 1, 1, 8, ERAS) == date(1989, 1, 8)
    assert ERAS.by_code("4").code == "04"
    known = pl.DataFrame({"g": ["4", "04", "6", "06", " 4"]}).select(
        is_known_era(pl.col("g"), ERAS)
    )
    assert known.to_series().to_list() == [True, True, False, False, False]


# --- dates a 住民記録 holds that the calendar does not ------------------------------------------


def reference_registry(era: str, yymmdd: str) -> tuple[str | None, str | None]:
    """(date, form) by datetime: the scalar reference of wareki_to_registry_date."""
    calendar = scalar_w2s(era, yymmdd)
    if calendar is not None:
        return calendar, None
    try:
        e = ERAS.by_code(era)
    except KeyError:
        # 年月日不詳 needs no era code; a code that is there must be known
        return (
            ("00000000", "年月日不詳") if yymmdd == "000000" and not era.strip() else (None, None)
        )
    if yymmdd == "000000":
        return "00000000", "年月日不詳"
    y, m, d = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    year = e.first_year + y - 1
    end = e.end or date(9999, 12, 31)

    def overlaps(first: date, last: date) -> bool:
        return first <= end and last >= e.start

    if y < 1:
        return None, None
    if m == 0 and d == 0 and overlaps(date(year, 1, 1), date(year, 12, 31)):
        return f"{year:04d}0000", "月日不詳"
    if 1 <= m <= 12 and d == 0:
        last = (date(year + m // 12, m % 12 + 1, 1) - timedelta(days=1)) if year < 9999 else None
        if last is not None and overlaps(date(year, m, 1), last):
            return f"{year:04d}{m:02d}00", "日不詳"
    # 2月29日 of a common year sits between 2月28日 and 3月1日
    if m == 2 and d == 29 and e.start <= date(year, 2, 28) and date(year, 3, 1) <= end:
        return f"{year:04d}0229", "平年の2月29日"
    return None, None


def registry_rows(rows: list[tuple[str, str]]) -> list[tuple[str | None, str | None]]:
    frame = pl.DataFrame(rows, schema={"g": pl.String, "d": pl.String}, orient="row")
    out = frame.select(wareki_to_registry_date(pl.col("g"), pl.col("d"), ERAS).alias("r"))
    return out.unnest("r").rows()


def test_every_registry_yymmdd_agrees_with_reference() -> None:
    rows = [
        (f"{g:02d}", f"{y:02d}{m:02d}{d:02d}")
        for g in range(1, 6)
        for y in range(100)
        for m in range(14)
        for d in (0, 1, 28, 29, 30, 31, 32)
    ]
    assert registry_rows(rows) == [reference_registry(g, d) for g, d in rows]


@pytest.mark.parametrize(
    ("era", "yymmdd", "expected"),
    [
        ("03", "250000", ("19500000", "月日不詳")),
        ("03", "250300", ("19500300", "日不詳")),
        ("03", "260229", ("19510229", "平年の2月29日")),
        ("03", "270229", ("19520229", None)),  # 1952 is a leap year: a calendar date
        ("", "000000", ("00000000", "年月日不詳")),
        (None, "000000", ("00000000", "年月日不詳")),
        ("04", "000000", ("00000000", "年月日不詳")),
        ("09", "000000", (None, None)),  # an unknown era is still unknown
        ("04", "311300", (None, None)),  # no 13th month
        ("04", "000100", (None, None)),  # 平成0年
        ("05", "010400", (None, None)),  # 令和元年4月 is 平成
        ("05", "010500", ("20190500", "日不詳")),
        ("04", "310500", (None, None)),  # 平成31年5月 is 令和
        ("04", "310400", ("20190400", "日不詳")),
        ("01", "050000", (None, None)),  # 明治5年: lunisolar, before the first accepted day
        ("01", "060000", ("18730000", "月日不詳")),
        ("3", "250000", ("19500000", "月日不詳")),  # a 既存住基 1-digit code
    ],
)
def test_registry_forms(
    era: str | None, yymmdd: str, expected: tuple[str | None, str | None]
) -> None:
    frame = pl.DataFrame({"g": [era], "d": [yymmdd]}, schema={"g": pl.String, "d": pl.String})
    out = frame.select(wareki_to_registry_date(pl.col("g"), pl.col("d"), ERAS).alias("r"))
    assert out.unnest("r").row(0) == expected
    calendar = frame.select(wareki_to_seireki(pl.col("g"), pl.col("d"), ERAS)).item()
    assert calendar == (expected[0] if expected[1] is None else None)


@settings(max_examples=60)
@given(st.lists(st.tuples(codes, six), max_size=100))
def test_registry_dates_agree_with_reference(rows: list[tuple[str | None, str | None]]) -> None:
    got = registry_rows([(g, d) for g, d in rows])  # type: ignore[misc]
    want = [
        reference_registry(g or "", d)
        if d is not None and re.fullmatch(r"[0-9]{6}", d) and (g is not None or d == "000000")
        else (None, None)
        for g, d in rows
    ]
    assert got == want
