"""Small layouts built in code and a frame builder; all data is synthetic."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from etl.findings import Severity
from etl.layout.model import CodeTable, Item, ItemType, Layout, Provenance, RecordFile
from etl.validate.rules import ExistsIn, Reference

SEIBETSU = CodeTable("seibetsu", "性別コード", {"1": "男", "2": "女", "9": "不明"})
ZOKUGARA = CodeTable("zokugara", "続柄コード", {"02": "世帯主", "03": "妻", "04": "子"})

JUMIN = RecordFile(
    id="jumin",
    name="住民情報",
    items=(
        Item("宛名番号", ItemType.DIGITS, 15, required=True),
        Item("世帯番号", ItemType.DIGITS, 15, required=True),
        Item("氏名", ItemType.TEXT, 20, required=True),
        Item("性別", ItemType.CODE, 1, required=True, code_table="seibetsu"),
        Item("続柄", ItemType.CODE, 2, code_table="zokugara"),
        Item("生年月日", ItemType.DATE, 8, required=True),
        Item("住定日", ItemType.DATE, 8),
        Item("個人番号", ItemType.DIGITS, 12, sensitive=True),
        Item("金額", ItemType.INTEGER, 9),
    ),
    key=("宛名番号",),
)

RIREKI = RecordFile(
    id="rireki",
    name="異動履歴",
    items=(
        Item("宛名番号", ItemType.DIGITS, 15, required=True),
        Item("履歴番号", ItemType.DIGITS, 3, required=True),
        Item("異動日", ItemType.DATE, 8),
    ),
    key=("宛名番号", "履歴番号"),
)

JUKI = Layout(
    id="juki",
    name="住民基本台帳",
    version="2.1",
    record_files=(JUMIN, RIREKI),
    provenance=Provenance("authored"),
    code_tables={"seibetsu": SEIBETSU, "zokugara": ZOKUGARA},
)

INKAN_FILE = RecordFile(
    id="inkan",
    name="印鑑登録情報",
    items=(
        Item("登録番号", ItemType.DIGITS, 10, required=True),
        Item("宛名番号", ItemType.DIGITS, 15, required=True),
    ),
    key=("登録番号",),
)

INKAN = Layout(
    id="inkan",
    name="印鑑登録",
    version="2.1",
    record_files=(INKAN_FILE,),
    provenance=Provenance("authored"),
)

# a whole-file rule across layouts: every 印鑑 registrant is a person of 住記
PERSON_IN_JUKI = ExistsIn(
    "inkan.person_in_juki",
    Severity.ERROR,
    "inkan",
    "印鑑登録者が住民基本台帳に存在しません",
    items=("宛名番号",),
    reference=Reference("juki", "jumin", ("宛名番号",)),
)


def clean_jumin_row(n: int, **changes: str | None) -> dict[str, str | None]:
    """A valid 住民情報 row (宛名番号 = n, its own 世帯, 世帯主), then ``changes`` applied."""
    row: dict[str, str | None] = {
        "宛名番号": f"{n:015d}",
        "世帯番号": f"{n:015d}",
        "氏名": "山田太郎",
        "性別": "1",
        "続柄": "02",
        "生年月日": "19800101",
        "住定日": "20100401",
        "個人番号": f"{n:012d}",
        "金額": "-1200",
    }
    row.update(changes)
    return row


def frame_of(
    record_file: RecordFile, rows: Sequence[dict[str, Any]], *, first_record_no: int = 1
) -> pl.DataFrame:
    """A mapped frame: the items as String (in layout order) plus _record_no and _source."""
    data = {name: [r.get(name) for r in rows] for name in record_file.item_names}
    frame = pl.DataFrame(data, schema=dict.fromkeys(record_file.item_names, pl.String))
    return frame.with_columns(
        pl.int_range(first_record_no, first_record_no + len(rows), dtype=pl.Int64).alias(
            "_record_no"
        ),
        pl.lit(f"{record_file.id}.dat", pl.String).alias("_source"),
    )
