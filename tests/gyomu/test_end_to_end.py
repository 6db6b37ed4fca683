"""The six tax and welfare 業務 end to end on the bundled samples of vendor A (fixed width,
COMP-3) and vendor B (CSV): run, 金額 controls reconciled to the yen against the generator's own
totals, exactly the deliberately broken records reported, a package whose Table Schema
frictionless accepts (decimals included), and loads into DuckDB and PostgreSQL ``numeric``."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import frictionless
import pytest

from etl.dbload import load_run
from etl.layout import load_layouts
from etl.package import build_package
from etl.pipeline import JobOptions, JobResult, run_job
from etl.resources import data_dir
from fixtures._gyomu_spec import SOURCES

NEW_GYOMU = ("jutogai", "kotei", "jidoteate", "juminzei", "kokuho", "kaigo")
VENDORS = ("vendor-a", "vendor-b")
LAYOUTS = load_layouts()


def _expected(vendor: str) -> dict[str, Any]:
    path = data_dir("fixtures") / vendor / "sample" / "expected.json"
    loaded: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return loaded


@pytest.fixture(scope="module", params=VENDORS)
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> JobResult:
    vendor: str = request.param
    out = tmp_path_factory.mktemp(vendor) / "run"
    return run_job(
        JobOptions(
            vendor_folder=data_dir("mappings") / vendor,
            dump_dir=data_dir("fixtures") / vendor / "sample",
            out_dir=out,
        )
    )


def _vendor(run: JobResult) -> str:
    return run.manifest.vendor


def test_layouts_list_shows_nine_gyomu() -> None:
    assert len(LAYOUTS) >= 9
    assert set(NEW_GYOMU) <= set(LAYOUTS)


def test_every_new_gyomu_is_written_and_accounted_for(run: JobResult) -> None:
    exp = _expected(_vendor(run))
    outputs = {f"{o.gyomu}/{o.record_file}": o for o in run.manifest.outputs}
    for spec in SOURCES:
        key = f"{spec.layout}/{spec.name}"
        o = outputs[key]
        assert o.written == exp["expected_rows"][key], key
        assert o.source_data_records == o.written + sum(o.filtered.values()) + o.rejected_total
        want = exp["filtered"].get(key)
        assert o.filtered == ({want["reason"]: want["count"]} if want else {}), key
    assert {o.gyomu for o in run.manifest.outputs} >= set(NEW_GYOMU)


def test_amount_controls_reconcile_to_the_yen(run: JobResult) -> None:
    """Source, written and filtered totals equal the generator's sums, exactly; nothing is left
    unexplained, and the filtered share is needed for the source side to add up."""
    exp = _expected(_vendor(run))["control_totals"]
    got: dict[str, dict[str, Any]] = {}
    for c in run.manifest.reconciliation.controls:
        assert Decimal(str(c.unexplained)) == 0, c  # a decimal's total is its text
        if c.kind == "sum":
            got.setdefault(f"{c.gyomu}/{c.record_file}", {})[c.item] = c
    for name, items in exp.items():
        for item, want in items.items():
            c = got[name][item]
            for side in ("source", "target", "filtered"):
                assert getattr(c, side) == want[side], (name, item, side)
    if _vendor(run) == "vendor-a":  # deleted 明細 and 支給: only filtered + written = source
        kazei = got["kotei/kazei"]["税額"]
        assert isinstance(kazei.filtered, int) and kazei.filtered > 0
        assert kazei.source == kazei.target + kazei.filtered
        shikyu = got["jidoteate/shikyu"]["支給額"]
        assert isinstance(shikyu.filtered, int) and shikyu.filtered > 0


def test_amount_controls_per_code_reconcile_to_the_yen(run: JobResult) -> None:
    """Each code's total (sum_by) equals the generator's, exactly, and the codes add up to the
    grand total of the same amount."""
    exp = _expected(_vendor(run))["control_totals_by_code"]
    controls = run.manifest.reconciliation.controls
    per_code: dict[tuple[str, str], dict[str, Any]] = {}
    for c in controls:
        if c.kind == "sum_by":
            assert Decimal(str(c.unexplained)) == 0, c
            per_code.setdefault((f"{c.gyomu}/{c.record_file}", c.item), {})[str(c.code)] = c
    want_keys = {(name, item) for name, items in exp.items() for item in items}
    assert set(per_code) == want_keys
    assert ("kotei/kazei", "税額") in want_keys and ("jidoteate/shikyu", "支給額") in want_keys
    totals = {(f"{c.gyomu}/{c.record_file}", c.item): c for c in controls if c.kind == "sum"}
    for (name, item), got in per_code.items():
        want = exp[name][item]
        assert {c.by for c in got.values()} == {want["by"]}
        assert set(got) == set(want["codes"]), (name, item)
        for code, sides in want["codes"].items():
            for side in ("source", "target", "filtered"):
                assert getattr(got[code], side) == sides[side], (name, item, code, side)
        for side in ("source", "target", "filtered"):
            added = sum(Decimal(str(getattr(c, side))) for c in got.values())
            assert added == Decimal(str(getattr(totals[(name, item)], side))), (name, item, side)


def test_count_controls_per_code(run: JobResult) -> None:
    codes = {(c.record_file, c.item): c for c in run.manifest.reconciliation.controls if c.code}
    for item in ("資産区分", "地目", "構造"):
        assert any(item == i for _, i in codes), item
    yokaigo = [c for c in run.manifest.reconciliation.controls if c.item == "要介護状態区分"]
    assert yokaigo and all(
        c.code in LAYOUTS["kaigo"].code_tables["kaigo_yokaigo"].values for c in yokaigo
    )


def test_exactly_the_broken_records_are_reported(run: JobResult) -> None:
    exp = _expected(_vendor(run))
    ours = {s.name for s in SOURCES}
    want = {
        (b.get("rule", "extract.rejected"), b["source"], b["record_no"])
        for b in exp["broken_records"]
        if b["source"] in ours
    }
    mine = run.findings.filter(
        run.findings["gyomu"].is_in(list(NEW_GYOMU)) | run.findings["file"].is_in(list(ours))
    )
    got = {(r, f, n) for r, f, n in mine.select("rule", "file", "record_no").iter_rows()}
    assert got == want
    if _vendor(run) == "vendor-b":
        assert want == set(), "the vendor-b sample is generated without broken records"


def test_decimals_are_written_with_their_scale(run: JobResult) -> None:
    tochi = (run.out_dir / "kotei" / "tochi.csv").read_text("utf-8-sig").splitlines()
    header = tochi[0].split(",")
    at = header.index("地積")
    values = [line.split(",")[at] for line in tochi[1:]]
    assert values and all(v.count(".") == 1 and len(v.split(".")[1]) == 2 for v in values)


def test_package_is_frictionless_valid(run: JobResult, tmp_path: Path) -> None:
    vendor = data_dir("mappings") / _vendor(run)
    gaiji = vendor / "gaiji.csv"
    result = build_package(
        run.out_dir,
        tmp_path / "handover",
        layouts=LAYOUTS,
        gaiji_table=gaiji if gaiji.exists() else None,
        municipality={"code": "012343", "name": "模擬市"},
        accept_findings="テスト: 意図して壊したレコードを含む見本",
    )
    descriptor = json.loads((result.package_dir / "datapackage.json").read_text("utf-8"))
    fields = {
        (r["name"], f["name"]): f
        for r in descriptor["resources"]
        if "schema" in r  # tables only
        for f in r["schema"]["fields"]
    }
    assert fields[("kotei-tochi", "地積")]["type"] == "number"
    assert fields[("kotei-kazei", "評価額")]["type"] == "integer"
    report = frictionless.validate(result.package_dir / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]
    names = {t.name for t in report.tasks}
    assert {"kotei-tochi", "kotei-kazei", "jidoteate-shikyu", "kaigo-kaigo_nintei"} <= names


@pytest.mark.parametrize("engine", ["duckdb", "postgresql"])
def test_load_reconciles_amounts_in_the_database(
    run: JobResult, engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    target = (
        f"duckdb:{tmp_path / 'load.duckdb'}"
        if engine == "duckdb"
        else request.getfixturevalue("pg_url")
    )
    result = load_run(run.out_dir, target, LAYOUTS, relax_not_null=True)
    assert result.ok, result.mismatches
    sums = {(c.table, c.item): c for c in result.checks if c.kind == "sum"}
    chiseki = sums[("kotei_tochi", "地積")]
    assert isinstance(chiseki.actual, Decimal) and chiseki.actual == chiseki.expected
    assert sums[("kotei_kazei", "税額")].actual == sums[("kotei_kazei", "税額")].expected
    assert ("jidoteate_shikyu", "支給額") in sums and ("kaigo_kaigo_hihokensha", "保険料額") in sums
    # the database's sum per code (its grouping sets) against the manifest's sum_by rows
    by_code = {(c.table, c.item, c.code): c for c in result.checks if c.kind == "sum_by"}
    manifest = {
        (c.record_file, c.item, c.code): c.target
        for c in run.manifest.reconciliation.controls
        if c.kind == "sum_by"
    }
    assert len(by_code) == len(manifest)
    for code in ("1", "2", "3"):
        check = by_code[("kotei_kazei", "税額/資産区分", code)]
        assert check.actual == check.expected == manifest[("kazei", "税額", code)]
    chimoku = [c for (t, i, _), c in by_code.items() if (t, i) == ("kotei_tochi", "地積/地目")]
    assert chimoku and all(isinstance(c.actual, Decimal) for c in chimoku)
    assert all(c.ok for c in by_code.values())
