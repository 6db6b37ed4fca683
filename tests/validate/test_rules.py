"""Business rules: reading validators/*.yaml and running each rule kind."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from etl.conditions import Subject, ValueTest, value_in
from etl.errors import RuleError
from etl.findings import Severity
from etl.layout.load import load_layouts
from etl.layout.model import Item, ItemType, Layout, Provenance, RecordFile
from etl.validate import (
    Compare,
    CompareOp,
    ExactlyOne,
    ExistsIn,
    RequiredIf,
    Rule,
    RuleSet,
    Unique,
    check_rules,
    load_layout_rules,
    load_rules,
    rule_findings,
)
from etl.validate import rules as rules_module

from .cases import INKAN, INKAN_FILE, JUKI, JUMIN, PERSON_IN_JUKI, RIREKI, clean_jumin_row, frame_of

RULE_FILE = """\
layout: juki
rules:
  - id: juki.setai_one_head
    kind: exactly_one
    severity: error
    file: jumin
    group_by: [世帯番号]
    when: {item: 続柄, in: ["02"]}
    message: 世帯に世帯主がちょうど1人いません
  - id: juki.birth_not_after_juteibi
    kind: compare
    severity: warning
    file: jumin
    left: 生年月日
    op: "<="
    right: 住定日
    message: 生年月日が住定日より後になっています
  - id: juki.person_unique
    kind: unique
    file: jumin
    items: [個人番号]
    message: 個人番号が重複しています
  - id: juki.head_has_date
    kind: required_if
    file: jumin
    when: {item: 続柄, in: ["02"]}
    then: [住定日]
    message: 世帯主の住定日がありません
"""


def write(tmp_path: Path, text: str, name: str = "juki.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(rule: Rule, *rows: dict[str, str | None]) -> pl.DataFrame:
    rules = RuleSet("juki", (rule,))
    return rule_findings(rules, JUKI, {"jumin": frame_of(JUMIN, rows)}, {})


# ---- loading --------------------------------------------------------------------------------


def test_load_rules_builds_typed_rules(tmp_path: Path) -> None:
    rules = load_rules(write(tmp_path, RULE_FILE))
    assert rules.layout == "juki"
    assert [type(r) for r in rules.rules] == [ExactlyOne, Compare, Unique, RequiredIf]
    one, cmp, uniq, req = rules.rules
    assert isinstance(one, ExactlyOne) and isinstance(one.when, ValueTest)
    assert (one.when.name, one.when.one_of) == ("続柄", ("02",))
    assert isinstance(cmp, Compare) and cmp.op is CompareOp.LE
    assert cmp.severity is Severity.WARNING
    assert uniq.severity is Severity.ERROR  # the default
    assert isinstance(req, RequiredIf) and req.then == ("住定日",)


def test_exists_in_is_read(tmp_path: Path) -> None:
    text = """\
layout: inkan
rules:
  - id: inkan.person_in_juki
    kind: exists_in
    file: inkan
    items: [宛名番号]
    reference: {layout: juki, file: jumin, items: [宛名番号]}
    message: 印鑑登録者が住民基本台帳に存在しません
