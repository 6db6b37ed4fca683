"""DECIMAL end to end, and the item-type table that every consumer derives its types from.

A test-only 業務 (固定資産税, 土地: 地積 with two decimals) is built in a temporary layout folder
with its own vendor folder, so the bundled layouts and every golden stay as they are: a packed
S9(7)V99 field → take → V2.1 CSV → package → verify → DuckDB and PostgreSQL numeric(9, 2) →
read back, with the sum controls exact to the last digit at every step.
"""

from __future__ import annotations

import csv
import io
import json
import random
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import etl.layout.load as layout_load
from etl.dbload import load_run
from etl.dbload.schema import column_type
from etl.dbload.target import Engine
from etl.errors import LayoutError, ProfileError
from etl.extract.numeric import decode_packed, decode_zoned
from etl.extract.profile import load_profile
from etl.layout import Item, ItemType, get_layout, versions
from etl.layout.types import CALENDAR_DATE_PATTERN, TYPE_TABLE, SqlDialect, type_rule
from etl.mapping.transforms.sources import decimal_text
from etl.package import build_package, verify_package
from etl.package.schema import FieldRule, check_table, field_rule
from etl.pipeline.job import JobOptions, run_job
from etl.resources import data_dir
from etl.validate.checks import SchemaRule
from etl.validate.schema import schema_findings
from etl.write.csv_out import CsvFormat, encode_csv

VERSION = "vdecimal-test"  # a layout version folder that only this module creates
RECORDS = 1_000_000  # 10^6 地積 with two decimals, summed exactly
RECORD_LENGTH = 23  # 物件番号 10 + 地積 packed 5 + 登記年月日 8

LAYOUT = """\
id: kotei_demo
name: 固定資産税（テスト）
provenance: {source: authored, note: test-only layout of tests/test_decimal_end_to_end.py}
record_files:
  - id: tochi
    name: 土地
    key: [物件番号]
    items:
      - {name: 物件番号, type: digits, digits: 10, required: true}
      - {name: 地積, type: decimal, digits: 9, scale: 2, required: true, description: ㎡}
      - {name: 登記年月日, type: date, digits: 8}
"""
SOURCE = f"""\
vendor: vendor-decimal
format: fixed_width
encoding: cp932
files:
  - name: tochi
    path: TOCHI.DAT
    record_length: {RECORD_LENGTH}
    fields:
      - {{name: bukken_no, offset: 0, length: 10, type: digits}}
      - {{name: chiseki, offset: 10, length: 5, type: packed, scale: 2}}   # S9(7)V99 COMP-3
      - {{name: toki_ymd, offset: 15, length: 8, type: digits}}
"""
MAPPING = """\
layout: kotei_demo
record_files:
  tochi:
    from: tochi
    items:
      物件番号: {take: bukken_no}
      地積: {take: chiseki}
      登記年月日: {take: toki_ymd}
controls:
  - {record_file: tochi, sum: 地積, source: {take: chiseki}}
"""


def packed(values: np.ndarray, length: int) -> np.ndarray:
    """COMP-3 bytes of signed integers, shape (n, length): the test's own encoder."""
    digits = 2 * length - 1
    magnitude = np.abs(values).astype(np.uint64)
    nibbles = np.empty((len(values), digits + 1), dtype=np.uint8)
    for j in range(digits - 1, -1, -1):  # a column at a time, never a row
        nibbles[:, j] = (magnitude % np.uint64(10)).astype(np.uint8)
        magnitude //= np.uint64(10)
    nibbles[:, digits] = np.where(values < 0, 0xD, 0xC)
    return (nibbles[:, 0::2] << 4) | nibbles[:, 1::2]


