"""The 突合 of a run: control totals (件数・金額) per V2.1 file, source vs target.

Reads what the run wrote into manifest.json (``reconciliation.controls[]``, see
etl.reconcile.controls) back into ``ControlRow`` objects, which the 突合 section of report.html
(templates/reconciliation.html.j2) and the 突合 sheet of report.xlsx show.
``元データ = 出力 + 対象外`` must hold for every row; a non-zero rest is a difference nothing
explains, and it blocks production.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from etl.reconcile import ControlRow, control_number


def control_rows(data: object) -> tuple[ControlRow, ...] | None:
    """``manifest["reconciliation"]`` as rows, or None when ``data`` is not in that shape
    (a run.json may carry its own free-form reconciliation object)."""
    if not isinstance(data, Mapping) or not isinstance(data.get("controls"), list):
        return None
    try:
        return tuple(
            ControlRow(
                gyomu=str(c["gyomu"]),
                record_file=str(c["record_file"]),
                kind=str(c["kind"]),
                item=str(c["item"]),
                code=None if c.get("code") is None else str(c["code"]),
                source=control_number(c["source"]),
                target=control_number(c["target"]),
                filtered=control_number(c["filtered"]),
                by=None if c.get("by") is None else str(c["by"]),
            )
            for c in data["controls"]
        )
    except (KeyError, TypeError, ValueError):
        return None


def rows_by_file(rows: Sequence[ControlRow]) -> dict[tuple[str, str], list[ControlRow]]:
    """(業務, record file) → its control rows, in the order the run wrote them."""
    files: dict[tuple[str, str], list[ControlRow]] = {}
    for r in rows:  # a few rows per declared control: never a data loop
        files.setdefault((r.gyomu, r.record_file), []).append(r)
    return files