"""
    [rule] = load_rules(write(tmp_path, text)).rules
    assert isinstance(rule, ExistsIn)
    assert (rule.reference.layout, rule.reference.file, rule.reference.items) == (
        "juki",
        "jumin",
        ("宛名番号",),
    )


BASE = "  - id: r1\n    file: jumin\n    message: m\n"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (BASE + "    kind: at_most_one\n", "rules[0].kind (line 6): unknown kind 'at_most_one'"),
        (
            BASE + "    kind: compare\n    left: 生年月日\n    op: '=<'\n    right: 住定日\n",
            "rules[0].op (line 8): Input should be '<', '<='",
        ),
        (
            BASE + "    kind: unique\n    items: [氏名]\n    typo: 1\n",
            "rules[0].typo (line 8): unknown key",
        ),
        (
            BASE + "    kind: unique\n    items: 氏名\n",
            "rules[0].items (line 7): Input should be a valid list",
        ),
        (
            BASE + "    kind: unique\n    items: [氏名]\n    severity: fatal\n",
            "rules[0].severity (line 8): Input should be 'error' or 'warning'",
        ),
        (
            BASE
            + "    kind: exactly_one\n    group_by: [世帯番号]\n    when: {item: 続柄, in: [2]}\n",
            "rules[0].when.in[0] (line 8): Input should be a valid string, got int 2 (quote codes",
        ),
        (
            "  - id: r1\n    kind: unique\n    file: jumin\n    items: [氏名]\n",
            "rules[0].message (line 3): required key missing",
        ),
    ],
)
def test_bad_rule_raises_rule_error_naming_file_and_key_path(
    tmp_path: Path, body: str, reason: str
) -> None:
    path = write(tmp_path, "layout: juki\nrules:\n" + body)
    with pytest.raises(RuleError) as info:
        load_rules(path)
    assert info.value.path == path
    assert str(info.value).startswith(f"{path}: ")
    assert reason in str(info.value)


@pytest.mark.parametrize(
    "text",
    ["rules: []\n", "layout: juki\nrules: {}\n", "layout: [unclosed\n", "layout: juki\nextra: 1\n"],
)
def test_bad_rule_file_raises_rule_error(tmp_path: Path, text: str) -> None:
    with pytest.raises(RuleError):
        load_rules(write(tmp_path, text))


def test_duplicate_rule_ids(tmp_path: Path) -> None:
    rule = "  - {id: r1, kind: unique, file: jumin, items: [氏名], message: m}\n"
    with pytest.raises(RuleError, match=r"rules\[1\]\.id \(line 4\): duplicate rule id .r1."):
        load_rules(write(tmp_path, "layout: juki\nrules:\n" + rule * 2))


def test_missing_file_raises_rule_error(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="file not found"):
        load_rules(tmp_path / "nope.yaml")


def test_load_layout_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rules_module, "data_dir", lambda _name: tmp_path)
    assert load_layout_rules("kokunen") == RuleSet("kokunen")
    write(tmp_path, RULE_FILE)
    assert len(load_layout_rules("juki").rules) == 4
    write(tmp_path, RULE_FILE, name="inkan.yaml")
    with pytest.raises(RuleError, match="expected 'inkan'"):
        load_layout_rules("inkan")


def test_unknown_item_raises_at_run_time(tmp_path: Path) -> None:
    text = RULE_FILE.replace("group_by: [世帯番号]", "group_by: [世帯番方]")
    rules = load_rules(write(tmp_path, text))
    with pytest.raises(
        RuleError, match=r"rule juki\.setai_one_head: jumin has no items \['世帯番方'\]"
    ):
        rule_findings(rules, JUKI, {"jumin": frame_of(JUMIN, [clean_jumin_row(1)])}, {})


def test_unknown_file_raises_at_run_time() -> None:
    rule = Unique("r1", Severity.ERROR, "kojin", "m", items=("氏名",))
    with pytest.raises(RuleError, match="unknown file 'kojin'"):
        run(rule, clean_jumin_row(1))


def test_ordering_text_items_is_refused() -> None:
    rule = Compare(
        "r1", Severity.ERROR, "jumin", "m", left="氏名", op=CompareOp.LT, right="生年月日"
    )
    with pytest.raises(RuleError, match="two date or two integer items"):
        run(rule, clean_jumin_row(1))


# ---- running --------------------------------------------------------------------------------

ONE_HEAD = ExactlyOne(
    "juki.setai_one_head",
    Severity.ERROR,
    "jumin",
    "世帯に世帯主がちょうど1人いません",
    group_by=("世帯番号",),
    when=value_in(Subject.ITEM, "続柄", "02"),
)


def test_exactly_one_flags_groups_with_zero_and_two() -> None:
    setai_a, setai_b, setai_c = "1" * 15, "2" * 15, "3" * 15
    rows = [
        clean_jumin_row(1, 世帯番号=setai_a, 続柄="03"),  # A: nobody is 世帯主
        clean_jumin_row(2, 世帯番号=setai_b, 続柄="02"),  # B: two 世帯主
        clean_jumin_row(3, 世帯番号=setai_c, 続柄="02"),  # C: exactly one
        clean_jumin_row(4, 世帯番号=setai_b, 続柄="02"),
        clean_jumin_row(5, 世帯番号=setai_a, 続柄=None),
        clean_jumin_row(6, 世帯番号=setai_c, 続柄="04"),
        clean_jumin_row(7, 世帯番号=None, 続柄="03"),  # no 世帯: left to schema.required
    ]
    found = run(ONE_HEAD, *rows)
    assert found.select("rule", "severity", "record_no", "key", "item", "value").rows() == [
        ("juki.setai_one_head", "error", 1, setai_a, "続柄", "0"),
        ("juki.setai_one_head", "error", 2, setai_b, "続柄", "2"),
    ]
    assert set(found["message"]) == {"世帯に世帯主がちょうど1人いません"}


def test_compare_dates() -> None:
    rule = Compare(
        "juki.birth", Severity.WARNING, "jumin", "生年月日が住定日より後です",
        left="生年月日", op=CompareOp.LE, right="住定日",
    )  # fmt: skip
    found = run(
        rule,
        clean_jumin_row(1, 生年月日="19800101", 住定日="19791231"),
        clean_jumin_row(2, 生年月日="19800101", 住定日="19800101"),
        clean_jumin_row(3, 生年月日="19800101", 住定日=None),
        clean_jumin_row(4, 生年月日="20000101", 住定日="19991231"),
    )
    assert found.select("record_no", "severity", "item", "value").rows() == [
        (1, "warning", "生年月日|住定日", "19800101|19791231"),
        (4, "warning", "生年月日|住定日", "20000101|19991231"),
    ]


def test_compare_integers_as_numbers() -> None:
    rf = RecordFile(
        "gaku",
        "金額",
        (
            Item("番号", ItemType.DIGITS, 3, required=True),
            Item("前年額", ItemType.INTEGER, 9),
            Item("今年額", ItemType.INTEGER, 9),
        ),
        key=("番号",),
    )
    layout = Layout("t", "テスト", "2.1", (rf,), Provenance("authored"))
    rule = Compare("r", Severity.ERROR, "gaku", "m", left="前年額", op=CompareOp.LT, right="今年額")
    rows = [
        {"番号": "1", "前年額": "9", "今年額": "10"},  # holds as numbers, not as strings
        {"番号": "2", "前年額": "-5", "今年額": "-10"},
        {"番号": "3", "前年額": "1,200", "今年額": "0"},  # no integer: schema.type's business
    ]
    found = rule_findings(RuleSet("t", (rule,)), layout, {"gaku": frame_of(rf, rows)}, {})
    assert found.select("record_no", "value").rows() == [(2, "-5|-10")]


def test_compare_masks_sensitive_items() -> None:
    rule = Compare(
        "r", Severity.ERROR, "jumin", "m", left="個人番号", op=CompareOp.EQ, right="宛名番号"
    )
    [hit] = run(rule, clean_jumin_row(1, 個人番号="123456789012")).to_dicts()
    assert hit["value"] == "**********12|000000000000001"


def test_exists_in_other_layout() -> None:
    rule = PERSON_IN_JUKI
    inkan = frame_of(
        INKAN_FILE,
        [
            {"登録番号": "1", "宛名番号": f"{1:015d}"},
            {"登録番号": "2", "宛名番号": f"{9:015d}"},
            {"登録番号": "3", "宛名番号": None},
        ],
    )
    jumin = frame_of(JUMIN, [clean_jumin_row(1), clean_jumin_row(2)])
    rules = RuleSet("inkan", (rule,))
    found = rule_findings(rules, INKAN, {"inkan": inkan}, {("juki", "jumin"): jumin})
    assert found.select("rule", "record_no", "key", "item", "value").rows() == [
        ("inkan.person_in_juki", 2, "2", "宛名番号", f"{9:015d}")
    ]

    skipped = rule_findings(rules, INKAN, {"inkan": inkan}, {})
    assert skipped.select("rule", "severity", "file").rows() == [
        ("rule.target_missing", "warning", "inkan")
    ]
    assert "inkan.person_in_juki" in skipped["message"][0]
    assert "juki" in skipped["message"][0]

    with pytest.raises(RuleError, match="has no items"):
        rule_findings(rules, INKAN, {"inkan": inkan}, {("juki", "jumin"): jumin.drop("宛名番号")})


def test_exists_in_same_layout_uses_frames() -> None:
    rule = ExistsIn(
        "juki.rireki_person",
        Severity.ERROR,
        "rireki",
        "異動履歴の住民がいません",
        items=("宛名番号",),
        reference=rules_module.Reference("juki", "jumin", ("宛名番号",)),
    )
    frames = {
        "jumin": frame_of(JUMIN, [clean_jumin_row(1)]),
        "rireki": frame_of(RIREKI, [{"宛名番号": f"{1:015d}"}, {"宛名番号": f"{2:015d}"}]),
    }
    found = rule_findings(RuleSet("juki", (rule,)), JUKI, frames, {})
    assert found["record_no"].to_list() == [2]


def test_unique_rule() -> None:
    rule = Unique(
        "juki.person_unique",
        Severity.ERROR,
        "jumin",
        "個人番号が重複しています",
        items=("個人番号",),
    )
    found = run(
        rule,
        clean_jumin_row(1, 個人番号="123456789012"),
        clean_jumin_row(2, 個人番号="123456789012"),
        clean_jumin_row(3, 個人番号=None),
        clean_jumin_row(4, 個人番号=None),
    )
    assert found.select("record_no", "value").rows() == [(1, "**********12"), (2, "**********12")]


def test_required_if_rule() -> None:
    rule = RequiredIf(
        "juki.head_has_date",
        Severity.ERROR,
        "jumin",
        "世帯主の住定日がありません",
        when=value_in(Subject.ITEM, "続柄", "02"),
        then=("住定日", "金額"),
    )
    found = run(
        rule,
        clean_jumin_row(1, 住定日=None),
        clean_jumin_row(2, 続柄="03", 住定日=None),
        clean_jumin_row(3, 金額=None, 住定日=None),
    )
    assert sorted(found.select("record_no", "item").rows()) == [
        (1, "住定日"),
        (3, "住定日"),
        (3, "金額"),
    ]


def test_rule_on_absent_file_is_a_warning() -> None:
    rule = Unique("r", Severity.ERROR, "rireki", "m", items=("履歴番号",))
    found = rule_findings(RuleSet("juki", (rule,)), JUKI, {}, {})
    assert found.select("rule", "severity").rows() == [("rule.file_missing", "warning")]


def test_clean_data_passes_every_rule(tmp_path: Path) -> None:
    rules = load_rules(write(tmp_path, RULE_FILE))
    frames = {"jumin": frame_of(JUMIN, [clean_jumin_row(n) for n in range(1, 5)])}
    assert rule_findings(rules, JUKI, frames, {}).height == 0


def test_bundled_rule_files_fit_their_layouts() -> None:
    layouts = load_layouts()
    assert layouts
    for layout_id, layout in layouts.items():
        check_rules(load_layout_rules(layout_id), layout)


# ---- conditions: the language of mapping filters (etl.conditions) ---------------------------


def test_a_rule_condition_has_every_operator_of_a_filter(tmp_path: Path) -> None:
    text = """\
