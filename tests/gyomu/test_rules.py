"""The new 業務 as data (layouts, code tables, rules, specs) and the two rule additions they
needed: ``exists_in`` with ``or_in`` (住記 or 住登外) and the ``age`` kind (児童, 第1号)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from etl.errors import RuleError
from etl.layout import ItemType, load_layouts
from etl.resources import data_dir
from etl.validate import check_rules, load_layout_rules, load_rules, rule_findings
from fixtures._gyomu_spec import CODES, SOURCES

NEW_GYOMU = ("jutogai", "kotei", "jidoteate", "juminzei", "kokuho", "kaigo")
LAYOUTS = load_layouts()


@pytest.mark.parametrize("layout_id", NEW_GYOMU)
def test_layout_marks_what_is_authored(layout_id: str) -> None:
    layout = LAYOUTS[layout_id]
    assert layout.provenance.source == "authored"
    assert layout.provenance.authored_parts
    assert "facts.md" in layout.provenance.note
    for rf in layout.record_files:
        for it in rf.items:
            if it.type is ItemType.CODE:
                assert it.code_table is not None
                table = layout.code_tables[it.code_table]
                assert {len(c) for c in table.values} == {it.digits}, it.name
                assert "facts.md" in table.note


def test_kaigo_codes_are_the_ones_facts_md_lists() -> None:
    yokaigo = LAYOUTS["kaigo"].code_tables["kaigo_yokaigo"].values
    assert dict(yokaigo) == {
        "00": "自立", "11": "経過的要介護", "12": "要支援1", "13": "要支援2", "21": "要介護1",
        "22": "要介護2", "23": "要介護3", "24": "要介護4", "25": "要介護5", "31": "再調査",
        "88": "取消", "99": "なし",
    }  # fmt: skip
    jiyu = LAYOUTS["kaigo"].code_tables["kaigo_ido_jiyu"].values
    assert {"001", "002", "202", "209"} <= set(jiyu)


def test_decimal_items_of_kotei() -> None:
    tochi = LAYOUTS["kotei"].record_file("tochi").item("地積")
    assert (tochi.type, tochi.digits, tochi.scale) == (ItemType.DECIMAL, 11, 2)
    assert LAYOUTS["kotei"].record_file("kaoku").item("床面積").type is ItemType.DECIMAL


@pytest.mark.parametrize("layout_id", NEW_GYOMU)
def test_rules_check_against_their_layout(layout_id: str) -> None:
    rules = load_layout_rules(layout_id)
    assert rules.rules
    check_rules(rules, LAYOUTS[layout_id])


@pytest.mark.parametrize("vendor", ["vendor-a", "vendor-b"])
@pytest.mark.parametrize("layout_id", NEW_GYOMU)
def test_mapping_covers_every_item(vendor: str, layout_id: str) -> None:
    spec = yaml.safe_load((data_dir("mappings") / vendor / f"{layout_id}.yaml").read_text("utf-8"))
    layout = LAYOUTS[layout_id]
    assert set(spec["record_files"]) == {rf.id for rf in layout.record_files}
    for rf in layout.record_files:
        assert set(spec["record_files"][rf.id]["items"]) == set(rf.item_names), rf.id


@pytest.mark.parametrize("vendor", ["vendor-a", "vendor-b"])
def test_vendor_code_tables_map_to_standard_codes(vendor: str) -> None:
    col = {"vendor-a": 2, "vendor-b": 1}[vendor]
    for table, values in CODES.items():
        if table == "seibetsu":
            continue
        path = data_dir("mappings") / vendor / "codes" / f"{table}.csv"
        rows = [line.split(",") for line in path.read_text("utf-8").splitlines()[1:]]
        assert rows == [[v[col], v[0]] for v in values], table


def test_every_source_is_in_both_profiles() -> None:
    for vendor in ("vendor-a", "vendor-b"):
        doc = yaml.safe_load((data_dir("mappings") / vendor / "source.yaml").read_text("utf-8"))
        names = {f["name"] for f in doc["files"]}
        assert {s.name for s in SOURCES} <= names


# --- the two rule additions ---------------------------------------------------------------


def _rules(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(body, "utf-8")
    return path


KAIGO_AGE = """layout: kaigo
rules:
  - id: t.age
    kind: age
    file: kaigo_hihokensha
    birth: 生年月日
    at: 資格取得年月日
    min_age: 65
    when: {item: 被保険者区分, in: ["1"]}
    message: 65歳未満
