"""The validation stage: schema checks of every record file, then the layout's business rules."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from etl.findings import concat_findings
from etl.layout import Layout
from etl.validate.rule_checks import rule_findings
from etl.validate.rules import RuleSet
from etl.validate.schema import schema_findings


def validate_layout(
    layout: Layout,
    frames: dict[str, pl.DataFrame],
    rules: RuleSet,
    others: Mapping[tuple[str, str], pl.DataFrame] | None = None,
) -> pl.DataFrame:
    """All findings for one layout's mapped frames (by RecordFile id), in FINDING_SCHEMA.

    ``others`` holds other layouts' frames by (layout id, RecordFile id) for exists_in rules.
    Record files without a frame are not schema-checked (a pass may carry only some files).
    """
    parts = [
        schema_findings(layout, record_file, frames[record_file.id])
        for record_file in layout.record_files
        if record_file.id in frames
    ]
    parts.append(rule_findings(rules, layout, frames, others or {}))
    return concat_findings(parts)
