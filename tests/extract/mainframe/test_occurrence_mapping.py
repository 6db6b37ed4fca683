"""`take: F, occurrence: first | last`: the first / last present occurrence of an OCCURS field
(the indexed columns F(1), F(2) … a mainframe record has)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import yaml

from etl.errors import MappingError
from etl.extract import BYTE_OFFSET, RECORD_NO, load_profile
from etl.layout import get_layout
from etl.mapping import compile_mapping, load_mapping, map_record_file
from etl.text import load_eras

PROFILE = """format: mainframe
files:
  - name: nenkin
    path: N.DAT
    charset: ibm930
    recfm: FB
    record_length: 50
    occurs:
      - {name: SHIKAKU, offset: 10, length: 8, times: 3}
    fields:
      - {name: ATENA, offset: 0, length: 10, type: zoned}
      - {name: YMD, offset: 10, length: 8, type: zoned, group: SHIKAKU}
"""


def spec(take: dict[str, object]) -> dict[str, object]:
    items: dict[str, object] = {name: {"const": None} for name in (
        "基礎年金番号", "資格喪失年月日", "取得事由", "喪失事由", "付加保険料区分", "免除区分",
        "保険料額",
    )}  # fmt: skip
    items |= {"宛名番号": {"take": "ATENA"}, "被保険者種別": {"const": "1"}, "資格取得年月日": take}
    return {"layout": "kokunen", "record_files": {"kokunen": {"from": "nenkin", "items": items}}}


def compiled(tmp_path: Path, take: dict[str, object]):  # type: ignore[no-untyped-def]
    (tmp_path / "source.yaml").write_text(PROFILE, encoding="utf-8")
    path = tmp_path / "kokunen.yaml"
    path.write_text(yaml.safe_dump(spec(take), allow_unicode=True), encoding="utf-8")
    layout = get_layout("kokunen")
    return compile_mapping(load_mapping(path), layout, load_profile(tmp_path), load_eras())


@pytest.mark.parametrize(
    ("which", "expected"),
    [("first", ["20190501", "20200101", None]), ("last", ["20210101", "20200101", None])],
)
def test_first_and_last_present_occurrence(tmp_path: Path, which: str, expected: list[str]) -> None:
    cm = compiled(tmp_path, {"take": "YMD", "occurrence": which})
    frame = pl.DataFrame(
        {
            RECORD_NO: [1, 2, 3],
            BYTE_OFFSET: [0, 50, 100],
            "ATENA": [1, 2, 3],
            "YMD(1)": [20190501, None, None],
            "YMD(2)": [None, 20200101, None],
            "YMD(3)": [20210101, None, None],
        }
    )
    out = map_record_file(cm.record_files[0], {"nenkin": frame}, "kokunen").frame
    assert out["資格取得年月日"].to_list() == expected


def test_occurrence_of_a_field_that_does_not_repeat(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"occurrence.*'ATENA' is not repeated"):
        compiled(tmp_path, {"take": "ATENA", "occurrence": "last"})
    with pytest.raises(MappingError, match="occurrence"):
        compiled(tmp_path, {"take": "YMD", "occurrence": "middle"})
