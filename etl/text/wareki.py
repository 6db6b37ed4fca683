"""和暦 (年号 + YYMMDD) ↔ 西暦 (YYYYMMDD), scalar and as polars expressions.

The era table is data (layouts/eras.yaml): era dates and 年号コード values never live in code.
An impossible date (平成31年2月30日), a date outside its era (平成31年5月1日) or a 明治 date
before 1873-01-01 (lunisolar calendar) is rejected: WarekiError for the scalar functions, null
for the vectorised ones (the mapping stage rejects the record or keeps it empty, as the spec's
``on_invalid`` says, with a finding that tells an unknown era code from a day that does not exist).
The 改元日 is valid in both notations where the era table gives the old era that ``end``
(明治45年7月30日 = 大正元年7月30日), and a 既存住基 1-digit era code reads like its 2-digit code.

A 住民記録 also holds dates the calendar does not (年月日不詳, 月日不詳, 日不詳, 2月29日 of a common
year): ``wareki_to_registry_date`` returns them with 00 for the 不詳 parts and names their form,
so a ``registry_date`` item carries them and a ``date`` item reports that it cannot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache, partial
from pathlib import Path
from typing import Annotated, Self

import numpy as np
import polars as pl
from pydantic import Field, StringConstraints, model_validator

from etl.config import KeyProblem, StrictModel, errors_as, read_yaml
from etl.errors import LayoutError
from etl.resources import data_dir
from etl.text.utf8 import fixed_digits

# [0-9], not \d: the regex engine's \d also matches full-width digits.
_YYYYMMDD = r"^[0-9]{8}$"
_FMT = "%Y%m%d"


class WarekiError(ValueError):
    """A 和暦 or 西暦 date that cannot be converted (not a calendar date, outside its era …)."""


@dataclass(frozen=True, slots=True)
class Era:
    """One era (年号) of the era table."""

    code: str  # 2-digit 年号コード
    name: str  # 明治, 大正 …
    first_year: int  # Gregorian year of 元年
    start: date  # first valid day
    end: date | None  # last valid day (inclusive); None for the current era
    start_reason: str = ""  # why start is later than the era's real first day (明治)
    kizon_code: str | None = None  # 1-digit 既存住基 code, accepted on input

    def label(self, year: int, month: int, day: int) -> str:
        """Japanese rendering for messages: 平成元年1月8日."""
        nen = "元" if year == 1 else str(year)
        return f"{self.name}{nen}年{month}月{day}日"


@dataclass(frozen=True, slots=True)
class EraTable:
    """The eras in chronological order."""

    eras: tuple[Era, ...]

    def by_code(self, code: str) -> Era:
        """The era with 年号コード ``code`` (2-digit, or its 1-digit 既存住基 code); KeyError when
        unknown."""
        for era in self.eras:
            if code in (era.code, era.kizon_code):
                return era
        known = ", ".join(f"{e.code} ({e.name})" for e in self.eras)
        raise KeyError(f"{unknown_era_message(code)}; known: {known}")

    def at(self, d: date) -> Era:
        """The era that contains ``d``; WarekiError before the first supported day."""
        for era in reversed(self.eras):
            if d >= era.start:
                return era
        first = self.eras[0]
        reason = f": {first.start_reason}" if first.start_reason else ""
        raise WarekiError(f"{d.isoformat()} is before {first.start.isoformat()}{reason}")

    def aliases(self) -> dict[str, str]:
        """Every era code accepted on input → its 2-digit 年号コード."""
        codes = {e.code: e.code for e in self.eras}
        return codes | {e.kizon_code: e.code for e in self.eras if e.kizon_code is not None}

    def as_frame(self) -> pl.DataFrame:
        """One row per era: code, name, first_year, start, end."""
        return pl.DataFrame(
            {
                "code": [e.code for e in self.eras],
                "name": [e.name for e in self.eras],
                "first_year": [e.first_year for e in self.eras],
                "start": [e.start for e in self.eras],
                "end": [e.end for e in self.eras],
            },
            schema={
                "code": pl.String,
                "name": pl.String,
                "first_year": pl.Int32,
                "start": pl.Date,
                "end": pl.Date,
            },
        )


Year = Annotated[int, Field(ge=1, le=9999)]


class EraModel(StrictModel):
    """One era of layouts/eras.yaml."""

    code: Annotated[str, StringConstraints(pattern=r"^[0-9]{2}$")]  # 2-digit 年号コード
    name: Annotated[str, StringConstraints(min_length=1, max_length=20)]
    start: date  # first valid day (改元日), an unquoted YYYY-MM-DD (a datetime is refused)
    reckoning_start: Year | None = None  # Gregorian year of 元年 when not start's year (明治)
    start_reason: str = ""
    # last valid day when the registry also writes the next era's first day in this era's
    # notation (明治45年7月30日): the next era's start; by default the day before it
    end: date | None = None
    kizon_code: Annotated[str, StringConstraints(pattern=r"^[0-9]$")] | None = None

    @model_validator(mode="after")
    def _reckoning_not_after_start(self) -> Self:
        if self.reckoning_start is not None and self.reckoning_start > self.start.year:
            raise KeyProblem(
                ("reckoning_start",), f"{self.reckoning_start} is after start {self.start}"
            )
        return self


class EraFileModel(StrictModel):
    """``layouts/eras.yaml``: the eras in chronological order (docs/layouts.md)."""

    id: str = "nengo"
    name: str = ""
    authored: bool = True
    note: str = ""
    eras: Annotated[list[EraModel], Field(min_length=1)]

    @model_validator(mode="after")
    def _ordered_and_unique(self) -> Self:
        for i, era in enumerate(self.eras):
            if era.code in (e.code for e in self.eras[:i]):
                raise KeyProblem(("eras", i, "code"), f"duplicate 年号コード {era.code!r}")
            if era.kizon_code is not None and era.kizon_code in (
                e.kizon_code for e in self.eras[:i]
            ):
                raise KeyProblem(("eras", i, "kizon_code"), f"duplicate {era.kizon_code!r}")
            if era.end is not None:
                self._check_end(i, era.end)
            if i and era.start <= self.eras[i - 1].start:
                raise KeyProblem(
                    ("eras", i, "start"),
                    f"eras must be listed in chronological order of start: {era.start} is not "
                    f"after {self.eras[i - 1].start}",
                )
        return self

    def _check_end(self, i: int, end: date) -> None:
        """An era ends on the day before the next one starts or on that day itself (the 改元日
        in both notations): never earlier (days of no era) nor later."""
        at = ("eras", i, "end")
        if i + 1 == len(self.eras):
            raise KeyProblem(at, "the last era is open-ended: it has no end")
        start = self.eras[i + 1].start
        if end not in (start - timedelta(days=1), start):
            raise KeyProblem(at, f"{end} must be the next era's start {start} or the day before it")

    def to_table(self) -> EraTable:
        ends: list[date | None] = [
            e.end or nxt.start - timedelta(days=1)
            for e, nxt in zip(self.eras, self.eras[1:], strict=False)
        ]
        ends.append(None)
        return EraTable(
            eras=tuple(
                Era(
                    code=e.code,
                    name=e.name,
                    first_year=e.reckoning_start or e.start.year,
                    start=e.start,
                    end=end,
                    start_reason=e.start_reason,
                    kizon_code=e.kizon_code,
                )
                for e, end in zip(self.eras, ends, strict=True)
            )
        )


@lru_cache(maxsize=8)
def load_eras(path: Path | None = None) -> EraTable:
    """Read the era table (default: layouts/eras.yaml); cached per path."""
    path = path or data_dir("layouts") / "eras.yaml"
    with errors_as(LayoutError):
        return read_yaml(path, what="era table").parse(EraFileModel).to_table()


# --- messages ---------------------------------------------------------------------------------
# An unknown 年号コード and a day that does not exist are different mistakes with different fixes
# (the era table or code map vs. the vendor's data), so they are never given the same words.


def unknown_era_message(code: str) -> str:
    """``unknown era code '9'`` (CLI and exceptions, English)."""
    return f"unknown era code {code!r}"


UNKNOWN_ERA_JA = "年号コード {} は不明です"  # findings, for municipal staff; {} is the code
NOT_A_DATE_JA = "存在しない日付です"


# --- scalar -----------------------------------------------------------------------------------


def to_seireki(era_code: str, year: int, month: int, day: int, eras: EraTable) -> date:
    """和暦 → date; WarekiError when the date does not exist in that era.

    >>> to_seireki("04", 1, 1, 8, load_eras())
    datetime.date(1989, 1, 8)
    """
    try:
        era = eras.by_code(era_code)
    except KeyError as exc:
        raise WarekiError(exc.args[0]) from None
    label = era.label(year, month, day)
    if year < 1:
        raise WarekiError(f"{label}: year must be 1 (元年) or more")
    try:
        d = date(era.first_year + year - 1, month, day)
    except ValueError:
        raise WarekiError(f"{label} is not a calendar date") from None
    if d < era.start or (era.end is not None and d > era.end):
        first_last = (
            f"before the first accepted day of {era.name}, {era.start.isoformat()}"
            if d < era.start
            else f"after the last day of {era.name}, {era.end.isoformat() if era.end else ''}"
        )
        reason = f" ({era.start_reason})" if d < era.start and era.start_reason else ""
        raise WarekiError(f"{label} ({d.isoformat()}) is {first_last}{reason}{_hint(d, eras)}")
    return d


def _hint(d: date, eras: EraTable) -> str:
    try:
        code, y, m, dd = to_wareki(d, eras)
    except WarekiError:
        return ""
    return f"; that day is {eras.by_code(code).label(y, m, dd)}"


def to_wareki(d: date, eras: EraTable) -> tuple[str, int, int, int]:
    """date → (年号コード, year in era, month, day); WarekiError before the first era's start.

    >>> to_wareki(date(2019, 5, 1), load_eras())
    ('05', 1, 5, 1)
    """
    era = eras.at(d)
    return era.code, d.year - era.first_year + 1, d.month, d.day


# --- vectorised -------------------------------------------------------------------------------


def is_known_era(era: pl.Expr, eras: EraTable) -> pl.Expr:
    """True where ``era`` is a 年号コード of the table, 2-digit or 既存住基 1-digit (null stays
    null)."""
    return era.is_in(list(eras.aliases()))


def _is_real_date(ymd: pl.Expr) -> pl.Expr:
    # strptime(strict=False) alone accepted 7 digits ("2019023" → 2019-02-03); 8 digits plus a
    # round trip also guard against a parser that rolls 20190230 forward to March.
    parsed = ymd.str.strptime(pl.Date, _FMT, strict=False)
    return ymd.str.contains(_YYYYMMDD) & (parsed.dt.strftime(_FMT) == ymd)


# The dates a 住民記録 holds that the calendar does not (住民記録システム標準仕様書, facts.md §9):
# their form's name, as findings and the data dictionary say it. 不詳 parts are written as 00.
UNKNOWN_YMD = "年月日不詳"
UNKNOWN_MD = "月日不詳"
UNKNOWN_D = "日不詳"
COMMON_YEAR_LEAP_DAY = "平年の2月29日"
REGISTRY_DATE_FORMS = (UNKNOWN_YMD, UNKNOWN_MD, UNKNOWN_D, COMMON_YEAR_LEAP_DAY)
UNKNOWN_YMD_INPUT = "000000"  # 年月日不詳 as a 和暦 YYMMDD (with or without an era code)
UNKNOWN_YMD_VALUE = "00000000"


def wareki_to_seireki(era: pl.Expr, yymmdd: pl.Expr, eras: EraTable) -> pl.Expr:
    """2-digit (or 既存住基 1-digit) 年号コード + YYMMDD → "YYYYMMDD"; null when invalid or
    outside the era.

    Null also for a null/blank/non-6-digit date or an unknown code. Alias the result.

    >>> df = pl.DataFrame({"g": ["04", "4", "03"], "d": ["010108", "010108", "640108"]})
    >>> df.select(wareki_to_seireki(pl.col("g"), pl.col("d"), load_eras())).to_series().to_list()
    ['19890108', '19890108', None]
    """
    converted = wareki_to_registry_date(era, yymmdd, eras)
    calendar = converted.struct.field("form").is_null()
    return pl.when(calendar).then(converted.struct.field("date")).alias("date")


def wareki_to_registry_date(era: pl.Expr, yymmdd: pl.Expr, eras: EraTable) -> pl.Expr:
    """和暦 → a struct of ``date`` ("YYYYMMDD", 00 for 不詳 parts) and ``form`` (null for a
    calendar date, else one of REGISTRY_DATE_FORMS); both null when the date is invalid.

    >>> df = pl.DataFrame({"g": ["03", "03", "03", ""], "d": ["250000", "250300", "260229",
    ...     "000000"]})
    >>> out = df.select(wareki_to_registry_date(pl.col("g"), pl.col("d"), load_eras()))
    >>> out.unnest(out.columns[0]).rows()
    [('19500000', '月日不詳'), ('19500300', '日不詳'), ('19510229', '平年の2月29日'), \
('00000000', '年月日不詳')]
    """
    # Evaluated in one batch with staged columns: as a single nested expression polars
    # re-evaluated the shared parts (era lookup, slices, year) once per use — 10x slower.
    dtype = pl.Struct({"date": pl.String, "form": pl.String})
    return pl.struct(era.alias("era"), yymmdd.alias("ymd")).map_batches(
        partial(_wareki_batch, eras), return_dtype=dtype, is_elementwise=True
    )


def _wareki_batch(eras: EraTable, s: pl.Series) -> pl.Series:
    frame = s.struct.unnest()
    # Integer arithmetic on each row in numpy, read from the digits' bytes (not strptime on a
    # built string); the dates are written as bytes too. The calendar check is tested against
    # datetime.date on every day 1873–2100 and on random garbage.
    position = frame["era"].replace_strict(
        _era_positions(eras), default=None, return_dtype=pl.Int64
    )
    known = position.is_not_null().to_numpy()
    i = position.fill_null(0).to_numpy()
    n, six = fixed_digits(frame["ymd"], 6)
    first_year = np.array([e.first_year for e in eras.eras], dtype=np.int64)[i]
    start = np.array([_as_int(e.start) for e in eras.eras], dtype=np.int64)[i]
    # The current era has no end: 99999999 is after every 8-digit date.
    end = np.array([_as_int(e.end) if e.end else 99999999 for e in eras.eras], dtype=np.int64)[i]
    yy, mm, dd = n // 10000, n // 100 % 100, n % 100
    year = first_year + yy - 1
    value = year * 10000 + mm * 100 + dd
    dated = six & known & (yy >= 1)
    in_era = (start <= value) & (value <= end)
    leap_day = (mm == 2) & (dd == 29)
    common_year = (year % 4 != 0) | ((year % 100 == 0) & (year % 400 != 0))
    calendar = (
        dated
        & (dd >= 1)
        & (dd <= _MONTH_DAYS[np.clip(mm, 0, 13)])
        & ~(leap_day & common_year)
        & in_era
    )
    dates = (
        pl.DataFrame({"value": value, "calendar": calendar})
        .select(pl.when("calendar").then(_digits(eras)))
        .to_series()
    )
    forms = pl.repeat(None, len(s), dtype=pl.String, eager=True)
    others = np.flatnonzero(~calendar)
    if others.size:  # blank, invalid or a registry date (不詳, 平年の2月29日): the rare rows
        rest = frame[others].with_columns(
            known=pl.Series(known[others]),
            dated=pl.Series(dated[others]),
            **{
                name: pl.Series(column[others])
                for name, column in (
                    ("mm", mm),
                    ("dd", dd),
                    ("year", year),
                    ("value", value),
                    ("start", start),
                    ("end", end),
                )
            },
        )
        rest_dates, rest_forms = _registry_forms(rest, eras)
        positions = pl.Series(others)
        dates = dates.scatter(positions, rest_dates)
        forms = forms.scatter(positions, rest_forms)
    return pl.struct(dates.alias("date"), forms.alias("form"), eager=True).alias(s.name)


def _registry_forms(rows: pl.DataFrame, eras: EraTable) -> tuple[pl.Series, pl.Series]:
    """(date, form) of rows that are not calendar dates: a registry date or null for both."""
    dated = pl.col("dated")
    ym = pl.col("year") * 10000 + pl.col("mm") * 100
    in_era = pl.col("value").is_between(pl.col("start"), pl.col("end"))
    year_in_era = (pl.col("year") * 10000 + 1231 >= pl.col("start")) & (
        pl.col("year") * 10000 + 101 <= pl.col("end")
    )
    month_in_era = (ym + 31 >= pl.col("start")) & (ym + 1 <= pl.col("end"))
    leap_day = (pl.col("mm") == 2) & (pl.col("dd") == 29)
    # 年月日不詳 needs no era: a blank or known code with 000000
    unknown_all = (pl.col("ymd") == UNKNOWN_YMD_INPUT) & (
        pl.col("known") | pl.col("era").is_null() | (pl.col("era").str.strip_chars() == "")
    )
    form = (
        pl.when(unknown_all)
        .then(pl.lit(UNKNOWN_YMD))
        .when(dated & (pl.col("mm") == 0) & (pl.col("dd") == 0) & year_in_era)
        .then(pl.lit(UNKNOWN_MD))
        .when(dated & pl.col("mm").is_between(1, 12) & (pl.col("dd") == 0) & month_in_era)
        .then(pl.lit(UNKNOWN_D))
        .when(dated & leap_day & in_era)
        .then(pl.lit(COMMON_YEAR_LEAP_DAY))
        .otherwise(pl.lit(None, pl.String))
    )
    value = (
        pl.when(pl.col("_form") == UNKNOWN_YMD)
        .then(pl.lit(UNKNOWN_YMD_VALUE))
        .otherwise(_digits(eras))
    )
    out = rows.with_columns(_form=form).select(
        date=pl.when(pl.col("_form").is_not_null()).then(value),
        form=pl.col("_form"),
    )
    return out["date"], out["form"]


def _digits(eras: EraTable) -> pl.Expr:
    """The column ``value`` (YYYYMMDD as an integer) as text."""
    digits = pl.col("value").cast(pl.String)
    # Every output year is at or after the first era's start: 8 digits unless that is before 1000.
    return digits.str.zfill(8) if eras.eras[0].start.year < 1000 else digits


def _era_positions(eras: EraTable) -> dict[str, int]:
    """Every era code accepted on input (2-digit, 既存住基 1-digit) → the era's position."""
    positions = {e.code: i for i, e in enumerate(eras.eras)}
    return positions | {
        e.kizon_code: i for i, e in enumerate(eras.eras) if e.kizon_code is not None
    }


