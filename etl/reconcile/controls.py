"""Control totals declared in a mapping spec (``controls:``), computed on both sides.

For each control: the source side is read from every data record of the primary source (before
filters), the target side from the records handed to the V2.1 file's writer, and the filtered
records' share separately, each summed chunk by chunk. ``source = target + filtered`` must
hold; a non-zero rest is an unexplained difference, a blocking finding. Rejected records never
reach the source side (they could not be read): they are explained by the rejects file and
counted per input file.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl

from etl.extract import RECORD_NO
from etl.findings import Severity, finding_exprs
from etl.layout import EXACT, MAX_DECIMAL_DIGITS, Item, ItemType, decimal_pattern
from etl.mapping import MappedRecordFile

BLANK = "（空欄）"
# A control total: an int, or an exact Decimal for a decimal item (written to JSON as its text,
# "12345.67", so that no reader sees a float).
Total = int | Decimal


def control_number(value: object) -> Total:
    """A total read back from manifest.json: an int, or a decimal written as text."""
    if isinstance(value, bool):
        raise ValueError(f"not a control total: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and "." not in value:
        return int(value)  # ValueError when it is no number
    if isinstance(value, str):
        try:
            number = Decimal(value)
        except ArithmeticError:
            number = Decimal("NaN")
        if number.is_finite():
            return number
    raise ValueError(f"not a control total: {value!r}")


def total_json(value: Total) -> int | str:
    return value if isinstance(value, int) else format(value, "f")  # plain digits, no exponent


@dataclass(frozen=True, slots=True)
class ControlRow:
    gyomu: str
    record_file: str
    kind: str  # "sum" | "count_by" | "sum_by"
    item: str  # 項目名 (the amount, for sum and sum_by)
    code: str | None  # the code value for count_by and sum_by
    source: Total  # over all readable data records of the primary source
    target: Total  # over the written V2.1 file
    filtered: Total  # over the records dropped by the spec's filters
    by: str | None = None  # sum_by: the code item whose values ``code`` is one of

    @property
    def unexplained(self) -> Total:
        ints = (self.source, self.target, self.filtered)
        if all(isinstance(v, int) for v in ints):
            return self.source - self.target - self.filtered
        return EXACT.subtract(EXACT.subtract(self.source, self.target), self.filtered)

    @property
    def label(self) -> str:
        """The item as the report names it: 税額（資産区分別） for a sum_by."""
        return self.item if self.by is None else f"{self.item}（{self.by}別）"

    def as_dict(self) -> dict[str, object]:
        # "by" only when set: the manifests of runs without a sum_by keep their bytes
        by = {} if self.by is None else {"by": self.by}
        return {
            "gyomu": self.gyomu,
            "record_file": self.record_file,
            "kind": self.kind,
            "item": self.item,
            **by,
            "code": self.code,
            "source": total_json(self.source),
            "target": total_json(self.target),
            "filtered": total_json(self.filtered),
            "unexplained": total_json(self.unexplained),
        }


# One side of one control: a total (sum), the count of each code (count_by) or the total of each
# code (sum_by).
Tally = Total | dict[str, int] | dict[str, Total]


def _amount(column: str, item: Item) -> pl.Expr:
    """The values of an amount column that count, as numbers (others are null: they count as 0
    on both sides; the schema check reports them separately)."""
    values = pl.col(column)
    if item.type is not ItemType.DECIMAL:
        return values.cast(pl.Int64, strict=False)
    # A decimal item sums exactly, as polars Decimals: only values of the item's own shape
    # count (a cast alone would round 1.555 to 1.56).
    text = values.cast(pl.String)
    exact = text.str.contains(f"^(?:{decimal_pattern(item.scale)})$").fill_null(False)
    dtype = pl.Decimal(MAX_DECIMAL_DIGITS, item.scale)
    return pl.when(exact).then(text).otherwise(None).cast(dtype, strict=False)


def _exact(total: int | Decimal | None, item: Item) -> Total:
    if item.type is not ItemType.DECIMAL:
        return 0 if total is None else int(total)
    quantum = Decimal(f"1E-{item.scale}")
    return EXACT.quantize(Decimal(0) if total is None else Decimal(str(total)), quantum)


def _sum(frame: pl.DataFrame, column: str, item: Item) -> Total:
    return _exact(frame.select(_amount(column, item).sum()).item(), item)


def _code(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.String).fill_null(BLANK).replace("", BLANK).alias("_code")


def _grouped(frame: pl.DataFrame, aggregation: pl.Expr, column: str) -> list[tuple[Any, Any]]:
    grouped = frame.group_by(_code(column)).agg(aggregation.alias("_value"))
    return list(grouped.iter_rows())


def _counts(frame: pl.DataFrame, column: str) -> dict[str, int]:
    return {str(code): int(n) for code, n in _grouped(frame, pl.len(), column)}


def _sums_by(frame: pl.DataFrame, column: str, by: str, item: Item) -> dict[str, Total]:
    rows = _grouped(frame, _amount(column, item).sum(), by)
    return {str(code): _exact(total, item) for code, total in rows}


def _tally(frame: pl.DataFrame, column: str, kind: str, item: Item, by: str | None = None) -> Tally:
    if kind == "sum":
        return _sum(frame, column, item)
    if kind == "sum_by":
        assert by is not None, "a sum_by control names its code column"
        return _sums_by(frame, column, by, item)
    return _counts(frame, column)


def _add(a: Total, b: Total) -> Total:
    return a + b if isinstance(a, int) and isinstance(b, int) else EXACT.add(a, b)


def add_tallies(a: Tally, b: Tally) -> Tally:
    """Two chunks' tallies of the same control, as one."""
    if isinstance(a, dict) and isinstance(b, dict):
        return {code: _add(a.get(code, 0), b.get(code, 0)) for code in a.keys() | b.keys()}
    assert not isinstance(a, dict) and not isinstance(b, dict)
    return _add(a, b)