layout: juki
rules:
  - id: juki.head_or_blank_has_date
    kind: required_if
    file: jumin
    when:
      any:
        - {item: 続柄, equals: "02"}
        - all: [{item: 続柄, blank: true}, {not: {item: 世帯番号, in: ["999999999999999"]}}]
    then: [住定日]
    message: m
"""
    [rule] = load_rules(write(tmp_path, text)).rules
    found = run(
        rule,
        clean_jumin_row(1, 続柄=" 02 ", 住定日=None),  # compared after trimming, as in a filter
        clean_jumin_row(2, 続柄=None, 住定日=None),
        clean_jumin_row(3, 続柄=None, 世帯番号="9" * 15, 住定日=None),
        clean_jumin_row(4, 続柄="03", 住定日=None),
    )
    assert found["record_no"].to_list() == [1, 2]


@pytest.mark.parametrize(
    ("condition", "where", "reason"),
    [
        ("{item: 続柄}", "rules[0].when", "an item condition needs exactly one of equals, in"),
        ("{all: [], any: []}", "rules[0].when", "'all' stands alone in its condition mapping"),
        ("{all: []}", "rules[0].when.all", "at least 1 item"),
        ("[続柄]", "rules[0].when", "a condition is {item, equals|in|blank} or all/any/not"),
        (
            "{field: 続柄, in: ['02']}",
            "rules[0].when.field",
            "a condition here tests an item: write 'item:', not 'field:'",
        ),
    ],
)
def test_a_rule_condition_is_read_like_a_filter(
    tmp_path: Path, condition: str, where: str, reason: str
) -> None:
    text = (
        "layout: juki\nrules:\n  - {id: r, kind: required_if, file: jumin, then: [住定日],"
        f" message: m, when: {condition}}}\n"
    )
    with pytest.raises(RuleError) as caught:
        load_rules(write(tmp_path, text))
    assert where in str(caught.value) and reason in str(caught.value)


def test_the_old_where_key_is_refused(tmp_path: Path) -> None:
    text = RULE_FILE.replace(
        '    when: {item: 続柄, in: ["02"]}\n    message: 世帯に',
        '    where: {item: 続柄, in: ["02"]}\n    message: 世帯に',
    )
    with pytest.raises(RuleError, match=r"rules\[0\]\.where .*'where' is now 'when'"):
        load_rules(write(tmp_path, text))
