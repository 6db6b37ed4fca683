"""件数・金額の突合: source totals against the written V2.1 files, every difference explained."""

from etl.reconcile.controls import (
    BLANK,
    ControlRow,
    SourceTallies,
    Total,
    add_source_tallies,
    control_columns,
    control_number,
    reconcile_target,
    reconciliation_findings,
    source_tallies,
    total_json,
)

__all__ = [
    "BLANK",
    "ControlRow",
    "SourceTallies",
    "Total",
    "add_source_tallies",
    "control_columns",
    "control_number",
    "reconcile_target",
    "reconciliation_findings",
    "source_tallies",
    "total_json",
]