# Each control's three sides over a chunk or a whole file, in order: (source, target, filtered).
ControlTallies = list[tuple[Tally, Tally, Tally]]


def chunk_tallies(mapped: MappedRecordFile) -> ControlTallies:
    """Each control's sides over a mapped record file (or one chunk of it): the source side over
    every readable primary record, the target side over the records handed to the writer (the
    V2.1 text of ``mapped.frame``, which the file holds row for row: the writers' round trip
    is tested, and the file's bytes are sealed by their SHA-256 in the manifest), the filtered
    side over the records its filters dropped. Summed chunk by chunk where the chunk is
    written, so no V2.1 file is read back at the end of a run."""
    values = mapped.control_values
    dropped = values.filter(pl.col(RECORD_NO).is_in(mapped.filtered["record_no"].implode()))
    tallies: ControlTallies = []
    for i, (kind, item, by) in enumerate(mapped.controls):
        it = mapped.record_file.item(item)
        by_column = None if by is None else f"_ctl{i}_by"
        tallies.append(
            (
                _tally(values, f"_ctl{i}", kind, it, by_column),
                _tally(mapped.frame, item, kind, it, by),
                _tally(dropped, f"_ctl{i}", kind, it, by_column),
            )
        )
    return tallies


def add_control_tallies(a: ControlTallies, b: ControlTallies) -> ControlTallies:
    return [
        (add_tallies(s1, s2), add_tallies(t1, t2), add_tallies(f1, f2))
        for (s1, t1, f1), (s2, t2, f2) in zip(a, b, strict=True)
    ]


def reconcile_target(
    gyomu: str, mapped: MappedRecordFile, tallies: ControlTallies | None = None
) -> list[ControlRow]:
    """Control rows of one V2.1 file; ``tallies``: its sides summed chunk by chunk (default:
    over ``mapped`` whole)."""
    sides = chunk_tallies(mapped) if tallies is None else tallies
    rows: list[ControlRow] = []
    for (kind, item, by), (src, tgt, flt) in zip(mapped.controls, sides, strict=True):
        base = (gyomu, mapped.record_file.id, kind, item)
        it = mapped.record_file.item(item)
        if not isinstance(src, dict) and not isinstance(tgt, dict) and not isinstance(flt, dict):
            rows.append(ControlRow(*base, None, src, tgt, flt))
            continue
        assert isinstance(src, dict) and isinstance(tgt, dict) and isinstance(flt, dict)
        zero = 0 if kind == "count_by" else _exact(None, it)  # a code one side lacks: "0.00"
        for code in sorted(src.keys() | tgt.keys() | flt.keys()):
            totals = (src.get(code, zero), tgt.get(code, zero), flt.get(code, zero))
            rows.append(ControlRow(*base, code, *totals, by))
    return rows


def reconciliation_findings(rows: list[ControlRow]) -> pl.DataFrame:
    """One blocking finding per control row whose difference is not explained."""
    bad = [r for r in rows if r.unexplained]
    frame = pl.DataFrame(
        {
            "gyomu": [r.gyomu for r in bad],
            "file": [r.record_file for r in bad],
            "item": [r.item for r in bad],
            "message": [_message(r) for r in bad],
        },
        schema={"gyomu": pl.String, "file": pl.String, "item": pl.String, "message": pl.String},
    )
    return frame.select(
        finding_exprs(
            rule="reconcile.unexplained",
            severity=Severity.ERROR,
            gyomu=pl.col("gyomu"),
            file=pl.col("file"),
            record_no=pl.lit(None),
            key=pl.lit(""),
            item=pl.col("item"),
            value=pl.lit(None),
            message=pl.col("message"),
        )
    )


def _message(r: ControlRow) -> str:
    if r.kind == "sum":
        what = f"{r.item}の合計"
    elif r.kind == "sum_by":
        what = f"{r.item}の合計（{r.by}「{r.code}」）"
    else:
        what = f"{r.item}「{r.code}」の件数"
    return (
        f"{what}が一致しません: 元データ {r.source:,} − 出力 {r.target:,} − 対象外 {r.filtered:,}"
        f" = 説明のつかない差 {r.unexplained:,}"
    )