@pytest.fixture(scope="module")
def layouts_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The bundled layouts/ plus the test-only version folder, as the layouts home."""
    home = tmp_path_factory.mktemp("layouts") / "layouts"
    shutil.copytree(data_dir("layouts"), home)
    (home / VERSION / "codes").mkdir(parents=True)
    (home / VERSION / "kotei_demo.yaml").write_text(LAYOUT, encoding="utf-8")
    mp = pytest.MonkeyPatch()
    mp.setattr(versions, "layouts_home", lambda: home)
    try:
        yield home  # layouts are cached by folder: the bundled ones are not touched
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def chiseki() -> np.ndarray:
    """Unscaled 地積 (×100): ±9,999,999.99 at the edges, zero, and a million random others."""
    rng = np.random.default_rng(10)
    values = rng.integers(-999_999_999, 999_999_999, RECORDS, endpoint=True, dtype=np.int64)
    values[:4] = [999_999_999, -999_999_999, 0, 1_234_567]
    return values


@pytest.fixture(scope="module")
def decimal_run(
    layouts_folder: Path, chiseki: np.ndarray, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    base = tmp_path_factory.mktemp("decimal")
    vendor, dump = base / "vendor-decimal", base / "dump"
    vendor.mkdir()
    dump.mkdir()
    (vendor / "source.yaml").write_text(SOURCE, encoding="utf-8")
    (vendor / "kotei_demo.yaml").write_text(MAPPING, encoding="utf-8")
    records = np.empty((RECORDS, RECORD_LENGTH), dtype=np.uint8)
    numbers = np.char.zfill(np.arange(RECORDS).astype("U10"), 10).astype("S10")
    records[:, :10] = np.frombuffer(numbers.tobytes(), dtype=np.uint8).reshape(RECORDS, 10)
    records[:, 10:15] = packed(chiseki, 5)
    records[:, 15:] = np.frombuffer(b"20240229", dtype=np.uint8)
    (dump / "TOCHI.DAT").write_bytes(records.tobytes())
    out = base / "run"
    run_job(
        JobOptions(
            vendor_folder=vendor,
            dump_dir=dump,
            out_dir=out,
            gyomu=("kotei_demo",),
            layout_version=VERSION,
        )
    )
    return out


def exact_total(chiseki: np.ndarray) -> Decimal:
    return Decimal(int(chiseki.sum(dtype=np.int64))).scaleb(-2)


def test_run_writes_exact_decimals_and_exact_sum(decimal_run: Path, chiseki: np.ndarray) -> None:
    manifest = json.loads((decimal_run / "manifest.json").read_text(encoding="utf-8"))
    [control] = manifest["reconciliation"]["controls"]
    total = str(exact_total(chiseki))
    # written as text: no reader of manifest.json sees a float
    assert (control["source"], control["target"], control["filtered"]) == (total, total, "0.00")
    assert control["unexplained"] == "0.00"
    [output] = manifest["outputs"]
    csv_path = decimal_run / output["path"]
    head = csv_path.read_bytes()[:200].decode("utf-8").splitlines()
    assert head[1:5] == [
        "0000000000,9999999.99,20240229",
        "0000000001,-9999999.99,20240229",
        "0000000002,0.00,20240229",
        "0000000003,12345.67,20240229",
    ]
    frame = pl.read_csv(csv_path, infer_schema=False)
    cells = frame["地積"]
    # exactly two decimals, never an exponent, every value the dump's
    assert cells.str.contains(r"^-?[0-9]+\.[0-9]{2}$").all()
    unscaled = cells.str.replace(".", "", literal=True).cast(pl.Int64)
    assert (unscaled == pl.Series(chiseki)).all()


def test_package_schema_is_number_and_verify_checks_it(
    decimal_run: Path, layouts_folder: Path, tmp_path: Path
) -> None:
    layout = get_layout("kotei_demo", VERSION)
    result = build_package(
        decimal_run, tmp_path / "handover", layouts={"kotei_demo": layout}, municipality=None
    )
    descriptor = json.loads((result.package_dir / "datapackage.json").read_text(encoding="utf-8"))
    [resource] = [
        r
        for r in descriptor["resources"]
        if any(f["name"] == "地積" for f in r.get("schema", {}).get("fields", []))
    ]
    fields = {f["name"]: f for f in resource["schema"]["fields"]}
    assert fields["地積"]["type"] == "number"
    assert fields["地積"]["constraints"] == {
        "required": True,
        "minimum": -9999999.99,
        "maximum": 9999999.99,
    }
    totals = descriptor["chukan"]["controlTotals"]
    assert {t["target"] for t in totals} == {t["source"] for t in totals}
    assert all(isinstance(t["target"], str) for t in totals)
    report = verify_package(result.package_dir)
    assert report.ok, report.problems


def test_duckdb_and_postgresql_numeric_reconciled_to_the_last_digit(
    decimal_run: Path,
    layouts_folder: Path,
    chiseki: np.ndarray,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    postgres: str = request.getfixturevalue("pg_url")
    layout = get_layout("kotei_demo", VERSION)
    total = exact_total(chiseki)
    db = tmp_path / "load.duckdb"
    for target in (f"duckdb:{db}", postgres):
        result = load_run(decimal_run, target, {"kotei_demo": layout})
        assert result.ok, [c.describe() for c in result.mismatches]
        [sum_check] = [c for c in result.checks if c.kind == "sum"]
        assert sum_check.expected == sum_check.actual == total
        assert isinstance(sum_check.actual, Decimal)
    with duckdb.connect(str(db), read_only=True) as con:
        kind = con.execute(
            "SELECT data_type FROM information_schema.columns WHERE column_name = '地積'"
        ).fetchone()
        first = con.execute(
            'SELECT "地積" FROM "kotei_demo_tochi" ORDER BY "物件番号" LIMIT 4'
        ).fetchall()
        duck_sum = con.execute('SELECT sum("地積") FROM "kotei_demo_tochi"').fetchone()
    assert kind == ("DECIMAL(9,2)",)
    assert [v for (v,) in first] == [
        Decimal("9999999.99"),
        Decimal("-9999999.99"),
        Decimal("0.00"),
        Decimal("12345.67"),
    ]
    assert duck_sum == (total,)
    with psycopg.connect(postgres) as conn:
        row = conn.execute(
            "SELECT numeric_precision, numeric_scale FROM information_schema.columns"
            " WHERE column_name = '地積'"
        ).fetchone()
        pg_sum = conn.execute('SELECT sum("地積"), count(*) FROM "kotei_demo_tochi"').fetchone()
    assert row == (9, 2)
    assert pg_sum == (total, RECORDS)


# ---- the item-type table: one definition per type, three consumers ------------------------


def _item(type_: ItemType, digits: int, scale: int = 0) -> Item:
    return Item(name="x", type=type_, digits=digits, scale=scale)


def test_every_type_has_one_row_and_every_consumer_reads_it() -> None:
    assert set(TYPE_TABLE) == set(ItemType)
    for type_ in ItemType:
        item = _item(type_, 8, 2 if type_ is ItemType.DECIMAL else 0)
        rule = type_rule(item)
        shape = rule.table_schema(item)
        schema_field = field_rule(item, {}, in_key=False)
        assert (schema_field.type, schema_field.pattern) == (shape.type, shape.pattern)
        for engine in Engine:
            assert column_type(item, engine) == rule.sql_type(item, SqlDialect(engine.value))


@pytest.mark.parametrize("value", ["20190230", "20230229", "19000229", "00010100", "20241301"])
def test_a_date_that_does_not_exist_is_invalid_in_all_three(value: str, tmp_path: Path) -> None:
    date = _item(ItemType.DATE, 8)
    frame = pl.DataFrame({"x": [value, "20240229"]})
    # the package's Table Schema pattern (what verify checks) …
    rule = field_rule(date, {}, in_key=False)
    [violation] = check_table(frame, [rule], ())
    assert (violation.constraint, violation.first_row) == ("pattern", 1)
    # … the run's schema check …
    from etl.layout import Layout, Provenance, RecordFile

    rf = RecordFile(id="f", name="f", items=(date,), key=("x",))
    layout = Layout(id="t", name="t", version="v", record_files=(rf,), provenance=Provenance("a"))
    run_frame = frame.with_columns(
        pl.int_range(1, 3).cast(pl.Int64).alias("_record_no"),
        pl.lit(None, pl.String).alias("_source"),
    )
    findings = schema_findings(layout, rf, run_frame)
    assert findings["rule"].to_list() == [SchemaRule.DATE.value]
    # … and SQL: the date column does not take it
    with pytest.raises(duckdb.Error):
        duckdb.sql(f"SELECT CAST(strptime('{value}', '%Y%m%d') AS DATE)").fetchall()
    assert CALENDAR_DATE_PATTERN in (rule.pattern or "")


def test_decimal_checks_in_the_run() -> None:
    from etl.layout import Layout, Provenance, RecordFile

    item = _item(ItemType.DECIMAL, 5, 2)
    rf = RecordFile(id="f", name="f", items=(item,), key=("x",))
    layout = Layout(id="t", name="t", version="v", record_files=(rf,), provenance=Provenance("a"))
    values = ["123.45", "-999.99", "1234.56", "1.5", "1e3", "12.345", None]
    frame = pl.DataFrame(
        {"x": values, "_record_no": list(range(1, 8)), "_source": [None] * 7},
        schema={"x": pl.String, "_record_no": pl.Int64, "_source": pl.String},
    )
    found = schema_findings(layout, rf, frame).sort("record_no", "rule")
    assert found.select("record_no", "rule").rows() == [
        (3, "schema.digits"),  # 6 digits where 桁数 is 5
        (4, "schema.type"),
        (5, "schema.type"),
        (6, "schema.type"),
    ]
    assert "小数点以下2桁" in found["message"][1]


# ---- the layout and the profile: located errors -----------------------------------------


@pytest.mark.parametrize(
    ("item", "where", "why"),
    [
        ("{name: a, type: decimal, digits: 9}", "items[0].scale", "needs a scale"),
        ("{name: a, type: decimal, digits: 9, scale: 9}", "items[0].scale", "no digit before"),
        ("{name: a, type: decimal, digits: 39, scale: 2}", "items[0].digits", "at most 38"),
        ("{name: a, type: text, digits: 9, scale: 2}", "items[0].scale", "only type decimal"),
        ("{name: a, type: decimal, digits: 9, scale: -1}", "items[0].scale", ""),
    ],
)
def test_layout_decimal_errors_are_located(item: str, where: str, why: str, tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        f"id: t\nname: t\nrecord_files:\n  - id: f\n    name: f\n    key: [a]\n    items:\n"
        f"      - {item}\n",
        encoding="utf-8",
    )
    with pytest.raises(LayoutError) as caught:
        layout_load.load_layout_file(path, {})
    message = str(caught.value)
    assert f"record_files[0].{where}" in message and why in message
    assert "line 8" in message


@pytest.mark.parametrize(
    ("field", "why"),
    [
        ("{name: a, offset: 0, length: 5, type: text, scale: 2}", "only zoned and packed"),
        ("{name: a, offset: 0, length: 2, type: packed, scale: 3}", "no digit before the point"),
        ("{name: a, offset: 0, length: 3, type: zoned, scale: 3}", "no digit before the point"),
    ],
)
def test_profile_scale_errors_are_located(field: str, why: str, tmp_path: Path) -> None:
    (tmp_path / "source.yaml").write_text(
        "vendor: v\nformat: fixed_width\nencoding: cp932\nfiles:\n  - name: f\n    path: F.DAT\n"
        f"    record_length: 5\n    fields:\n      - {field}\n",
        encoding="utf-8",
    )
    with pytest.raises(ProfileError) as caught:
        load_profile(tmp_path)
    assert "files[0].fields[0].scale" in str(caught.value) and why in str(caught.value)


# ---- random packed decimals: take → CSV → DuckDB, exactly --------------------------------


@settings(max_examples=60, deadline=None)
@given(
    scale=st.integers(0, 4),
    length=st.integers(3, 9),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_packed_decimals_round_trip_exactly(scale: int, length: int, seed: int) -> None:
    digits = 2 * length - 1
    rng = random.Random(seed)
    top = 10**digits - 1
    unscaled = [rng.randint(-top, top) for _ in range(50)] + [top, -top, 0]
    values = np.array(unscaled, dtype=np.int64)
    decoded = decode_packed(packed(values, length), scale).values
    expected = [Decimal(v).scaleb(-scale) for v in unscaled]
    text = pl.DataFrame({"v": decoded}).select(decimal_text(pl.col("v").cast(pl.String), scale))
    data = encode_csv(text, CsvFormat()).decode("utf-8")
    rows = [r[0] for r in csv.reader(io.StringIO(data))][1:]
    assert rows == [f"{d:f}" if scale else str(int(d)) for d in expected]
    con = duckdb.connect()
    con.register("csv_text", pl.DataFrame({"v": rows}).to_arrow())
    back = con.execute(f"SELECT CAST(v AS numeric(18, {scale})) FROM csv_text").fetchall()
    assert [v for (v,) in back] == expected


def test_zoned_with_scale_is_exact_and_blank_is_null() -> None:
    field = np.frombuffer(b"0012345p        1234567{", dtype=np.uint8).reshape(3, 8)
    decoded = decode_zoned(field, scale=3).values
    assert decoded.dtype == pl.Decimal(8, 3)
    assert decoded.to_list() == [Decimal("-123.450"), None, Decimal("12345.670")]


def test_a_number_field_is_checked_exactly_and_frictionless_agrees(tmp_path: Path) -> None:
    import frictionless

    item = _item(ItemType.DECIMAL, 9, 2)
    rule = field_rule(item, {}, in_key=False)
    descriptor = rule.to_descriptor()
    assert FieldRule.from_descriptor(json.loads(json.dumps(descriptor))) == rule
    cells = ["9999999.99", "-9999999.99", "10000000.00", "-10000000.00", "1.5", "1e3", "x", ""]
    frame = pl.DataFrame({"x": cells})
    found = {(v.constraint, v.first_row) for v in check_table(frame, [rule], ())}
    # 1e3 is a number to frictionless but never a value chukan writes: a type violation here
    assert found == {("maximum", 3), ("minimum", 4), ("type", 6)}
    path = tmp_path / "t.csv"
    path.write_text("x\n" + "\n".join(c for c in cells if c not in ("1e3", "")) + "\n")
    resource = frictionless.Resource(
        path=path.name,
        basepath=str(tmp_path),
        schema=frictionless.Schema.from_descriptor({"fields": [descriptor]}),
    )
    report = resource.validate()
    errors = {(e.type, getattr(e, "row_number", e.message)) for t in report.tasks for e in t.errors}
    assert errors == {("constraint-error", 4), ("constraint-error", 5), ("type-error", 7)}


def test_validator_compares_decimals_as_exact_numbers() -> None:
    from etl.findings import Severity
    from etl.layout import Layout, Provenance, RecordFile
    from etl.validate import Compare, CompareOp, RuleSet, check_rules, rule_findings
    from tests.validate.cases import frame_of

    rf = RecordFile(
        "tochi",
        "土地",
        (
            Item("番号", ItemType.DIGITS, 3, required=True),
            Item("課税地積", ItemType.DECIMAL, 9, scale=2),
            Item("登記地積", ItemType.DECIMAL, 10, scale=3),
        ),
        key=("番号",),
    )
    layout = Layout("t", "テスト", "2.1", (rf,), Provenance("authored"))
    rule = Compare(
        "r", Severity.ERROR, "tochi", "m", left="課税地積", op=CompareOp.LE, right="登記地積"
    )
    check_rules(RuleSet("t", (rule,)), layout)  # two decimals are ordered
    rows = [
        {
            "番号": "1",
            "課税地積": "9.50",
            "今": None,
            "登記地積": "10.000",
        },  # 9.5 ≤ 10, not as text
        {"番号": "2", "課税地積": "-0.01", "登記地積": "-0.011"},  # -0.010 > -0.011
        {"番号": "3", "課税地積": "100.00", "登記地積": "100.000"},
    ]
    found = rule_findings(RuleSet("t", (rule,)), layout, {"tochi": frame_of(rf, rows)}, {})
    assert found.select("record_no", "value").rows() == [(2, "-0.01|-0.011")]


def test_decimal_control_totals_round_trip_through_manifest_json_and_report() -> None:
    from etl.layout import EXACT
    from etl.reconcile import ControlRow, control_number
    from etl.report.run import control_rows

    big = Decimal("12345678901234567890123456789012345.67")  # past a float, past 28 digits
    target = EXACT.subtract(big, Decimal("1.00"))
    row = ControlRow("kotei_demo", "tochi", "sum", "地積", None, big, target, Decimal("1.00"))
    text = json.dumps(row.as_dict())
    assert '"12345678901234567890123456789012345.67"' in text and row.unexplained == 0
    [back] = control_rows({"controls": [json.loads(text)]}) or ()
    assert back == row
    assert control_number(7) == 7 and control_number("7") == 7
    for bad in ("NaN", "1.2.3", True, 1.5, "Infinity."):
        with pytest.raises(ValueError):
            control_number(bad)
