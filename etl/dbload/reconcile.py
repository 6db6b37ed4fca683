"""The manifest's control totals (target side) recomputed by SQL in the loaded tables.

Same rules as ``etl.reconcile``: ``sum`` over the item, ``count_by`` per code with empty and
null counted as （空欄）, ``sum_by`` an amount's sum per code of another item (the same
grouping). Codes on either side that the other lacks count as 0 there.

Sums are exact on both sides: a decimal item's sum is a SQL numeric read back as a Python
Decimal, compared with the Decimal the manifest wrote as text; no float is ever involved.

Everything a table is checked for comes from ONE scan of it (``scan_sql``): its row count, every
``sum``, every ``count_by`` distribution (GROUPING SETS; each set's row carries the sums too,
which are the ``sum_by`` figures of that code) and the null count of the required items created
without NOT NULL — a full scan is the cost of a check, so there is one per table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from psycopg import sql

from etl.dbload.result import LoadCheck
from etl.dbload.run import RunToLoad
from etl.dbload.schema import TableSpec, ident, typed_column
from etl.layout import Item, ItemType
from etl.reconcile import BLANK, Total

# code (None for a sum) → the manifest's target value (exact: a Decimal for a decimal item)
_Expected = dict[str | None, Total]


# (kind, item, sum_by's code item or None)
ControlKey = tuple[str, str, str | None]


@dataclass(frozen=True, slots=True)
class Controls:
    """The manifest's controls of one table: items summed (``sum``, and the amounts of
    ``sum_by``), items grouped by code (``count_by``, and the codes of ``sum_by``)."""

    sums: tuple[str, ...] = ()
    count_by: tuple[str, ...] = ()
    expected: dict[ControlKey, _Expected] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TableScan:
    """What the database holds: rows, nulls per item, sums, and rows per code per item."""

    rows: int
    nulls: dict[str, int]
    sums: dict[str, Total]
    codes: dict[str, dict[str, int]]
    # code item → code → amount item → its sum over the rows of that code
    code_sums: dict[str, dict[str, dict[str, Total]]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LoadedTable:
    """A table in the database, not yet committed: what its reconciliation needs."""

    spec: TableSpec
    digest: str  # sha256 of the bytes the table was loaded from
    scan: TableScan
    relaxed: tuple[str, ...]  # required items that hold nulls (created without NOT NULL)


def controls_by_table(run: RunToLoad) -> dict[str, Controls]:
    """Table name → its controls, in manifest order (controls of files not written are skipped)."""
    names = {(f.table.layout.id, f.table.record_file.id): f.table.name for f in run.files}
    expected: dict[str, dict[ControlKey, _Expected]] = {}
    for c in run.controls:
        name = names.get((c.gyomu, c.record_file))
        if name is None:
            continue
        key = (c.kind, c.item, c.by)
        expected.setdefault(name, {}).setdefault(key, {})[c.code] = c.row().target
    return {
        name: Controls(
            sums=_unique(item for kind, item, _ in keys if kind != "count_by"),
            count_by=_unique(
                by if kind == "sum_by" and by else item for kind, item, by in keys if kind != "sum"
            ),
            expected=keys,
        )
        for name, keys in expected.items()
    }


def _unique(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))


def _code(col: sql.Composable) -> sql.Composed:
    # a literal, not a parameter: each grouping set repeats the select list's expression, which
    # must be the same text (（空欄） is the tool's constant, not data)
    return sql.SQL("COALESCE(NULLIF(CAST({} AS varchar), ''), {})").format(col, sql.Literal(BLANK))


def scan_sql(
    spec: TableSpec, controls: Controls, nullable: Sequence[str], table: sql.Composable
) -> sql.Composed:
    """One query over ``table`` (spec's table, or its staging copy) for ``read_scan``."""
    rf = spec.record_file
    cols: list[sql.Composable] = [sql.SQL("count(*)")]
    cols += [sql.SQL("count(*) - count({})").format(ident(n)) for n in nullable]
    for name in controls.sums:
        col = ident(name)
        # integer and decimal columns are numbers already; text ones are summed as numeric
        value = (
            col
            if _numeric(rf.item(name))
            else sql.SQL("CAST(NULLIF({}, '') AS numeric)").format(col)
        )
        cols.append(sql.SQL("COALESCE(SUM({}), 0)").format(value))
    codes = [_code(ident(name)) for name in controls.count_by]
    stmt = sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(cols + codes), table)
    if codes:
        # the () set is the whole table; in each other set one code column is not null
        sets = [sql.SQL("()"), *(sql.SQL("({})").format(c) for c in codes)]
        stmt += sql.SQL(" GROUP BY GROUPING SETS ({})").format(sql.SQL(", ").join(sets))
    return stmt


def _numeric(item: Item) -> bool:
    return item.type in (ItemType.INTEGER, ItemType.DECIMAL) and typed_column(item)


def _total(value: Any) -> Total:
    """A SUM as the database returns it (int, or Decimal from numeric), kept exact."""
    if isinstance(value, Decimal) and value != value.to_integral_value():
        return value
    return int(value)


def read_scan(
    rows: list[tuple[Any, ...]], controls: Controls, nullable: Sequence[str]
) -> TableScan:
    n_nulls, n_sums = len(nullable), len(controls.sums)
    first_code = 1 + n_nulls + n_sums
    codes: dict[str, dict[str, int]] = {name: {} for name in controls.count_by}
    code_sums: dict[str, dict[str, dict[str, Total]]] = {name: {} for name in controls.count_by}
    total: tuple[Any, ...] | None = None
    for row in rows:  # one row per grouping set and code, never per data row
        values = row[first_code:]
        at = [i for i, v in enumerate(values) if v is not None]
        if not at:
            total = row
            continue
        name, code = controls.count_by[at[0]], str(values[at[0]])
        codes[name][code] = int(row[0])
        code_sums[name][code] = dict(
            zip(controls.sums, (_total(v) for v in row[1 + n_nulls : first_code]), strict=True)
        )
    if total is None:
        raise ValueError("scan returned no total row")
    nulls = dict(zip(nullable, (int(v) for v in total[1 : 1 + n_nulls]), strict=True))
    sums = dict(
        zip(controls.sums, (_total(v) for v in total[1 + n_nulls : first_code]), strict=True)
    )
    return TableScan(rows=int(total[0]), nulls=nulls, sums=sums, codes=codes, code_sums=code_sums)


def reconcile(run: RunToLoad, scans: Mapping[str, TableScan]) -> list[LoadCheck]:
    """Checks of every control of the manifest against the scans, in manifest order."""
    checks: list[LoadCheck] = []
    for name, controls in controls_by_table(run).items():
        scan = scans[name]
        for (kind, item, by), expected in controls.expected.items():
            if kind == "sum":
                checks.append(LoadCheck(name, kind, item, None, expected[None], scan.sums[item]))
                continue
            if kind == "sum_by" and by:
                per_code = scan.code_sums[by]
                actual: dict[str, Total] = {code: sums[item] for code, sums in per_code.items()}
                what = f"{item}/{by}"
            else:
                actual, what = dict(scan.codes[item]), item
            for code in sorted({str(k) for k in expected} | actual.keys()):
                checks.append(
                    LoadCheck(name, kind, what, code, expected.get(code, 0), actual.get(code, 0))
                )
    return checks
