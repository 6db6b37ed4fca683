"""What a package says about its run besides the V2.1 files: the summary and the unmapped gaiji."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from etl.text import pua_chars, pua_code

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
    rows = findings.filter(pl.col("rule") == "gaiji.unmapped")
    chars = rows.select(pua_chars(pl.col("value")).alias("c")).explode("c")["c"]
    # One Python call per distinct character (a handful), not per row.
    codes = {c: pua_code(c) for c in chars.drop_nulls().unique().to_list()}
    code = (
        pua_chars(pl.col("value"))
        .list.eval(pl.element().replace_strict(codes, default="?"))
        .list.join(" ")
    )
    return (
        rows.with_columns(code.fill_null("").alias("code"), pl.col("record_no").cast(pl.String))
        .select(list(UNMAPPED_HEADERS))
        .rename(UNMAPPED_HEADERS)
    )


OUTPUT_COUNTS = ("gyomu", "record_file", "source_data_records", "written", "filtered")
# written by the run only when they occur (docs/accounting.md), carried over the same way
OUTPUT_COUNTS_WHEN_PRESENT = ("aggregated_records", "rejected")


def _output_counts(o: Mapping[str, Any]) -> dict[str, Any]:
    counts = {k: o.get(k) for k in OUTPUT_COUNTS}
    counts |= {k: o[k] for k in OUTPUT_COUNTS_WHEN_PRESENT if k in o}
    return {**counts, "balanced": o.get("balanced")}


def run_summary(manifest: Mapping[str, Any]) -> dict[str, Any]:
    findings = manifest.get("findings", {})
    return {
        "validation": {
            "total": findings.get("total", 0),
            "blocking": findings.get("by_severity", {}).get("error", 0),
            "by_severity": findings.get("by_severity", {}),
            "by_rule": findings.get("by_rule", {}),
        },
        "accounting": {
            "sources": [
                {
                    k: s.get(k)
                    for k in (
                        "name",
                        "records_in",
                        "data_records",
                        "rejected",
                        "filtered",
                        "balanced",
                    )
                }
                for s in manifest.get("sources", [])
            ],
            "outputs": [_output_counts(o) for o in manifest.get("outputs", [])],
        },
        "reconciliation": manifest.get("reconciliation", {}),
    }
