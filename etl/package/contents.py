"""What a package says about its run besides the V2.1 files: the summary and the unmapped gaiji."""

from __future__ import annotations

from typing import Any

import polars as pl

from etl.findings import unmapped_gaiji_codes
from etl.run_folder import Manifest, OutputEntry

UNMAPPED_HEADERS = {
    "code": "外字コード",
    "gyomu": "業務",
    "file": "ファイル",
    "record_no": "レコード番号",
    "key": "キー",
    "item": "項目",
    "message": "内容",
}


def unmapped_gaiji(findings: pl.DataFrame) -> pl.DataFrame:
    """Every gaiji.unmapped finding with the vendor code of the PUA character(s) it holds."""
    return (
        unmapped_gaiji_codes(findings)
        .with_columns(
            pl.col("codes").list.join(" ").alias("code"), pl.col("record_no").cast(pl.String)
        )
        .select(list(UNMAPPED_HEADERS))
        .rename(UNMAPPED_HEADERS)
    )


SOURCE_COUNTS = {"name", "records_in", "data_records", "rejected", "filtered", "balanced"}


def _output_counts(o: OutputEntry) -> dict[str, Any]:
    """An output's accounting; aggregated_records and rejected only when the run wrote them
    (docs/accounting.md), in the order summary.json always had."""
    counts: dict[str, Any] = {
        "gyomu": o.gyomu,
        "record_file": o.record_file,
        "source_data_records": o.source_data_records,
        "written": o.written,
        "filtered": o.filtered,
    }
    if o.aggregated_records is not None:
        counts["aggregated_records"] = o.aggregated_records
    if o.rejected is not None:
        counts["rejected"] = o.rejected
    return {**counts, "balanced": o.balanced}


def run_summary(manifest: Manifest) -> dict[str, Any]:
    findings = manifest.findings
    return {
        "validation": {
            "total": findings.total,
            "blocking": findings.by_severity.get("error", 0),
            "by_severity": findings.by_severity,
            "by_rule": findings.by_rule,
        },
        "accounting": {
            "sources": [
                s.model_dump(
                    include={
                        "name",
                        "records_in",
                        "data_records",
                        "rejected",
                        "filtered",
                        "balanced",
                    }
                )
                for s in manifest.sources
            ],
            "outputs": [_output_counts(o) for o in manifest.outputs],
        },
        "reconciliation": manifest.reconciliation.model_dump(mode="json"),
    }
