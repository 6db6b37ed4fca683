"""Property: schema findings agree with a slow, obvious row-by-row reference implementation."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.layout.model import CodeTable, Item, ItemType, Layout, Provenance, RecordFile
from etl.validate import schema_findings

KUBUN = CodeTable("kubun", "区分コード", {"1": "甲", "2": "乙"})
RF = RecordFile(
    "t",
    "テスト",
    (
        Item("番号", ItemType.DIGITS, 3, required=True),
        Item("日付", ItemType.DATE, 8),
        Item("額", ItemType.INTEGER, 2),
        Item("区分", ItemType.CODE, 1, required=True, code_table="kubun"),
        Item("氏名", ItemType.TEXT, 3, sensitive=True),
    ),
    key=("番号", "氏名"),
)
LAYOUT = Layout("t", "テスト", "2.1", (RF,), Provenance("authored"), {"kubun": KUBUN})

Row = tuple[str, int, str, str | None, str]


def mask(value: str) -> str:
    return "**" if len(value) <= 2 else "*" * (len(value) - 2) + value[-2:]


def is_date(value: str) -> bool:
    if not re.fullmatch("[0-9]{8}", value) or value.startswith("0000"):
        return False
    try:
        dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return False
    return True


def reference(rows: list[dict[str, str | None]], record_nos: list[int]) -> Counter[Row]:
    out: list[Row] = []

    def shown(item: Item, value: str | None) -> str | None:
        return mask(value) if value is not None and item.sensitive else value

    def key(row: dict[str, str | None]) -> str:
        return "|".join(shown(RF.item(k), row[k]) or "" for k in RF.key)

    for row, no in zip(rows, record_nos, strict=True):
        for item in RF.items:
            name, value = item.name, row[item.name]
            if value is None:
                if item.required:
                    out.append(("schema.required", no, name, None, f"{name}は必須項目です"))
                continue
            s = shown(item, value)
            if item.type is ItemType.DATE:
                if len(value) != 8:
                    msg = f"{name}の桁数が8桁ではありません（{len(value)}桁）"
                    out.append(("schema.digits", no, name, s, msg))
                elif not is_date(value):
                    msg = f"{name}「{s}」は正しい日付（西暦YYYYMMDD）ではありません"
                    out.append(("schema.date", no, name, s, msg))
            elif item.type is ItemType.CODE:
                if value not in KUBUN.values:
                    out.append(
                        ("schema.code", no, name, s, f"{name}「{s}」は区分コード表にありません")
                    )
            else:
                sign = item.type is ItemType.INTEGER and value.startswith("-")
                n = len(value) - sign
                if n > item.digits:
                    msg = f"{name}の桁数が{item.digits}桁を超えています（{n}桁）"
                    out.append(("schema.digits", no, name, s, msg))
            if item.type is ItemType.DIGITS and not re.fullmatch("[0-9]+", value):
                out.append(
                    ("schema.type", no, name, s, f"{name}「{s}」に数字以外の文字が含まれています")
                )
            if item.type is ItemType.INTEGER and not re.fullmatch("-?[0-9]+", value):
                out.append(("schema.type", no, name, s, f"{name}「{s}」は整数ではありません"))
    counts = Counter(tuple(row[k] for k in RF.key) for row in rows)
    for row, no in zip(rows, record_nos, strict=True):
        n = counts[tuple(row[k] for k in RF.key)]
        if n > 1:
            msg = f"キー（番号・氏名）「{key(row)}」が重複しています（{n}件）"
            out.append(("schema.key_unique", no, "番号|氏名", key(row), msg))
    return Counter(out)


def values(*common: str) -> st.SearchStrategy[str | None]:
    return st.one_of(
        st.none(),
        st.sampled_from(common),
        st.text(alphabet="0129-a/\n１", max_size=9),
    )


row_strategy = st.fixed_dictionaries(
    {
        "番号": values("1", "2", "001", "1234"),
        "日付": values("20200229", "20190229", "20190230", "00000101", "19991231", "2019023"),
        "額": values("-1", "99", "-99", "100", "1,2", "-"),
        "区分": values("1", "2", "3", "12"),
        "氏名": values("山田", "山田太郎", "ｱ"),
    }
)


@settings(max_examples=80, deadline=None)
@given(st.lists(row_strategy, max_size=8), st.integers(min_value=0, max_value=10**6))
def test_schema_findings_match_reference(rows: list[dict[str, Any]], offset: int) -> None:
    record_nos = [offset + 3 * i for i in range(len(rows))]
    frame = pl.DataFrame(
        {name: [r[name] for r in rows] for name in RF.item_names},
        schema=dict.fromkeys(RF.item_names, pl.String),
    ).with_columns(
        pl.Series("_record_no", record_nos, dtype=pl.Int64),
        pl.lit("t.dat", pl.String).alias("_source"),
    )
    found = schema_findings(LAYOUT, RF, frame)
    got = Counter(found.select("rule", "record_no", "item", "value", "message").rows())
    assert got == reference(rows, record_nos)
    assert set(found["severity"]) <= {"error"}
