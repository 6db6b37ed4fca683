"""住民記録 dates the calendar does not hold (年月日不詳, 月日不詳, 日不詳, 平年の2月29日):
carried by a ``registry_date`` item, a finding of their own where a ``date`` item cannot
hold them."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from etl.extract import vendor_profile
from etl.extract.base import BYTE_OFFSET, RECORD_NO
from etl.extract.profile import SourceField, SourceFile, SourceProfile
from etl.layout.model import Item, ItemType, Layout, Provenance, RecordFile
from etl.mapping import compile_mapping, load_mapping, map_record_file
from etl.pipeline import JobOptions, run_job
from etl.resources import data_dir
from etl.text.wareki import load_eras
from etl.validate import RuleSet, validate_layout

LAYOUT = Layout(
    id="t",
    name="テスト",
    version="2.1",
    record_files=(
        RecordFile(
            "p",
            "人",
            (
                Item("宛名番号", ItemType.DIGITS, 15, required=True),
                Item("生年月日", ItemType.REGISTRY_DATE, 8),
                Item("住定日", ItemType.DATE, 8),
            ),
            ("宛名番号",),
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
            name="person", path="p", fields=tuple(SourceField(f) for f in ("no", "era", "ymd"))
        ),
    ),
    folder=Path("."),
)
# era code as the vendor wrote it, YYMMDD, and what each item should hold
ROWS = [
    ("S", "250000", "19500000"),  # 月日不詳
    ("S", "250300", "19500300"),  # 日不詳
    ("S", "260229", "19510229"),  # 平年の2月29日
    (" ", "000000", "00000000"),  # 年月日不詳, no era code
    ("M", "450730", "19120730"),  # 明治45年7月30日 = 大正元年7月30日
    ("H", "010108", "19890108"),  # a calendar date
]


def _map(tmp_path: Path, on_invalid: str) -> Any:
    wareki = {"era": "era", "date": "ymd", "era_table": "era", "on_invalid": on_invalid}
    spec = {
        "layout": "t",
        "tables": {"era": {"inline": {"M": "01", "T": "02", "S": "03", "H": "04"}}},
        "record_files": {
            "p": {
                "from": "person",
                "items": {
                    "宛名番号": {"take": "no"},
                    "生年月日": {"wareki": dict(wareki)},
                    "住定日": {"wareki": dict(wareki)},
                },
            }
        },
    }
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    compiled = compile_mapping(load_mapping(path), LAYOUT, PROFILE, load_eras())
    person = pl.DataFrame(
        {
            "no": [str(i) for i in range(1, len(ROWS) + 1)],
            "era": [r[0] for r in ROWS],
            "ymd": [r[1] for r in ROWS],
        }
    ).with_columns(
        pl.int_range(1, len(ROWS) + 1, dtype=pl.Int64).alias(RECORD_NO),
        pl.int_range(0, len(ROWS), dtype=pl.Int64).alias(BYTE_OFFSET),
    )
    return map_record_file(compiled.record_files[0], {"person": person}, "t")


def test_registry_date_item_carries_every_form_a_date_item_reports_it(tmp_path: Path) -> None:
    mt = _map(tmp_path, "keep_empty")
    assert mt.frame["生年月日"].to_list() == [r[2] for r in ROWS]
    # the calendar-date item keeps only the calendar dates, and says why for the others
    assert mt.frame["住定日"].to_list() == [None, None, None, None, "19120730", "19890108"]
    told = mt.findings.filter(pl.col("item") == "住定日").sort("record_no")
    assert told["rule"].to_list() == ["mapping.registry_date"] * 4
    assert told["value"].to_list() == ["S250000", "S250300", "S260229", "000000"]
    assert told["message"].to_list() == [
        "住定日の和暦日付「S250000」は月日不詳の日付で、この項目の型（日付）では表せません",
        "住定日の和暦日付「S250300」は日不詳の日付で、この項目の型（日付）では表せません",
        "住定日の和暦日付「S260229」は平年の2月29日の日付で、この項目の型（日付）では表せません",
        "住定日の和暦日付「000000」は年月日不詳の日付で、この項目の型（日付）では表せません",
    ]
    assert mt.findings.filter(pl.col("item") == "生年月日").height == 0
    # what was written passes the layout's own checks: 19500000 is a registry date
    findings = validate_layout(LAYOUT, {"p": mt.frame}, RuleSet("t"))
    assert findings.filter(pl.col("item") == "生年月日").height == 0


def test_a_date_item_rejects_a_registry_date_when_told_to(tmp_path: Path) -> None:
    mt = _map(tmp_path, "reject")
    assert mt.frame["宛名番号"].to_list() == ["5", "6"]
    assert mt.rejected.height == 4
    assert set(mt.rejected["reason"].to_list()) == {"住定日: 日付の型で表せない日付"}
    assert mt.balanced


@pytest.mark.parametrize(
    ("item_type", "value", "ok"),
    [
        (ItemType.REGISTRY_DATE, "19500000", True),
        (ItemType.REGISTRY_DATE, "19501200", True),
        (ItemType.REGISTRY_DATE, "19510229", True),
        (ItemType.REGISTRY_DATE, "00000000", True),
        (ItemType.REGISTRY_DATE, "19501300", False),
        (ItemType.REGISTRY_DATE, "19500001", False),  # a day without a month
        (ItemType.REGISTRY_DATE, "19500230", False),
        (ItemType.DATE, "19500000", False),
        (ItemType.DATE, "19510229", False),
        (ItemType.DATE, "19520229", True),
    ],
)
def test_schema_check_of_date_types(item_type: ItemType, value: str, ok: bool) -> None:
    layout = Layout(
        id="t",
        name="テスト",
        version="2.1",
        record_files=(
            RecordFile(
                "p", "人", (Item("番号", ItemType.DIGITS, 1), Item("日", item_type, 8)), ("番号",)
            ),
        ),
        provenance=Provenance("authored"),
    )
    frame = pl.DataFrame({RECORD_NO: [1], "_source": ["s"], "番号": ["1"], "日": [value]})
    findings = validate_layout(layout, {"p": frame}, RuleSet("t"))
    assert findings.filter(pl.col("rule") == "schema.date").is_empty() is ok


def test_a_vendor_a_dump_with_registry_birth_dates_is_written_whole(tmp_path: Path) -> None:
    """The sample with three persons' 生年月日 made 月日不詳, 平年の2月29日 and 年月日不詳 (era
    blank): the run writes them to 住民情報 and no finding is about them."""
    dump = tmp_path / "dump"
    shutil.copytree(data_dir("fixtures") / "vendor-a" / "sample", dump)
    jumin = bytearray((dump / "JUMIN.DAT").read_bytes())
    src = vendor_profile("vendor-a").file("jumin")
    fields = {f.name: f for f in src.fields}
    length = 300
    patched = {1: b"S250000", 2: b"S260229", 3: b" 000000"}
    atena = {}
    for n, value in patched.items():
        start = n * length  # record 0 is the header
        era = fields["birth_era"].offset or 0
        jumin[start + era : start + era + 7] = value
        no = fields["atena_no"]
        atena[n] = jumin[start + (no.offset or 0) : start + (no.offset or 0) + (no.length or 0)]
    (dump / "JUMIN.DAT").write_bytes(bytes(jumin))
    result = run_job(
        JobOptions(data_dir("mappings") / "vendor-a", dump, tmp_path / "out", gyomu=("juki",))
    )
    written = pl.read_csv(
        tmp_path / "out" / "juki" / "jumin.csv", encoding="utf8-lossy", infer_schema=False
    )
    born = dict(zip(written["宛名番号"], written["生年月日"], strict=True))
    got = [born[a.decode("ascii").strip()] for a in atena.values()]
    assert got == ["19500000", "19510229", "00000000"]
    about_birth = result.findings.filter(pl.col("item") == "生年月日")
    assert about_birth.filter(
        pl.col("key").is_in([a.decode("ascii").strip() for a in atena.values()])
    ).is_empty()
