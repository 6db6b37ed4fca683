"""The report model is read back from a run folder: counts, findings, pass metadata, top-N."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from etl.findings import FINDING_SCHEMA
from etl.report import ReportError, RunReport, load_run_report
from tests.report.conftest import PASS_META, copy_run


def test_counts_come_from_the_manifest(sample_run: Path, sample_report: RunReport) -> None:
    manifest = json.loads((sample_run / "manifest.json").read_text("utf-8"))
    assert [s.name for s in sample_report.sources] == [s["name"] for s in manifest["sources"]]
    for s in sample_report.sources:
        assert s.records_in == s.data_records + s.rejected + s.filtered_total
    assert sum(o.written for o in sample_report.outputs) == sum(
        o["written"] for o in manifest["outputs"]
    )
    assert sample_report.balanced
    assert sample_report.vendor == "vendor-a" and sample_report.layout_version == "v2.1"


def test_findings_read_back_with_the_engine_schema(
    sample_run: Path, sample_report: RunReport
) -> None:
    manifest = json.loads((sample_run / "manifest.json").read_text("utf-8"))
    assert sample_report.findings.schema == pl.Schema(FINDING_SCHEMA)
    assert sample_report.total == manifest["findings"]["total"] > 0
    by_rule = {c.rule: c.count for c in sample_report.rule_counts}
    assert by_rule == manifest["findings"]["by_rule"]
    counts = [c.count for c in sample_report.rule_counts]
    assert counts == sorted(counts, reverse=True)  # most frequent rule first
    assert sum(f.total for f in sample_report.file_counts) == sample_report.total


def test_top_n_keeps_counts_for_the_rest(sample_run: Path) -> None:
    report = load_run_report(sample_run, top=1)
    per_rule = report.samples.group_by("rule").len()
    assert per_rule["len"].max() == 1
    assert per_rule.height == len({c.rule for c in report.rule_counts})
    assert report.total == report.findings.height > report.samples.height


def test_run_json_is_optional_metadata(sample_run: Path, tmp_path: Path) -> None:
    plain = load_run_report(sample_run)
    assert plain.meta.pass_name is None and plain.meta.override is None
    meta = {
        **PASS_META,
        "pass": "production",
        "override": "課長承認",
        "gate_warnings": ["w1"],
        "reconciliation": {"jumin": {"source": 202}},
    }
    report = load_run_report(copy_run(sample_run, tmp_path / "run", meta))
    assert report.meta.pass_name == "production"
    assert report.meta.started_by == "移行 太郎"
    assert report.meta.override == "課長承認"
    assert report.meta.gate_warnings == ("w1",)
    assert report.extra_sections == {"reconciliation": {"jumin": {"source": 202}}}


def test_not_a_run_folder(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match=r"manifest\.json"):
        load_run_report(tmp_path)


def test_findings_file_with_other_headers(sample_run: Path, tmp_path: Path) -> None:
    run = copy_run(sample_run, tmp_path / "run")
    (run / "findings.csv").write_text("a,b\n1,2\n", "utf-8")
    with pytest.raises(ReportError, match="unexpected headers"):
        load_run_report(run)
