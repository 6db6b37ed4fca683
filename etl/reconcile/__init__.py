"""件数・金額の突合: source totals against the written V2.1 files, every difference explained."""

from etl.reconcile.controls import (
    BLANK,
    ControlRow,
    ControlTallies,
    Total,
    add_control_tallies,
    chunk_tallies,
    control_number,
    reconcile_target,
    reconciliation_findings,
    total_json,
)

__all__ = [
    "BLANK",
    "ControlRow",
    "ControlTallies",
    "Total",
    "add_control_tallies",
    "chunk_tallies",
    "control_number",
    "reconcile_target",
    "reconciliation_findings",
    "total_json",
]
