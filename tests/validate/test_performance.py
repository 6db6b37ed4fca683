"""Guard against per-row Python creeping into validation: 1M rows must stay in seconds."""

from __future__ import annotations

import time

import polars as pl
import pytest

from etl.conditions import Subject, value_in
from etl.findings import Severity
from etl.validate import Compare, CompareOp, ExactlyOne, RuleSet, validate_layout

from .cases import JUKI

N = 1_000_000


def big_jumin(n: int) -> pl.DataFrame:
    i = pl.int_range(n, dtype=pl.Int64)
    # every 100th row carries one fault, in turn: no 氏名, bad code, impossible date, bad 金額
    fault = pl.when(i % 100 == 0).then(i // 100 % 4).otherwise(-1)
    return pl.select(
        i.cast(pl.String).str.zfill(15).alias("宛名番号"),
        (i // 3).cast(pl.String).str.zfill(15).alias("世帯番号"),
        pl.when(fault == 0).then(None).otherwise(pl.lit("山田太郎")).alias("氏名"),
        pl.when(fault == 1).then(pl.lit("7")).otherwise(pl.lit("1")).alias("性別"),
        pl.when(i % 3 == 0).then(pl.lit("02")).otherwise(pl.lit("04")).alias("続柄"),
        pl.when(fault == 2)
        .then(pl.lit("19800230"))
        .otherwise(pl.lit("19800101"))
        .alias("生年月日"),
        pl.lit("20100401").alias("住定日"),
        (i + 10**11).cast(pl.String).alias("個人番号"),
        pl.when(fault == 3).then(pl.lit("1,200")).otherwise(pl.lit("-1200")).alias("金額"),
        (i + 1).alias("_record_no"),
        pl.lit("jumin.dat").alias("_source"),
    )


@pytest.mark.slow
def test_one_million_rows_in_seconds() -> None:
    frame = big_jumin(N)
    one_head = ExactlyOne(
        "r1",
        Severity.ERROR,
        "jumin",
        "m",
        group_by=("世帯番号",),
        when=value_in(Subject.ITEM, "続柄", "02"),
    )
    birth = Compare(
        "r2", Severity.ERROR, "jumin", "m", left="生年月日", op=CompareOp.LE, right="住定日"
    )
    rules = RuleSet("juki", (one_head, birth))
    start = time.perf_counter()
    found = validate_layout(JUKI, {"jumin": frame}, rules)
    elapsed = time.perf_counter() - start
    assert found.height == N // 100
    # ~1.5 s measured on 2 cores; a per-row Python path would take minutes.
    assert elapsed < 20, elapsed
