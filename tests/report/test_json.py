"""The JSON report: golden file, and numbers that agree with the manifest."""

from __future__ import annotations

import json
from pathlib import Path

from etl.report import RunReport, load_run_report, render_json
from tests.golden import assert_golden
from tests.report.conftest import PASS_META, copy_run


def test_golden_sample_report(sample_report: RunReport, update_golden: bool) -> None:
    assert_golden(render_json(sample_report), "report/vendor-a/report.json", update_golden)


def test_numbers_match_the_manifest(sample_run: Path, sample_report: RunReport) -> None:
    manifest = json.loads((sample_run / "manifest.json").read_text("utf-8"))
    data = json.loads(render_json(sample_report))
    assert data["findings"]["total"] == manifest["findings"]["total"]
    assert data["findings"]["by_severity"]["error"] == manifest["findings"]["by_severity"]["error"]
    assert {r["rule"]: r["count"] for r in data["findings"]["by_rule"]} == manifest["findings"][
        "by_rule"
    ]
    assert [s["records_in"] for s in data["counts"]["sources"]] == [
        s["records_in"] for s in manifest["sources"]
    ]
    assert data["run"]["pass"] is None


def test_pass_metadata(sample_run: Path, tmp_path: Path) -> None:
    meta = {**PASS_META, "override": "理由", "diff": {"added": 1}}
    data = json.loads(render_json(load_run_report(copy_run(sample_run, tmp_path / "r", meta))))
    assert data["run"] == {k: v for k, v in meta.items() if k != "diff"}
    assert data["sections"] == {"diff": {"added": 1}}
