"""Hostile mapping specs and data: located errors (exit 2), the date policy, group_by accounting.

Every malformed spec must be one MappingError (a ConfigError, exit code 2) naming the file, the
key path and the line, never a traceback nor a spec that silently matches nothing.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.cli import cli
from etl.config import ConfigError
from etl.errors import ChukanError, MappingError
from etl.extract.base import BYTE_OFFSET, RECORD_NO
from etl.extract.profile import SourceField, SourceFile, SourceProfile, load_profile
from etl.layout import get_layout
from etl.layout.model import Item, ItemType, Layout, Provenance, RecordFile
from etl.mapping import compile_mapping, load_mapping, map_record_file
from etl.mapping.compile import CompiledMapping
from etl.mapping.model import MAX_EXPR_DEPTH
from etl.pipeline import JobOptions, run_job
from etl.resources import data_dir
from etl.text.wareki import load_eras

VENDOR_A = data_dir("mappings") / "vendor-a"
SAMPLE_A = data_dir("fixtures") / "vendor-a" / "sample"
ERAS = load_eras()


@pytest.fixture(scope="module")
def juki() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((VENDOR_A / "juki.yaml").read_text("utf-8"))
    return loaded


@pytest.fixture
def vendor(tmp_path: Path) -> Path:
    folder = tmp_path / "vendor"
    shutil.copytree(VENDOR_A, folder)
    return folder


def _compile(folder: Path, name: str = "juki.yaml") -> CompiledMapping:
    spec = load_mapping(folder / name)
    return compile_mapping(spec, get_layout("juki"), load_profile(folder), ERAS)


def _write(folder: Path, spec: dict[str, Any] | str) -> Path:
    path = folder / "juki.yaml"
    if isinstance(spec, str):
        text = spec
    else:
        try:
            text = yaml.safe_dump(spec, allow_unicode=True)
        except RecursionError:  # too deep for PyYAML's writer: JSON is YAML too
            text = json.dumps(spec, ensure_ascii=False)
    path.write_text(text, "utf-8")
    return path


# --- ≥ 30 malformed specs, each located ---------------------------------------------------------

Mutation = Callable[[dict[str, Any]], Any]


def _jumin(s: dict[str, Any]) -> dict[str, Any]:
    rf: dict[str, Any] = s["record_files"]["jumin"]
    return rf


def _items(s: dict[str, Any]) -> dict[str, Any]:
    items: dict[str, Any] = _jumin(s)["items"]
    return items


def _nested_concat(depth: int) -> dict[str, Any]:
    spec: dict[str, Any] = {"take": "shimei"}
    for _ in range(depth):
        spec = {"concat": [spec]}
    return spec


def _nested_not(depth: int) -> dict[str, Any]:
    cond: dict[str, Any] = {"field": "del_flg", "equals": "1"}
    for _ in range(depth):
        cond = {"not": cond}
    return cond


BAD_SPECS: list[tuple[str, Mutation, str, str]] = [
    # (id, mutation of vendor-a juki.yaml, key path in the message, part of the reason)
    ("record_files_list", lambda s: s.update(record_files=[1, 2]), "record_files", "dictionary"),
    ("record_files_empty", lambda s: s.update(record_files={}), "record_files", "at least 1"),
    ("layout_missing", lambda s: s.pop("layout"), "layout", "required key missing"),
    ("layout_int", lambda s: s.update(layout=7), "layout", "valid string"),
    ("unknown_top_key", lambda s: s.update(extra=1), "extra", "unknown key"),
    ("from_missing", lambda s: _jumin(s).pop("from"), "record_files.jumin.from", "missing"),
    ("from_list", lambda s: _jumin(s).update({"from": ["jumin"]}), "jumin.from", "string"),
    ("items_list", lambda s: _jumin(s).update(items=["a"]), "jumin.items", "dictionary"),
    (
        "item_not_mapping",
        lambda s: _items(s).update(氏名="shimei"),
        "jumin.items.氏名",
        "an item is a mapping",
    ),
    (
        "item_two_words",
        lambda s: _items(s).update(氏名={"take": "shimei", "const": "x"}),
        "jumin.items.氏名",
        "exactly one",
    ),
    (
        "item_unknown_key",
        lambda s: _items(s)["氏名"].update(sep="-"),
        "jumin.items.氏名.sep",
        "unknown key next to take",
    ),
    (
        "take_int",
        lambda s: _items(s).update(氏名={"take": 12}),
        "jumin.items.氏名.take",
        "valid string",
    ),
    (
        "const_int",
        lambda s: _items(s).update(住民種別={"const": 1}),
        "items.住民種別.const",
        "quote codes",
    ),
    (
        "concat_300_deep",
        lambda s: _items(s).update(氏名=_nested_concat(300)),
        "",
        "nested deeper than",
    ),
    (
        "concat_17_deep",
        lambda s: _items(s).update(氏名=_nested_concat(MAX_EXPR_DEPTH)),
        "jumin.items.氏名.concat[0]",
        f"nested deeper than {MAX_EXPR_DEPTH}",
    ),
    (
        "concat_empty",
        lambda s: _items(s).update(氏名={"concat": []}),
        "items.氏名.concat",
        "at least 1",
    ),
    (
        "concat_sep_int",
        lambda s: _items(s).update(氏名={"concat": [{"take": "shimei"}], "sep": 0}),
        "items.氏名.sep",
        "valid string",
    ),
    (
        "then_not_list",
        lambda s: _items(s)["氏名"].update(then="trim"),
        "items.氏名.then",
        "valid list",
    ),
    (
        "unknown_step",
        lambda s: _items(s)["氏名"].update(then=["zap"]),
        "items.氏名.then[0]",
        "unknown step 'zap'",
    ),
    (
        "step_two_keys",
        lambda s: _items(s)["氏名"].update(then=[{"trim": None, "pad": None}]),
        "items.氏名.then[0]",
        "one-key mapping",
    ),
    (
        "split_huge_index",
        lambda s: _items(s)["氏名"].update(then=[{"split": {"sep": "-", "index": 10**12}}]),
        "items.氏名.then[0].split.index",
        "less than or equal to 255",
    ),
    (
        "split_index_text",
        lambda s: _items(s)["氏名"].update(then=[{"split": {"sep": "-", "index": "1"}}]),
        "then[0].split.index",
        "valid integer",
    ),
    (
        "pad_huge",
        lambda s: _items(s)["氏名"].update(then=[{"pad": {"length": 10**9}}]),
        "then[0].pad.length",
        "less than or equal",
    ),
    (
        "pad_char_two",
        lambda s: _items(s)["氏名"].update(then=[{"pad": {"length": 3, "char": "00"}}]),
        "then[0].pad.char",
        "at most 1 character",
    ),
    (
        "kana_unknown",
        lambda s: _items(s)["氏名"].update(then=[{"kana": "romaji"}]),
        "then[0].kana",
        "zenkaku",
    ),
    (
        "trim_with_args",
        lambda s: _items(s)["氏名"].update(then=[{"trim": {"x": 1}}]),
        "then[0].trim",
        "takes no arguments",
    ),
    (
        "pad_without_args",
        lambda s: _items(s)["氏名"].update(then=["pad"]),
        "items.氏名.then[0]",
        "needs arguments",
    ),
    (
        "date_format_Q",
        lambda s: _items(s).update(生年月日={"take": "birth_ymd", "then": [{"date_format": "%Q"}]}),
        "items.生年月日.then[0].date_format",
        "%Q is not a date directive",
    ),
    (
        "date_format_no_day",
        lambda s: _items(s).update(
            生年月日={"take": "birth_ymd", "then": [{"date_format": "%Y%m"}]}
        ),
        "then[0].date_format",
        "a year, a month and a day",
    ),
    (
        "date_format_lone_percent",
        lambda s: _items(s).update(
            生年月日={"take": "birth_ymd", "then": [{"date_format": "%Y%m%d%"}]}
        ),
        "then[0].date_format",
        "lone %",
    ),
    (
        "on_invalid_unknown",
        lambda s: _items(s)["生年月日"]["wareki"].update(on_invalid="drop"),
        "items.生年月日.wareki.on_invalid",
        "'reject' or 'keep_empty'",
    ),
    (
        "wareki_missing_date",
        lambda s: _items(s)["生年月日"]["wareki"].pop("date"),
        "items.生年月日.wareki.date",
        "required key missing",
    ),
    (
        "code_map_unmapped",
        lambda s: _items(s)["性別"].update(then=[{"code_map": {"table": "sex", "unmapped": 0}}]),
        "then[0].code_map.unmapped",
        "'keep' or 'null'",
    ),
    (
        "in_integers",
        lambda s: _jumin(s)["filters"][0].update(when={"field": "del_flg", "in": [2, 3]}),
        "jumin.filters[0].when.in[0]",
        "quote codes",
    ),
    (
        "equals_integer",
        lambda s: _jumin(s)["filters"][0].update(when={"field": "del_flg", "equals": 1}),
        "filters[0].when.equals",
        "quote codes",
    ),
    (
        "condition_two_tests",
        lambda s: _jumin(s)["filters"][0].update(
            when={"field": "del_flg", "equals": "1", "blank": True}
        ),
        "filters[0].when",
        "exactly one of equals, in, blank",
    ),
    (
        "condition_on_an_item",  # a validator's subject key: the one language, another subject
        lambda s: _jumin(s)["filters"][0].update(when={"item": "del_flg", "equals": "1"}),
        "filters[0].when.item",
        "a condition here tests a field: write 'field:', not 'item:'",
    ),
    (
        "condition_all_empty",
        lambda s: _jumin(s)["filters"][0].update(when={"all": []}),
        "filters[0].when.all",
        "at least 1",
    ),
    (
        "condition_17_deep",
        lambda s: _jumin(s)["filters"][0].update(when=_nested_not(MAX_EXPR_DEPTH)),
        "filters[0].when.not",
        "conditions are nested deeper",
    ),
    (
        "filter_blank_reason",
        lambda s: _jumin(s)["filters"][0].update(reason="  "),
        "filters[0].reason",
        "pattern",
    ),
    (
        "table_both",
        lambda s: s["tables"].update(sex={"file": "codes/sex.csv", "inline": {"M": "1"}}),
        "tables.sex",
        "exactly one of 'file' or 'inline'",
    ),
    (
        "inline_int_value",
        lambda s: s["tables"].update(era={"inline": {"H": 4}}),
        "tables.era.inline.H",
        "quote codes",
    ),
    (
        "table_dotdot",
        lambda s: s["tables"].update(sex={"file": "../vendor-b/codes/sex.csv"}),
        "tables.sex.file",
        "it must stay inside",
    ),
    (
        "table_absolute",
        lambda s: s["tables"].update(sex={"file": "/etc/passwd"}),
        "tables.sex.file",
        "is absolute; give it relative to its folder",
    ),
    (
        "count_without_group_by",
        lambda s: _items(s).update(記載順位={"count": True}),
        "items.記載順位.count",
        "needs group_by",
    ),
    (
        "group_by_empty",
        lambda s: s["record_files"]["setai"].update(group_by=[]),
        "setai.group_by",
        "at least 1",
    ),
    (
        "control_both_kinds",
        lambda s: s["controls"][0].update(sum="性別"),
        "controls[0]",
        "exactly one of sum, count_by",
    ),
    (
        "lookup_join_empty",
        lambda s: s["record_files"]["setai"]["lookups"]["head"].update(join={}),
        "lookups.head.join",
        "at least 1",
    ),
    # found only when compiled against the layout and the source profile
    (
        "unknown_field",
        lambda s: _items(s).update(氏名={"take": "shimei_typo"}),
        "items.氏名.take",
        "unknown source field 'shimei_typo'",
    ),
    (
        "unknown_table",
        lambda s: _items(s)["性別"].update(then=[{"code_map": "nope"}]),
        "items.性別.then[0]",
        "known table",
    ),
    (
        "unknown_filter_field",
        lambda s: _jumin(s)["filters"][0].update(when={"field": "nope", "equals": "1"}),
        "filters[0].when.field",
        "unknown field 'nope'",
    ),
    (
        "group_by_unknown_field",
        lambda s: s["record_files"]["setai"].update(group_by=["nope"]),
        "setai.group_by[0]",
        "unknown field 'nope'",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "key_path", "reason"),
    [pytest.param(m, k, r, id=i) for i, m, k, r in BAD_SPECS],
)
def test_bad_spec_is_one_located_error(
    vendor: Path, juki: dict[str, Any], mutate: Mutation, key_path: str, reason: str
) -> None:
    spec = copy.deepcopy(juki)
    mutate(spec)
    _write(vendor, spec)
    with pytest.raises(MappingError) as info:
        _compile(vendor)
    err = info.value
    assert isinstance(err, ConfigError) and err.exit_code == 2
    text = str(err)
    assert text.startswith(f"{vendor / 'juki.yaml'}: "), text
    assert key_path in err.key_path, text
    assert reason in text, text
    if key_path:
        assert err.line is not None and "(line " in text, text


@pytest.mark.parametrize(
    ("text", "key_path", "reason"),
    [
        # YAML reads 02 as the integer 2: it would match no code, so it is refused with a hint
        ('when: {field: del_flg, equals: "1"}', "when.equals", None),
        ("when: {field: del_flg, in: [02, 03]}", "filters[0].when.in[0]", "quote codes"),
        ("when: {field: del_flg, equals: 1}", "filters[0].when.equals", "'02', not 02"),
    ],
)
def test_yaml_integer_codes_are_refused(
    vendor: Path, text: str, key_path: str, reason: str | None
) -> None:
    spec = (VENDOR_A / "juki.yaml").read_text("utf-8")
    _write(vendor, spec.replace('when: {field: del_flg, equals: "1"}', text))
    if reason is None:
        _compile(vendor)  # the quoted original compiles
        return
    with pytest.raises(MappingError) as info:
        _compile(vendor)
    assert key_path in info.value.key_path and reason in str(info.value)
    assert (
        info.value.line
        == spec.splitlines().index(next(line for line in spec.splitlines() if "del_flg" in line))
        + 1
    )


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        (b"from,to\nM,1\nM,2\n", 3, "duplicate code 'M' (first on line 2)"),
        (b"code,value\nM,1\n", 1, "header 'from,to'"),
        (b"from,to\nM,1,x\n", 2, "expected 2 columns"),
        (b"from,to\n,1\n", 2, "empty code"),
        (b"from,to\nM,\x82\xa0\n", 2, "CP932"),
        (b'from,to\nM,"1\n', 2, "invalid CSV"),
        (b"", 1, "header 'from,to'"),
    ],
)
def test_code_table_errors_name_file_and_line(
    vendor: Path, content: bytes, line: int, reason: str
) -> None:
    (vendor / "codes" / "sex.csv").write_bytes(content)
    with pytest.raises(MappingError) as info:
        _compile(vendor)
    assert info.value.path == vendor / "codes" / "sex.csv"
    assert info.value.line == line and reason in str(info.value), str(info.value)


def test_code_table_must_be_a_regular_file_inside_the_folder(vendor: Path, tmp_path: Path) -> None:
    (vendor / "codes" / "sex.csv").unlink()
    (vendor / "codes" / "sex.csv").mkdir()
    with pytest.raises(MappingError, match="is a directory"):
        _compile(vendor)
    (vendor / "codes" / "sex.csv").rmdir()
    outside = tmp_path / "outside.csv"
    outside.write_text("from,to\nM,1\nF,2\n", "utf-8")
    (vendor / "codes" / "sex.csv").symlink_to(outside)
    with pytest.raises(MappingError, match=r"tables\.sex\.file .*outside .*it must stay inside"):
        _compile(vendor)
    (vendor / "codes" / "sex.csv").unlink()
    with pytest.raises(MappingError, match=r"juki\.yaml: tables\.sex\.file .*code table not found"):
        _compile(vendor)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("layout: juki\nrecord_files: {a: &x {from: jumin}}\nb: *x\n", "aliases"),
        ("layout: juki\nlayout: kokunen\n", "duplicate key"),
        ("- 1\n- 2\n", "a mapping spec is a mapping"),
        ("layout: [unclosed\n", "invalid YAML"),
    ],
)
def test_cli_exits_2_with_one_message(vendor: Path, tmp_path: Path, text: str, reason: str) -> None:
    _write(vendor, text)
    out = tmp_path / "out"
    ran = CliRunner().invoke(
        cli, ["run", "--vendor", str(vendor), "--dump", str(SAMPLE_A), "--out", str(out)]
    )
    assert ran.exit_code == 2, ran.output
    flat = " ".join(ran.output.split())
    assert "juki.yaml" in flat and reason in flat and "Traceback" not in ran.output
    assert not out.exists()


def test_cli_names_key_path_and_line_of_a_bad_step(vendor: Path, tmp_path: Path) -> None:
    spec = (VENDOR_A / "juki.yaml").read_text("utf-8")
    _write(
        vendor,
        spec.replace('{split: {sep: "-", index: 0}}', '{split: {sep: "-", index: 99999999999}}', 1),
    )
    ran = CliRunner().invoke(
        cli, ["run", "--vendor", str(vendor), "--dump", str(SAMPLE_A), "--out", str(tmp_path / "o")]
    )
    flat = "".join(ran.output.split())
    assert ran.exit_code == 2 and "Traceback" not in ran.output
    assert "record_files.jumin.items.郵便番号.concat[0].then[1].split.index(line" in flat


# --- hypothesis: a mutated vendor spec is a Mapping or a ConfigError, nothing else --------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.text(max_size=8),
    st.sampled_from(["trim", "take", "concat", "%Q", "reject", "keep_empty", "jumin", "sex"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(node: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at]
    if isinstance(node, dict):
        for k, v in node.items():
            found += _paths(v, (*at, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += _paths(v, (*at, i))
    return found


@st.composite
def mutated_specs(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    spec = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(spec)
        at = draw(st.sampled_from(paths))
        if not at:
            continue
        parent: Any = spec
        for part in at[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[at[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=6))] = draw(VALUES)
        else:
            parent[at[-1]] = draw(VALUES)
    return spec


_JUKI = yaml.safe_load((VENDOR_A / "juki.yaml").read_text("utf-8"))


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=mutated_specs(_JUKI))
def test_mutated_spec_is_a_mapping_or_a_config_error(vendor: Path, spec: dict[str, Any]) -> None:
    _write(vendor, spec)
    try:
        compiled = _compile(vendor)
    except ConfigError as exc:
        assert isinstance(exc, MappingError) and exc.exit_code == 2
        assert str(exc).startswith(str(vendor / "juki.yaml"))
        return
    assert isinstance(compiled, CompiledMapping)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_mangled_spec_text_is_a_mapping_or_a_config_error(
    vendor: Path, data: st.DataObject
) -> None:
    text = (VENDOR_A / "juki.yaml").read_bytes()
    at = data.draw(st.integers(0, len(text) - 1))
    junk = data.draw(st.binary(min_size=0, max_size=4))
    (vendor / "juki.yaml").write_bytes(text[:at] + junk + text[at + data.draw(st.integers(0, 3)) :])
    try:
        _compile(vendor)
    except ChukanError as exc:
        assert isinstance(exc, ConfigError) and exc.exit_code == 2


# --- the date policy: reject (default) or keep_empty ---------------------------------------

PEOPLE = (
    Item("宛名番号", ItemType.DIGITS, 15, required=True),
    Item("生年月日", ItemType.DATE, 8),
    Item("個人番号", ItemType.DIGITS, 12, sensitive=True),
)
LAYOUT = Layout(
    id="t",
    name="テスト",
    version="2.1",
    record_files=(
        RecordFile("p", "人", PEOPLE, ("宛名番号",)),
        RecordFile(
            "g",
            "世帯",
            (
                Item("世帯番号", ItemType.DIGITS, 15, required=True),
                Item("世帯員数", ItemType.INTEGER, 3),
                Item("合計", ItemType.INTEGER, 9),
                Item("世帯主", ItemType.TEXT, 10),
                Item("最後", ItemType.TEXT, 10),
                Item("生年月日", ItemType.DATE, 8),
            ),
            ("世帯番号",),
        ),
    ),
    provenance=Provenance("authored"),
)
PROFILE = SourceProfile(
    vendor="t",
    format="fixed_width",
    encoding="cp932",
    files=(
        SourceFile(
            name="person",
            path="person",
            fields=tuple(
                SourceField(f)
                for f in ("no", "era", "ymd", "mynum", "setai", "name", "zoku", "amount", "st")
            ),
        ),
    ),
    folder=Path("."),
)


def _people() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "no": ["1", "2", "3", "4", "5", "6"],
            "era": ["H", "H", "X", "R", "", "9"],
            "ymd": ["310430", "310230", "010101", "010501", "010101", "010101"],
            "mynum": ["123456789012"] * 6,
            "setai": ["A", "B", "A", "B", "A", "C"],
            "name": ["長男", "父", "母", "子", "祖母", "単身"],
            "zoku": ["03", "01", "02", "03", "04", "01"],
            "amount": ["10", "20", "x", " 5", "", "7"],
            "st": ["1", "1", "1", "1", "1", "9"],
        }
    ).with_columns(
        pl.int_range(1, 7, dtype=pl.Int64).alias(RECORD_NO),
        (pl.int_range(0, 6, dtype=pl.Int64) * 80).alias(BYTE_OFFSET),
    )


def _person_spec(wareki: dict[str, Any]) -> dict[str, Any]:
    return {
        "layout": "t",
        "tables": {"era": {"inline": {"H": "04", "R": "05", "X": "99"}}},
        "record_files": {
            "p": {
                "from": "person",
                "filters": [{"when": {"field": "st", "equals": "9"}, "reason": "対象外"}],
                "items": {
                    "宛名番号": {"take": "no"},
                    "生年月日": {"wareki": wareki},
                    "個人番号": {"take": "mynum"},
                },
            }
        },
    }


def _map(tmp_path: Path, spec: dict[str, Any], target: int = 0) -> Any:
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), "utf-8")
    cm = compile_mapping(load_mapping(path), LAYOUT, PROFILE, ERAS)
    return map_record_file(cm.record_files[target], {"person": _people()}, "t")


def test_invalid_dates_are_rejected_by_default(tmp_path: Path) -> None:
    mt = _map(tmp_path, _person_spec({"era": "era", "date": "ymd", "era_table": "era"}))
    # 1 written, 2 (平成31年2月30日), 3 (X → 99, not an era), 5 (blank era) rejected, 6 filtered
    assert mt.frame["宛名番号"].to_list() == ["1", "4"]
    assert mt.rejected.select("record_no", "byte_offset", "reason").rows() == [
        (2, 80, "生年月日: 存在しない日付"),
        (3, 160, "生年月日: 年号コード不明"),
        (5, 320, "生年月日: 年号コード不明"),
    ]
    assert mt.filtered["record_no"].to_list() == [6]
    assert mt.balanced and mt.source_records == 2 + 3 + 1
    f = mt.findings.sort("record_no")
    assert f.select("rule", "severity", "record_no", "key", "value").rows() == [
        ("mapping.invalid_date", "error", 2, "2", "H310230"),
        ("mapping.unknown_era", "error", 3, "3", "X010101"),
        ("mapping.unknown_era", "error", 5, "5", "010101"),
    ]
    assert f["message"].to_list() == [
        "生年月日の和暦日付「H310230」は存在しない日付です。レコードを除外しました",
        "生年月日の年号コード X は不明です（和暦日付「X010101」）。レコードを除外しました",
        "生年月日の年号コード （空欄） は不明です（和暦日付「010101」）。レコードを除外しました",
    ]
    assert "123456789012" not in str(f.rows())


def test_keep_empty_writes_the_record_with_a_blocking_finding(tmp_path: Path) -> None:
    mt = _map(
        tmp_path,
        _person_spec({"era": "era", "date": "ymd", "era_table": "era", "on_invalid": "keep_empty"}),
    )
    assert mt.frame.select("宛名番号", "生年月日").rows() == [
        ("1", "20190430"),
        ("2", None),
        ("3", None),
        ("4", "20190501"),
        ("5", None),
    ]
    assert mt.rejected.height == 0 and mt.balanced
    f = mt.findings.sort("record_no")
    assert f.select("rule", "severity", "value").rows() == [
        ("mapping.invalid_date", "error", "H310230"),  # the original value is kept
        ("mapping.unknown_era", "error", "X010101"),
        ("mapping.unknown_era", "error", "010101"),
    ]
    assert f["message"][0] == "生年月日の和暦日付「H310230」は存在しない日付です"


def test_unknown_era_code_without_a_table(tmp_path: Path) -> None:
    spec = _person_spec({"era": "era", "date": "ymd", "on_invalid": "keep_empty"})
    spec["record_files"]["p"]["filters"] = []
    mt = _map(tmp_path, spec)
    row = mt.findings.filter(pl.col("record_no") == 6)
    assert row["rule"].to_list() == ["mapping.unknown_era"]
    assert "年号コード 9 は不明" in row["message"][0] and "存在しない日付" not in row["message"][0]


@pytest.mark.parametrize(
    ("step", "values"),
    [
        ({"date_format": "%Y/%m/%d"}, ["2019/02/30", "2019/04/30"]),
        ({"date_format": {"format": "%Y/%m/%d", "on_invalid": "keep_empty"}}, None),
    ],
)
def test_date_format_follows_the_policy(
    tmp_path: Path, step: dict[str, Any], values: list[str] | None
) -> None:
    spec = _person_spec({"era": "era", "date": "ymd", "era_table": "era"})
    spec["record_files"]["p"]["filters"] = []
    spec["record_files"]["p"]["items"]["生年月日"] = {"take": "name", "then": [step]}
    mt = _map(tmp_path, spec)
    if values is not None:
        assert mt.frame.height == 0 and mt.rejected.height == 6 and mt.balanced
        assert set(mt.rejected["reason"]) == {"生年月日: 存在しない日付"}
    else:
        assert mt.frame.height == 6 and mt.rejected.height == 0
        assert mt.findings["severity"].unique().to_list() == ["error"]


def test_rejected_records_are_counted_in_the_run(tmp_path: Path) -> None:
    """The bundled sample with `on_invalid: reject`: the two impossible dates are rejected and
    the manifest still adds up (records_in = written + rejected + filtered)."""
    folder = tmp_path / "vendor"
    shutil.copytree(VENDOR_A, folder)
    spec = folder / "juki.yaml"
    spec.write_text(spec.read_text("utf-8").replace("keep_empty", "reject"), "utf-8")
    options = JobOptions(
        vendor_folder=folder,
        dump_dir=SAMPLE_A,
        out_dir=tmp_path / "o",
        gyomu=("juki",),
        chunk_records=50,  # jumin is mapped chunk by chunk: the rejects of each chunk add up
    )
    result = run_job(options)
    jumin = next(o for o in result.manifest.outputs if o.record_file == "jumin")
    assert jumin.rejected == {"住定日: 存在しない日付": 1, "生年月日: 存在しない日付": 1}
    assert jumin.source_data_records == (
        jumin.written + jumin.rejected_total + sum(jumin.filtered.values())
    )
    assert jumin.written == 196 and jumin.balanced is True
    rejected = result.findings.filter(pl.col("message").str.contains("レコードを除外しました"))
    assert sorted(rejected["record_no"].to_list()) == [85, 129]
    assert result.blocking > 0
    assert not result.manifest.reconciliation.unexplained


# --- group_by: 世帯 from a person-only file ----------------------------------------------


def _household_spec(**extra: Any) -> dict[str, Any]:
    return {
        "layout": "t",
        "record_files": {
            "g": {
                "from": "person",
                "group_by": ["setai"],
                "filters": [{"when": {"field": "st", "equals": "9"}, "reason": "対象外"}],
                "items": {
                    "世帯番号": {"take": "setai"},
                    "世帯員数": {"count": True},
                    "合計": {"sum": "amount"},
                    "世帯主": {"first": "name", "order_by": ["zoku"]},
                    "最後": {"last": "name"},
                    "生年月日": {"const": None},
                    **extra,
                },
            }
        },
    }


def test_group_by_count_sum_first_last(tmp_path: Path) -> None:
    mt = _map(tmp_path, _household_spec())
    assert mt.frame.drop("_source").rows() == [
        # _record_no of the group's first record; groups in order of first appearance
        (1, "A", "3", "10", "母", "祖母", None),
        (2, "B", "2", "25", "父", "子", None),
    ]
    # 6 records: 5 folded into the 2 written groups + 1 filtered; none lost
    assert mt.aggregated == 5 and mt.filtered.height == 1 and mt.balanced
    bad = mt.findings.filter(pl.col("rule") == "mapping.not_a_number")
    assert bad.select("record_no", "key", "value").rows() == [(1, "A", "1")]  # "x" in 世帯 A


def test_group_by_reads_only_keys_outside_aggregates(tmp_path: Path) -> None:
    spec = _household_spec(世帯主={"take": "name"})
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), "utf-8")
    with pytest.raises(MappingError, match=r"items\.世帯主\.take .*not a group_by field"):
        compile_mapping(load_mapping(path), LAYOUT, PROFILE, ERAS)


def test_group_by_reject_rejects_every_record_of_the_group(tmp_path: Path) -> None:
    spec = _household_spec(
        生年月日={"wareki": {"era": "setai", "date": "setai"}}  # never a date: every group
    )
    spec["record_files"]["g"]["group_by"] = ["setai"]
    mt = _map(tmp_path, spec)
    assert mt.frame.height == 0 and mt.aggregated == 0
    assert sorted(mt.rejected["record_no"].to_list()) == [1, 2, 3, 4, 5]
    assert mt.balanced


def test_group_by_order_is_deterministic(tmp_path: Path) -> None:
    first = _map(tmp_path, _household_spec()).frame
    for _ in range(3):
        assert _map(tmp_path, _household_spec()).frame.equals(first)


def test_docs_example_derives_setai_from_jumin(tmp_path: Path) -> None:
    """docs/mapping-spec.md's group_by example on the bundled sample: 世帯情報 from 住民 only."""
    doc = (Path(__file__).parents[2] / "docs" / "mapping-spec.md").read_text("utf-8")
    example = doc.split("## Aggregation")[1].split("```yaml\n")[1].split("```")[0]
    folder = tmp_path / "vendor"
    shutil.copytree(VENDOR_A, folder)
    spec = yaml.safe_load((folder / "juki.yaml").read_text("utf-8"))
    spec["record_files"]["setai"] = yaml.safe_load(example)["record_files"]["setai"]
    _write(folder, spec)
    result = run_job(
        JobOptions(vendor_folder=folder, dump_dir=SAMPLE_A, out_dir=tmp_path / "o", gyomu=("juki",))
    )
    by_file = {o.record_file: o for o in result.manifest.outputs}
    jumin, setai = by_file["jumin"], by_file["setai"]
    assert setai.source == "jumin" and setai.balanced is True
    assert setai.aggregated_records is not None
    assert setai.source_data_records == setai.aggregated_records + sum(setai.filtered.values())
    # a person rejected from 住民情報 for a date that does not exist is still a 世帯員
    persons = jumin.written + jumin.rejected_total
    assert setai.aggregated_records == persons
    written = pl.read_csv(result.out_dir / "juki" / "setai.csv", infer_schema=False)
    assert written.height == setai.written == written["世帯番号"].n_unique()
    assert written["世帯員数"].cast(pl.Int64).sum() == persons
