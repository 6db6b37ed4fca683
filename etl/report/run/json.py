"""The run report for machines: stable keys and order, counts only (rows: findings.csv)."""

from __future__ import annotations

import json
from typing import Any

from etl.findings import Severity
from etl.report.model import RunReport

FORMAT = "chukan.run-report"
FORMAT_VERSION = 1  # bump when a key changes meaning or disappears


def report_dict(report: RunReport) -> dict[str, Any]:
    meta = report.meta
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "tool": {"name": "chukan-etl", "version": report.tool_version},
        "created_at": report.created_at,
        "vendor": report.vendor,
        "layout_version": report.layout_version,
        "run": {
            "pass": meta.pass_name,
            "run_id": meta.run_id,
            "started_by": meta.started_by,
            "started_at": meta.started_at,
            "override": meta.override,
            "gate_warnings": list(meta.gate_warnings),
        },
        "counts": {
            "balanced": report.balanced,
            "sources": [
                {
                    "name": s.name,
                    "file": s.file,
                    "records_in": s.records_in,
                    "data_records": s.data_records,
                    "rejected": s.rejected,
                    "filtered": dict(s.filtered),
                    "balanced": s.adds_up,
                }
                for s in report.sources
            ],
            "outputs": [
                {
                    "gyomu": o.gyomu,
                    "record_file": o.record_file,
                    "name": o.name,
                    "path": o.path,
                    "source": o.source,
                    "source_data_records": o.source_data_records,
                    "written": o.written,
                    "aggregated_records": o.aggregated_records,
                    "rejected": dict(o.rejected),
                    "rejects": o.rejects_path,
                    "filtered": dict(o.filtered),
                    "balanced": o.adds_up,
                }
                for o in report.outputs
            ],
        },
        "findings": {
            "total": report.total,
            "by_severity": {
                sev.value: report.severity_total(sev) for sev in (Severity.ERROR, Severity.WARNING)
            },
            "by_rule": [
                {"rule": c.rule, "severity": c.severity, "count": c.count}
                for c in report.rule_counts
            ],
            "by_file": [
                {"gyomu": f.gyomu, "file": f.file, "error": f.errors, "warning": f.warnings}
                for f in report.file_counts
            ],
        },
        "sections": dict(report.extra_sections),
    }


def render_json(report: RunReport) -> bytes:
    # default=str: extra sections come from other stages and may hold dates or paths.
    text = json.dumps(report_dict(report), ensure_ascii=False, indent=2, default=str)
    return text.encode("utf-8") + b"\n"
