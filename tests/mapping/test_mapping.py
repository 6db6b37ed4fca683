"""The mapping compiler: every vocabulary word, filters, lookups, checks, and spec errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from etl.errors import MappingError
from etl.extract.base import BYTE_OFFSET, RECORD_NO
from etl.extract.profile import SourceField, SourceFile, SourceProfile
from etl.layout.model import CodeTable, Item, ItemType, Layout, Provenance, RecordFile
from etl.mapping import compile_mapping, load_mapping, map_record_file
from etl.text.wareki import load_eras

ITEMS = (
    Item("宛名番号", ItemType.DIGITS, 15, required=True),
    Item("氏名カナ", ItemType.TEXT, 60),
    Item("生年月日", ItemType.DATE, 8),
    Item("性別", ItemType.CODE, 1, code_table="seibetsu"),
    Item("住所", ItemType.TEXT, 100),
    Item("郵便番号", ItemType.DIGITS, 7),
    Item("世帯主氏名", ItemType.TEXT, 60),
    Item("個人番号", ItemType.DIGITS, 12, sensitive=True),
    Item("区分", ItemType.TEXT, 1),
)
LAYOUT = Layout(
    id="t",
    name="テスト",
    version="2.1",
    record_files=(RecordFile("p", "人", ITEMS, ("宛名番号",)),),
    provenance=Provenance("authored"),
    code_tables={"seibetsu": CodeTable("seibetsu", "性別", {"1": "男", "2": "女"})},
)


def _source(name: str, fields: list[str]) -> SourceFile:
    return SourceFile(name=name, path=name, fields=tuple(SourceField(f) for f in fields))


PROFILE = SourceProfile(
    vendor="t",
    format="fixed_width",
    encoding="cp932",
    files=(
        _source(
            "person", ["no", "kana", "era", "ymd", "sex", "a1", "a2", "zip", "setai", "mynum", "st"]
        ),
        _source("setai", ["setai", "head"]),
    ),
    folder=Path("."),
)

SPEC: dict[str, Any] = {
    "layout": "t",
    "tables": {
        "sex": {"inline": {"M": "1", "F": "2"}},
        "era": {"inline": {"S": "03", "H": "04", "R": "05"}},
    },
    "record_files": {
        "p": {
            "from": "person",
            "lookups": {"s": {"source": "setai", "join": {"setai": "setai"}}},
            "filters": [{"when": {"field": "st", "in": ["9"]}, "reason": "消除者は移行対象外"}],
            "items": {
                "宛名番号": {"take": "no", "then": ["trim", {"pad": {"length": 5, "char": "0"}}]},
                "氏名カナ": {"take": "kana", "then": ["trim", {"kana": "zenkaku"}]},
                "生年月日": {
                    "wareki": {
                        "era": "era",
                        "date": "ymd",
                        "era_table": "era",
                        "on_invalid": "keep_empty",
                    }
                },
                "性別": {"take": "sex", "then": [{"code_map": "sex"}]},
                "住所": {"concat": [{"take": "a1", "then": ["trim"]}, {"take": "a2"}], "sep": "　"},
                "郵便番号": {"take": "zip", "then": [{"width": "hankaku"}, "digits_only"]},
                "世帯主氏名": {"take": "s.head"},
                "個人番号": {"take": "mynum"},
                "区分": {"const": "1"},
            },
        }
    },
}


def _frames() -> dict[str, pl.DataFrame]:
    person = pl.DataFrame(
        {
            "no": ["12", "13", "14", "15"],
            "kana": ["ﾔﾏﾀﾞ ﾀﾛｳ", "ｽｽﾞｷ", "ｻﾄｳ", "ﾀﾅｶ"],
            "era": ["H", "R", "H", "S"],
            "ymd": ["310430", "010501", "310501", "640107"],
            "sex": ["M", "F", "X", "M"],
            "a1": ["東京都 ", "大阪府", "", "京都府"],
            "a2": ["千代田", "北区", "", "左京区"],
            "zip": ["100-0001", "５３０－０００１", "", "6060001"],
            "setai": ["A", "B", "A", "C"],
            "mynum": ["123456789012", "", "210987654321", "111111111111"],
            "st": ["1", "1", "1", "9"],
        }
    ).with_columns(
        pl.int_range(1, 5, dtype=pl.Int64).alias(RECORD_NO),
        (pl.int_range(0, 4, dtype=pl.Int64) * 100).alias(BYTE_OFFSET),
    )
    setai = pl.DataFrame(
        {RECORD_NO: [1, 2], BYTE_OFFSET: [0, 50], "setai": ["A", "B"], "head": ["山田", "鈴木"]}
    )
    return {"person": person, "setai": setai}


def _compile(tmp_path: Path, spec: dict[str, Any]) -> Any:
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return compile_mapping(load_mapping(path), LAYOUT, PROFILE, load_eras())


def test_every_word_and_accounting(tmp_path: Path) -> None:
    cm = _compile(tmp_path, SPEC)
    mt = map_record_file(cm.record_files[0], _frames(), "t")
    out = mt.frame.drop(RECORD_NO, "_source")
    assert out.to_dicts() == [
        {
            "宛名番号": "00012",
            "氏名カナ": "ヤマダ タロウ",
            "生年月日": "20190430",
            "性別": "1",
            "住所": "東京都　千代田",
            "郵便番号": "1000001",
            "世帯主氏名": "山田",
            "個人番号": "123456789012",
            "区分": "1",
        },
        {
            "宛名番号": "00013",
            "氏名カナ": "スズキ",
            "生年月日": "20190501",
            "性別": "2",
            "住所": "大阪府　北区",
            "郵便番号": "5300001",
            "世帯主氏名": "鈴木",
            "個人番号": None,
            "区分": "1",
        },
        {
            "宛名番号": "00014",
            "氏名カナ": "サトウ",
            "生年月日": None,
            "性別": "X",
            "住所": None,
            "郵便番号": None,
            "世帯主氏名": "山田",
            "個人番号": "210987654321",
            "区分": "1",
        },
    ]
    # nothing lost: 4 data records = 3 written + 1 filtered with its reason
    assert mt.source_records == 4
    assert mt.filtered.select("record_no", "reason").rows() == [(4, "消除者は移行対象外")]
    f = mt.findings.sort("rule")
    assert f.select("rule", "record_no", "item", "value").rows() == [
        ("mapping.invalid_date", 3, "生年月日", "H310501"),
        ("mapping.unknown_code", 3, "性別", "X"),
    ]
    assert "存在しない日付" in f["message"][0]
    assert f["key"].to_list() == ["00014", "00014"]


def test_sensitive_values_are_masked_in_findings(tmp_path: Path) -> None:
    spec = yaml.safe_load(yaml.safe_dump(SPEC, allow_unicode=True))
    spec["tables"]["num"] = {"inline": {"0": "0"}}
    spec["record_files"]["p"]["items"]["個人番号"] = {
        "take": "mynum",
        "then": [{"code_map": "num"}],
    }
    mt = map_record_file(_compile(tmp_path, spec).record_files[0], _frames(), "t")
    values = mt.findings.filter(pl.col("item") == "個人番号")["value"].to_list()
    assert values == ["**********12", "**********21"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s["record_files"]["p"]["items"].pop("区分"), "missing ['区分']"),
        (
            lambda s: s["record_files"]["p"]["items"].update({"謎": {"const": "1"}}),
            "unknown ['謎']",
        ),
        (lambda s: s["record_files"]["p"]["items"].update({"区分": {"take": "nope"}}), "nope"),
        (
            lambda s: s["record_files"]["p"]["items"].update(
                {"区分": {"take": "st", "then": ["zap"]}}
            ),
            "unknown step 'zap'",
        ),
        (
            lambda s: s["record_files"]["p"]["items"].update(
                {"区分": {"take": "st", "then": [{"code_map": "x"}]}}
            ),
            "code_map needs a known table",
        ),
        (lambda s: s["record_files"]["p"]["filters"][0].pop("reason"), "reason"),
        (
            lambda s: s["record_files"]["p"]["items"].update(
                {"区分": {"take": "st", "const": "1"}}
            ),
            "exactly one",
        ),
    ],
)
def test_spec_errors_name_file_and_place(tmp_path: Path, change: Any, message: str) -> None:
    spec = yaml.safe_load(yaml.safe_dump(SPEC, allow_unicode=True))
    change(spec)
    with pytest.raises(MappingError) as exc:
        _compile(tmp_path, spec)
    assert message in str(exc.value)
    assert "t.yaml" in str(exc.value)


def test_lookup_duplicates_are_findings(tmp_path: Path) -> None:
    frames = _frames()
    frames["setai"] = pl.concat(
        [
            frames["setai"],
            pl.DataFrame({RECORD_NO: [3], BYTE_OFFSET: [100], "setai": ["A"], "head": ["別人"]}),
        ]
    )
    mt = map_record_file(_compile(tmp_path, SPEC).record_files[0], frames, "t")
    assert mt.frame.height == 3  # the join did not multiply rows
    assert mt.findings.filter(pl.col("rule") == "mapping.lookup_duplicate").height == 2
    assert mt.frame["世帯主氏名"][0] == "山田"


def test_seireki_and_date_format(tmp_path: Path) -> None:
    spec = yaml.safe_load(yaml.safe_dump(SPEC, allow_unicode=True))
    items = spec["record_files"]["p"]["items"]
    items["区分"] = {"seireki": {"date": "ymd", "part": "era", "on_invalid": "keep_empty"}}
    items["住所"] = {"take": "ymd", "then": [{"date_format": "%y%m%d"}]}
    mt = map_record_file(_compile(tmp_path, spec).record_files[0], _frames(), "t")
    assert mt.frame["住所"].to_list() == ["20310430", "20010501", "20310501"]
    # "310430" is not YYYYMMDD: seireki finds no date and says so
    assert mt.frame["区分"].to_list() == [None, None, None]
    assert mt.findings.filter(pl.col("item") == "区分").height == 3