# days in each month, by month number clipped to 0–13: 0 for a month that does not exist; 2月29日
# of a common year is told apart from a calendar date by the year
_MONTH_DAYS = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 0], dtype=np.int64)


def _as_int(d: date) -> int:
    return d.year * 10000 + d.month * 100 + d.day


def seireki_to_wareki(yyyymmdd: pl.Expr, eras: EraTable) -> pl.Expr:
    """西暦 "YYYYMMDD" → "GGYYMMDD" (年号コード + YYMMDD); null when invalid or not representable.

    >>> df = pl.DataFrame({"d": ["19890107", "19890108", "20190230", "18721231"]})
    >>> df.select(seireki_to_wareki(pl.col("d"), load_eras())).to_series().to_list()
    ['03640107', '04010108', None, None]
    """
    # Nested when/otherwise over the few eras, oldest innermost: the newest era whose start is
    # not after the date wins; before the first era both stay null.
    code_expr = pl.lit(None, dtype=pl.String)
    year_expr = pl.lit(None, dtype=pl.Int32)
    for e in eras.eras:
        since = yyyymmdd >= pl.lit(e.start.strftime(_FMT))
        code_expr = pl.when(since).then(pl.lit(e.code)).otherwise(code_expr)
        year_expr = pl.when(since).then(pl.lit(e.first_year, dtype=pl.Int32)).otherwise(year_expr)
    yy = yyyymmdd.str.slice(0, 4).cast(pl.Int32, strict=False) - year_expr + 1
    ok = _is_real_date(yyyymmdd) & code_expr.is_not_null() & (yy <= 99)
    out = code_expr + yy.cast(pl.String).str.zfill(2) + yyyymmdd.str.slice(4, 4)
    return pl.when(ok).then(out).otherwise(pl.lit(None, dtype=pl.String))
