"""件数・金額の突合: source totals against the written V2.1 files, every difference explained."""

from etl.reconcile.controls import ControlRow, reconcile_target, reconciliation_findings

__all__ = ["ControlRow", "reconcile_target", "reconciliation_findings"]