"""


def _frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    rf = LAYOUTS["kaigo"].record_file("kaigo_hihokensha")
    full = [
        {n: r.get(n) for n in rf.item_names} | {"_record_no": i + 2} for i, r in enumerate(rows)
    ]
    return pl.DataFrame(
        full, schema={**dict.fromkeys(rf.item_names, pl.String), "_record_no": pl.Int64}
    )


def _age_findings(tmp_path: Path, body: str, rows: list[dict[str, Any]]) -> list[int]:
    rules = load_rules(_rules(tmp_path, body))
    frame = _frame(rows)
    found = rule_findings(rules, LAYOUTS["kaigo"], {"kaigo_hihokensha": frame}, {})
    return sorted(found["record_no"].to_list())


def test_age_is_reached_on_the_day_before_the_birthday(tmp_path: Path) -> None:
    rows = [
        {"生年月日": "19600401", "資格取得年月日": "20250331", "被保険者区分": "1"},  # 65 reached
        {"生年月日": "19600401", "資格取得年月日": "20250330", "被保険者区分": "1"},  # a day early
        {"生年月日": "19600229", "資格取得年月日": "20250228", "被保険者区分": "1"},  # 02-28
        {"生年月日": "19600229", "資格取得年月日": "20250227", "被保険者区分": "1"},
        {"生年月日": "19700101", "資格取得年月日": "20250101", "被保険者区分": "2"},  # not 第1号
        {"生年月日": None, "資格取得年月日": "20250101", "被保険者区分": "1"},  # left to required
        {"生年月日": "19600231", "資格取得年月日": "20250101", "被保険者区分": "1"},  # no date
        {"生年月日": "19390301", "資格取得年月日": "20040229", "被保険者区分": "1"},  # 02-29
        {"生年月日": "19390301", "資格取得年月日": "20040228", "被保険者区分": "1"},
    ]
    assert _age_findings(tmp_path, KAIGO_AGE, rows) == [3, 5, 10]


def test_age_until_the_fiscal_year_end_and_by_period(tmp_path: Path) -> None:
    body = KAIGO_AGE.replace("min_age: 65", "max_age: 18\n    max_age_end: fiscal_year")
    body = body.replace(
        '    when: {item: 被保険者区分, in: ["1"]}\n', '    period: {from: "20241001"}\n'
    )
    rows = [
        {
            "生年月日": "20060402",
            "資格取得年月日": "20250331",
        },  # 18 on 2024-04-01 → until 2025-03-31
        {"生年月日": "20060402", "資格取得年月日": "20250401"},  # one day after
        {"生年月日": "20060401", "資格取得年月日": "20250331"},  # 18 on 2024-03-31 → ended then
        {"生年月日": "20060401", "資格取得年月日": "20240930"},  # before the period: not checked
    ]
    assert _age_findings(tmp_path, body, rows) == [3, 4]
    plain = KAIGO_AGE.replace("min_age: 65", "min_age: 40\n    max_age: 64")
    plain = plain.replace('in: ["1"]', 'in: ["2"]')
    rows = [
        {"生年月日": "19600401", "資格取得年月日": "20250330", "被保険者区分": "2"},  # still 64
        {"生年月日": "19600401", "資格取得年月日": "20250331", "被保険者区分": "2"},  # 65 reached
        {"生年月日": "19850401", "資格取得年月日": "20250330", "被保険者区分": "2"},  # 39
    ]
    assert _age_findings(tmp_path, plain, rows) == [3, 4]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("min_age: 65", ""), "needs min_age, max_age or both"),
        (("min_age: 65", "min_age: 70\n    max_age: 64"), "below min_age"),
        (("min_age: 65", "min_age: -1"), "min_age"),
        (("min_age: 65", "min_age: 65\n    period: {from: 2024-10-01}"), "period"),
        (("min_age: 65", "min_age: 65\n    max_age_end: school"), "max_age_end"),
        (("    at: 資格取得年月日", "    on: 資格取得年月日"), "keys must be text"),
    ],
)
def test_age_rule_errors_name_the_key(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    with pytest.raises(RuleError, match=message):
        load_rules(_rules(tmp_path, KAIGO_AGE.replace(*change)))


def test_age_needs_date_items(tmp_path: Path) -> None:
    body = KAIGO_AGE.replace("birth: 生年月日", "birth: 被保険者番号")
    with pytest.raises(RuleError, match="age needs two date items"):
        check_rules(load_rules(_rules(tmp_path, body)), LAYOUTS["kaigo"])


OR_IN = """layout: kotei
rules:
  - id: t.person
    kind: exists_in
    file: gimusha
    items: [宛名番号]
    reference: {layout: juki, file: jumin, items: [宛名番号]}
    or_in:
      - {layout: jutogai, file: jutogai, items: [宛名番号]}
    message: いない
"""


def _gimusha(atena: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "納税義務者番号": [f"{i:010d}" for i in range(len(atena))],
            "宛名番号": atena,
            "共有区分": ["1"] * len(atena),
            "_record_no": list(range(2, len(atena) + 2)),
        }
    )


def test_exists_in_any_of_the_references(tmp_path: Path) -> None:
    rules = load_rules(_rules(tmp_path, OR_IN))
    jumin = pl.DataFrame({"宛名番号": ["1"]})
    jutogai = pl.DataFrame({"宛名番号": ["2"]})
    others = {("juki", "jumin"): jumin, ("jutogai", "jutogai"): jutogai}
    found = rule_findings(rules, LAYOUTS["kotei"], {"gimusha": _gimusha(["1", "2", "3"])}, others)
    assert found["record_no"].to_list() == [4]
    # one reference absent: the rule cannot decide and says so, it does not report every row
    only_juki = {("juki", "jumin"): jumin}
    found = rule_findings(rules, LAYOUTS["kotei"], {"gimusha": _gimusha(["1", "2"])}, only_juki)
    assert found["rule"].to_list() == ["rule.target_missing"]
    assert "jutogai" in found["message"][0]


def test_or_in_items_must_match(tmp_path: Path) -> None:
    body = OR_IN.replace(
        "file: jutogai, items: [宛名番号]", "file: jutogai, items: [宛名番号, 氏名]"
    )
    with pytest.raises(RuleError, match=r"or_in\[0\]\.items.*has 2 items"):
        load_rules(_rules(tmp_path, body))
    absent = OR_IN.replace("items: [宛名番号]}\n    message", "items: [ない]}\n    message")
    rules = load_rules(_rules(tmp_path, absent))
    others = {
        ("juki", "jumin"): pl.DataFrame({"宛名番号": ["1"]}),
        ("jutogai", "jutogai"): pl.DataFrame({"宛名番号": ["2"]}),
    }
    with pytest.raises(RuleError, match=r"jutogai/jutogai has no items \['ない'\]"):
        rule_findings(rules, LAYOUTS["kotei"], {"gimusha": _gimusha(["1"])}, others)
