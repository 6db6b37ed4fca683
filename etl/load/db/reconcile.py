"""The manifest's control totals (target side) recomputed by SQL in the loaded tables.

Same rules as ``etl.reconcile``: ``sum`` over the item, ``count_by`` per code with empty and
null counted as （空欄）. Codes on either side that the other lacks count as 0 there.
"""

from __future__ import annotations

from typing import Any

from etl.layout import ItemType
from etl.load.db.result import Check
from etl.load.db.run import RunToLoad
from etl.load.db.schema import quote_ident, quote_literal
from etl.load.db.session import Session
from etl.reconcile.controls import BLANK


def reconcile(session: Session, run: RunToLoad) -> list[Check]:
    tables = {(f.table.layout.id, f.table.record_file.id): f.table for f in run.files}
    by_item: dict[tuple[str, str, str, str], dict[str | None, int]] = {}
    for c in run.controls:
        key = (str(c["gyomu"]), str(c["record_file"]), str(c["kind"]), str(c["item"]))
        by_item.setdefault(key, {})[c["code"]] = int(c["target"])
    checks: list[Check] = []
    for (gyomu, rf_id, kind, item_name), expected in by_item.items():
        spec = tables.get((gyomu, rf_id))
        if spec is None:
            continue  # a control of a file this run did not write
        item = spec.record_file.item(item_name)
        col = quote_ident(item.name)
        if kind == "sum":
            value = col if item.type is ItemType.INTEGER else f"CAST(NULLIF({col}, '') AS numeric)"
            row = session.query(f"SELECT COALESCE(SUM({value}), 0) FROM {spec.qualified}")[0]
            checks.append(Check(spec.name, kind, item.name, None, expected[None], int(row[0])))
            continue
        code = f"COALESCE(NULLIF(CAST({col} AS varchar), ''), {quote_literal(BLANK)})"
        rows: list[tuple[Any, ...]] = session.query(
            f"SELECT {code}, count(*) FROM {spec.qualified} GROUP BY 1"
        )
        actual = {str(k): int(n) for k, n in rows}
        for value_code in sorted({str(k) for k in expected} | actual.keys()):
            checks.append(
                Check(
                    spec.name,
                    kind,
                    item.name,
                    value_code,
                    expected.get(value_code, 0),
                    actual.get(value_code, 0),
                )
            )
    return checks
