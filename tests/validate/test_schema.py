"""Schema checks generated from the layout: each rule fires on the right record, masked."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
import pytest
from pandera.config import ValidationDepth, config_context

from etl.findings import FINDING_SCHEMA
from etl.layout.model import Item, ItemType, Layout, Provenance, RecordFile
from etl.validate import build_schema, schema_findings

from .cases import JUKI, JUMIN, RIREKI, clean_jumin_row, frame_of


def findings_for(*rows: dict[str, str | None]) -> pl.DataFrame:
    return schema_findings(JUKI, JUMIN, frame_of(JUMIN, rows))


def only(findings: pl.DataFrame, rule: str) -> list[dict[str, object]]:
    return findings.filter(pl.col("rule") == rule).to_dicts()


def test_clean_data_has_no_findings() -> None:
    found = findings_for(*(clean_jumin_row(n) for n in range(1, 6)))
    assert found.height == 0
    assert found.schema == pl.Schema(FINDING_SCHEMA)


def test_required_names_item_and_record() -> None:
    found = findings_for(clean_jumin_row(1), clean_jumin_row(2, 氏名=None))
    assert found.to_dicts() == [
        {
            "rule": "schema.required",
            "severity": "error",
            "gyomu": "juki",
            "file": "jumin",
            "record_no": 2,
            "key": "000000000000002",
            "item": "氏名",
            "value": None,
            "message": "氏名は必須項目です",
        }
    ]


def test_optional_item_may_be_null() -> None:
    assert findings_for(clean_jumin_row(1, 住定日=None, 金額=None, 個人番号=None)).height == 0


def test_digits_too_long() -> None:
    found = findings_for(clean_jumin_row(1), clean_jumin_row(2, 宛名番号="1" * 17))
    [hit] = only(found, "schema.digits")
    assert hit["record_no"] == 2
    assert hit["item"] == "宛名番号"
    assert hit["value"] == "1" * 17
    assert hit["message"] == "宛名番号の桁数が15桁を超えています（17桁）"
    assert found.height == 1


def test_sensitive_value_is_masked_in_value_and_message() -> None:
    found = findings_for(clean_jumin_row(1, 個人番号="A23456789012"))
    [hit] = found.to_dicts()
    assert (hit["rule"], hit["item"]) == ("schema.type", "個人番号")
    assert hit["value"] == "**********12"
    assert hit["message"] == "個人番号「**********12」に数字以外の文字が含まれています"
    assert "A234" not in found.write_csv()


def test_sensitive_too_long_reports_length_of_real_value() -> None:
    [hit] = findings_for(clean_jumin_row(1, 個人番号="1234567890123")).to_dicts()
    assert hit["value"] == "***********23"
    assert hit["message"] == "個人番号の桁数が12桁を超えています（13桁）"


@pytest.mark.parametrize(
    ("value", "rules"),
    [
        ("-1200", []),
        ("123456789", []),
        ("-123456789", []),  # the sign is not a digit
        ("1234567890", ["schema.digits"]),
        ("1,200", ["schema.type"]),
        ("12-3", ["schema.type"]),
        ("", ["schema.type"]),
    ],
)
def test_integer(value: str, rules: list[str]) -> None:
    found = findings_for(clean_jumin_row(1, 金額=value))
    assert found["rule"].to_list() == rules


def test_integer_messages() -> None:
    found = findings_for(clean_jumin_row(1, 金額="1,200"), clean_jumin_row(2, 金額="1234567890"))
    assert sorted(found.select("record_no", "message").rows()) == [
        (1, "金額「1,200」は整数ではありません"),
        (2, "金額の桁数が9桁を超えています（10桁）"),
    ]


@pytest.mark.parametrize(
    ("value", "rules"),
    [
        ("20200229", []),  # leap day
        ("19000101", []),
        ("20190230", ["schema.date"]),
        ("20190229", ["schema.date"]),
        ("20191301", ["schema.date"]),
        ("00000101", ["schema.date"]),  # year 0 is no date of ours
        ("2019/2/3", ["schema.date"]),
        ("2019023", ["schema.digits"]),  # 7 digits: strptime alone would accept it
        ("201902301", ["schema.digits"]),
        ("１９８００１０１", ["schema.date"]),  # full-width digits are not digits here
    ],
)
def test_date(value: str, rules: list[str]) -> None:
    assert findings_for(clean_jumin_row(1, 生年月日=value))["rule"].to_list() == rules


def test_date_messages() -> None:
    found = findings_for(
        clean_jumin_row(1, 生年月日="20190230"), clean_jumin_row(2, 住定日="2019023")
    )
    assert sorted(found.select("record_no", "item", "message").rows()) == [
        (1, "生年月日", "生年月日「20190230」は正しい日付（西暦YYYYMMDD）ではありません"),
        (2, "住定日", "住定日の桁数が8桁ではありません（7桁）"),
    ]


def test_code_not_in_table() -> None:
    found = findings_for(clean_jumin_row(1), clean_jumin_row(2), clean_jumin_row(3, 性別="7"))
    [hit] = found.to_dicts()
    assert (hit["rule"], hit["record_no"], hit["item"], hit["value"]) == (
        "schema.code",
        3,
        "性別",
        "7",
    )
    assert hit["message"] == "性別「7」は性別コード表にありません"


def test_duplicate_key_reports_every_duplicate_row() -> None:
    rows = [clean_jumin_row(n) for n in (1, 2, 1, 3, 1)]
    found = findings_for(*rows)
    hits = only(found, "schema.key_unique")
    assert [h["record_no"] for h in hits] == [1, 3, 5]
    assert {h["key"] for h in hits} == {"000000000000001"}
    assert hits[0]["item"] == "宛名番号"
    assert hits[0]["message"] == "キー（宛名番号）「000000000000001」が重複しています（3件）"
    assert found.height == 3


def test_composite_key() -> None:
    rows = [
        {"宛名番号": "1", "履歴番号": "001"},
        {"宛名番号": "1", "履歴番号": "002"},
        {"宛名番号": "2", "履歴番号": "001"},
        {"宛名番号": "1", "履歴番号": "002"},
    ]
    found = schema_findings(JUKI, RIREKI, frame_of(RIREKI, rows))
    assert found.select("rule", "record_no", "key", "item").rows() == [
        ("schema.key_unique", 2, "1|002", "宛名番号|履歴番号"),
        ("schema.key_unique", 4, "1|002", "宛名番号|履歴番号"),
    ]


def test_sensitive_key_parts_are_masked() -> None:
    rf = RecordFile(
        "kojin",
        "個人",
        (
            Item("個人番号", ItemType.DIGITS, 12, required=True, sensitive=True),
            Item("氏名", ItemType.TEXT, 10, required=True),
        ),
        key=("個人番号", "氏名"),
    )
    layout = Layout("t", "テスト", "2.1", (rf,), Provenance("authored"))
    rows = [{"個人番号": "123456789012", "氏名": None}] * 2
    found = schema_findings(layout, rf, frame_of(rf, rows))
    assert set(found["key"]) == {"**********12|"}
    dup = only(found, "schema.key_unique")
    assert [h["value"] for h in dup] == ["**********12|"] * 2
    assert "1234567890" not in found.write_csv()


def test_record_no_comes_from_the_frame_not_the_position() -> None:
    frame = frame_of(JUMIN, [clean_jumin_row(1), clean_jumin_row(2, 性別="7")], first_record_no=41)
    assert schema_findings(JUKI, JUMIN, frame)["record_no"].to_list() == [42]


def test_missing_extra_and_mistyped_columns_are_check_errors() -> None:
    frame = frame_of(JUMIN, [clean_jumin_row(1)])
    frame = frame.drop("氏名").with_columns(pl.lit(1).alias("余分"), pl.lit(5).alias("金額"))
    found = schema_findings(JUKI, JUMIN, frame)
    assert set(found["rule"]) == {"schema.check_error"}
    messages = " ".join(found["message"])
    assert "氏名" in messages
    assert "余分" in messages
    assert "金額" in messages


def test_a_raising_check_becomes_a_check_error() -> None:
    # String functions raise on an Int64 column: pandera turns that into a row without index.
    frame = frame_of(JUMIN, [clean_jumin_row(1)]).with_columns(pl.lit(19800101).alias("生年月日"))
    found = schema_findings(JUKI, JUMIN, frame)
    assert set(found["rule"]) == {"schema.check_error"}
    assert set(found["item"]) == {"生年月日"}
    assert found.height >= 2  # the dtype check and the checks that raised
    assert found["record_no"].is_null().all()


def test_validation_depth_setting_cannot_switch_data_checks_off() -> None:
    with config_context(validation_depth=ValidationDepth.SCHEMA_ONLY):
        found = findings_for(clean_jumin_row(1, 性別="7"))
    assert found["rule"].to_list() == ["schema.code"]


def test_build_schema_is_a_pandera_schema_of_the_layout() -> None:
    schema = build_schema(JUKI, JUMIN)
    assert isinstance(schema, pa.DataFrameSchema)
    assert list(schema.columns) == [*JUMIN.item_names, "_record_no", "_source"]
    frame = frame_of(JUMIN, [clean_jumin_row(1)])
    assert schema.validate(frame).equals(frame)
    with pytest.raises(pa.errors.SchemaError):
        schema.validate(frame_of(JUMIN, [clean_jumin_row(1, 生年月日="20190230")]))
