"""件数・金額の突合: source totals against the written V2.1 files, every difference explained."""

from etl.reconcile.controls import (
    BLANK,
    ControlRow,
    Total,
    control_number,
    reconcile_target,
    reconciliation_findings,
    total_json,
)

__all__ = [
    "BLANK",
    "ControlRow",
    "Total",
    "control_number",
    "reconcile_target",
    "reconciliation_findings",
    "total_json",
]
