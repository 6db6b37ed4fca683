"""Run a RuleSet over mapped frames: each rule kind is a few polars expressions, no row loops.

Conventions of rule findings: ``rule`` is the rule id from the YAML, ``message`` its message;
when a finding is about several items, ``item`` and ``value`` join them with "|" like ``key``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from functools import reduce
from operator import and_

import numpy as np
import polars as pl

from etl.conditions import Condition, compile_condition, condition_names
from etl.config import KeyPath
from etl.errors import RuleError
from etl.findings import (
    KEY_SEPARATOR,
    Severity,
    concat_findings,
    empty_findings,
    finding_exprs,
    joined_expr,
    record_key_expr,
)
from etl.layout import MAX_DECIMAL_DIGITS, ItemType, Layout, RecordFile
from etl.validate.checks import RECORD_NO
from etl.validate.rules import (
    Age,
    AgeEnd,
    CheckDigit,
    Compare,
    CompareOp,
    ExactlyOne,
    ExistsIn,
    RequiredIf,
    Rule,
    RuleSet,
    Unique,
    check_rules,
)
from etl.validate.whole_file import (
    Digest,
    Digests,
    KeptFile,
    duplicated,
    missing_in,
    not_exactly_one,
)

# The finding's id keeps its first spelling: finding ids are compared between passes.
REFERENCE_MISSING = "rule.target_missing"
FILE_MISSING = "rule.file_missing"

Others = Mapping[tuple[str, str], pl.DataFrame]


def _all_present(names: tuple[str, ...] | list[str]) -> pl.Expr:
    return reduce(and_, [pl.col(n).is_not_null() for n in names])


def _findings(
    rule: Rule,
    layout: Layout,
    rows: pl.DataFrame,
    *,
    record_no: pl.Expr,
    key: pl.Expr,
    item: str,
    value: pl.Expr,
    rule_id: str | None = None,
    severity: Severity | None = None,
    message: str | None = None,
) -> pl.DataFrame:
    if rows.is_empty():  # the same frame, without planning a query for no rows
        return empty_findings()
    return rows.select(
        finding_exprs(
            rule=rule_id or rule.id,
            severity=severity or rule.severity,
            gyomu=layout.id,
            file=rule.file,
            record_no=record_no,
            key=key,
            item=item,
            value=value,
            message=message or rule.message,
        )
    )


def _skipped(rule: Rule, layout: Layout, rule_id: str, what: str) -> pl.DataFrame:
    """A warning that a rule could not run: a skipped check must not look like a passed one."""
    return _findings(
        rule,
        layout,
        pl.DataFrame({"_": [None]}),
        record_no=pl.lit(None),
        key=pl.lit(None),
        item="",
        value=pl.lit(None),
        rule_id=rule_id,
        severity=Severity.WARNING,
        message=f"{what}がないため、規則 {rule.id} を検査できませんでした",
    )


def _condition(rule: Rule, layout: Layout, cond: Condition, columns: Collection[str]) -> pl.Expr:
    """A rule's condition over its record file's ``columns`` (check_rules has checked its
    items)."""

    def error(at: KeyPath, reason: str) -> RuleError:
        return RuleError(f"validators/{layout.id}.yaml", f"rule {rule.id}: {reason}")

    return compile_condition(cond, frozenset(columns), error)


def _row_findings(
    rule: Rule, layout: Layout, record_file: RecordFile, rows: pl.DataFrame, items: list[str]
) -> pl.DataFrame:
    return _findings(
        rule,
        layout,
        rows,
        record_no=pl.col(RECORD_NO),
        key=record_key_expr(record_file),
        item=KEY_SEPARATOR.join(items),
        value=joined_expr(record_file, items),
    )


def _exactly_one(
    rule: ExactlyOne, layout: Layout, record_file: RecordFile, frame: pl.DataFrame
) -> pl.DataFrame:
    # One finding per failing group, not per row: the group is what is wrong (a 世帯 with no
    # 世帯主 has no row to blame). key = the group values, record_no = its first record,
    # value = how many rows matched. Rows without group values are left to schema.required.
    # (grouped as they are, groups with a missing value dropped after: no copy of the file)
    groups = (
        frame.group_by(rule.group_by)
        .agg(
            _condition(rule, layout, rule.when, frame.columns).sum().alias("_matched"),
            pl.col(RECORD_NO).min(),
        )
        .filter(_all_present(rule.group_by) & (pl.col("_matched") != 1))
        .sort(RECORD_NO)
    )
    return _findings(
        rule,
        layout,
        groups,
        record_no=pl.col(RECORD_NO),
        key=joined_expr(record_file, rule.group_by),
        item=KEY_SEPARATOR.join(condition_names(rule.when)),
        value=pl.col("_matched"),
    )


_OPS: dict[CompareOp, Callable[[pl.Expr, pl.Expr], pl.Expr]] = {
    CompareOp.LT: pl.Expr.lt,
    CompareOp.LE: pl.Expr.le,
    CompareOp.EQ: pl.Expr.eq,
    CompareOp.NE: pl.Expr.ne,
    CompareOp.GE: pl.Expr.ge,
    CompareOp.GT: pl.Expr.gt,
}


def _compare(
    rule: Compare, layout: Layout, record_file: RecordFile, frame: pl.DataFrame
) -> pl.DataFrame:
    left, right = pl.col(rule.left), pl.col(rule.right)
    left_item, right_item = record_file.item(rule.left), record_file.item(rule.right)
    if left_item.type is ItemType.DECIMAL:
        # exact decimals at the finer of the two scales (schema.type reports malformed values)
        exact = pl.Decimal(MAX_DECIMAL_DIGITS, max(left_item.scale, right_item.scale))
        left, right = left.cast(exact, strict=False), right.cast(exact, strict=False)
    elif left_item.type is ItemType.INTEGER:
        # "-5" < "10" fails as strings; a value that is no integer becomes null and passes here
        # (schema.type reports it).
        left, right = left.cast(pl.Int64, strict=False), right.cast(pl.Int64, strict=False)
    # YYYYMMDD strings compare like the dates they stand for.
    holds = _OPS[rule.op](left, right)
    rows = frame.filter(holds.not_())  # null (either side null) is dropped by filter: passes
    return _row_findings(rule, layout, record_file, rows, [rule.left, rule.right])


def _exists_in(
    rule: ExistsIn, layout: Layout, record_file: RecordFile, frame: pl.DataFrame, others: Others
) -> pl.DataFrame:
    # Rows with a missing item cannot be looked up; schema.required reports them.
    rows = frame.filter(_all_present(rule.items))
    for ref in rule.references:  # a row found in any of them passes
        found = others.get((ref.layout, ref.file))
        if found is None:  # half a lookup would report rows that may well be in the absent file
            return _skipped(
                rule, layout, REFERENCE_MISSING, f"参照先（{ref.layout}の{ref.file}）のデータ"
            )
        if len(rule.items) == 1:  # a set of the referenced values, not a join of two files
            known = found[ref.items[0]].cast(pl.String).implode()
            rows = rows.filter(~pl.col(rule.items[0]).is_in(known))
        else:
            keys = found.select(
                pl.col(r).cast(pl.String).alias(i)
                for r, i in zip(ref.items, rule.items, strict=True)
            ).unique()
            rows = rows.join(keys, on=list(rule.items), how="anti")
    return _row_findings(rule, layout, record_file, rows, list(rule.items))


def _reached(birth: pl.Expr, years: int) -> pl.Expr:
    """The day an age is reached: the day before the birthday of that year. Born 02-29, in a
    common year it is 02-28 (民法第143条第2項: no such day, the period ends with the month);
    born 03-01, it is 02-29 of a leap year."""
    birthday = birth.dt.offset_by(f"{years}y")  # 02-29 → 02-28 in a common year (clamped)
    clamped = (birth.dt.month() == 2) & (birth.dt.day() == 29) & (birthday.dt.day() == 28)
    return pl.when(clamped).then(birthday).otherwise(birthday.dt.offset_by("-1d"))


def _fiscal_year_end(day: pl.Expr) -> pl.Expr:
    """The first 3月31日 on or after ``day``."""
    year = day.dt.year() + (day.dt.month() > 3).cast(pl.Int32)
    return pl.date(year, 3, 31)


def _age(rule: Age, layout: Layout, record_file: RecordFile, frame: pl.DataFrame) -> pl.DataFrame:
    # YYYYMMDD text → dates; a value that is no date is null and passes (schema.date reports it)
    birth = pl.col(rule.birth).str.strptime(pl.Date, "%Y%m%d", strict=False)
    on_text = pl.col(rule.at).cast(pl.String)
    on = on_text.str.strptime(pl.Date, "%Y%m%d", strict=False)
    wrong = pl.lit(False)
    if rule.min_age is not None:
        wrong = wrong | (on < _reached(birth, rule.min_age))
    if rule.max_age is not None:
        if rule.max_age_end is AgeEnd.FISCAL_YEAR:
            wrong = wrong | (on > _fiscal_year_end(_reached(birth, rule.max_age)))
        else:
            wrong = wrong | (on >= _reached(birth, rule.max_age + 1))
    checked = pl.lit(True)
    if rule.period_from is not None:
        checked = checked & (on_text >= rule.period_from)
    if rule.period_until is not None:
        checked = checked & (on_text <= rule.period_until)
    if rule.when is not None:
        checked = checked & _condition(rule, layout, rule.when, frame.columns)
    rows = frame.filter(checked & wrong)  # null (a date missing) is dropped by filter: passes
    return _row_findings(rule, layout, record_file, rows, [rule.birth, rule.at])


def _unique(
    rule: Unique, layout: Layout, record_file: RecordFile, frame: pl.DataFrame
) -> pl.DataFrame:
    # every duplicate row; rows with a missing item are never duplicates (schema.required)
    values = pl.col(rule.items[0]) if len(rule.items) == 1 else pl.struct(rule.items)
    rows = frame.filter(_all_present(rule.items) & values.is_duplicated())
    return _row_findings(rule, layout, record_file, rows, list(rule.items))


def _required_if(
    rule: RequiredIf, layout: Layout, record_file: RecordFile, frame: pl.DataFrame
) -> pl.DataFrame:
    matching = frame.filter(_condition(rule, layout, rule.when, frame.columns))
    parts = [
        _row_findings(rule, layout, record_file, matching.filter(pl.col(n).is_null()), [n])
        for n in rule.then
    ]
    return concat_findings(parts)


def _check_digit(
    rule: CheckDigit, layout: Layout, record_file: RecordFile, frame: pl.DataFrame
) -> pl.DataFrame:
    # Values that are not all digits are schema.type findings already; every all-digit value
    # of another length, or whose last digit is not the check digit, is one of this rule.
    text = frame.get_column(rule.item).cast(pl.String)
    lengths = text.str.len_bytes()
    fits = (lengths == rule.length).fill_null(False)
    other = lengths.is_not_null() & ~fits  # null (no value) passes
    wrong = np.zeros(frame.height, dtype=np.bool_)
    if other.any():  # the few values of another length: wrong when they are all digits
        wrong[other.to_numpy()] = text.filter(other).str.contains(r"^[0-9]+$").to_numpy()
    if fits.any():
        # the bytes of the values as a (length × values) matrix, one row per position from the
        # left, digits 0–9; every other byte (a non-ASCII one too) wraps above 9 in uint8
        values = text.filter(fits).cast(pl.Binary)
        matrix = values.bin.reinterpret(dtype=pl.Array(pl.UInt8, rule.length)).to_numpy()
        digits = np.ascontiguousarray(matrix.T) - np.uint8(ord("0"))
        all_digits = (digits <= 9).all(axis=0)
        # summed modulo the modulus, in the smallest type that holds the largest sum (255 a
        # byte): exact, and the cheapest
        weights = [w % rule.modulus for w in rule.weights]
        sums = np.min_scalar_type(255 * sum(weights))
        weighted = np.zeros(len(values), dtype=sums)
        # position 1 is the digit left of the check digit: a loop over positions, not rows
        for position, weight in enumerate(weights, start=1):
            weighted += digits[-1 - position] * sums.type(weight)
        # the check digit of each remainder (modulus - remainder, or 0), looked up
        expected = np.array(
            [0 if r in rule.zero_remainders else rule.modulus - r for r in range(rule.modulus)]
        )
        wrong[fits.to_numpy()] = all_digits & (digits[-1] != expected[weighted % rule.modulus])
    rows = frame.filter(pl.Series(wrong))
    return _row_findings(rule, layout, record_file, rows, [rule.item])


def _run(
    rule: Rule, layout: Layout, record_file: RecordFile, frame: pl.DataFrame, record_files: Others
) -> pl.DataFrame:
    match rule:
        case ExactlyOne():
            return _exactly_one(rule, layout, record_file, frame)
        case Compare():
            return _compare(rule, layout, record_file, frame)
        case ExistsIn():
            return _exists_in(rule, layout, record_file, frame, record_files)
        case Unique():
            return _unique(rule, layout, record_file, frame)
        case RequiredIf():
            return _required_if(rule, layout, record_file, frame)
        case CheckDigit():
            return _check_digit(rule, layout, record_file, frame)
        case Age():
            return _age(rule, layout, record_file, frame)
    raise TypeError(rule)  # pragma: no cover - every kind is matched above


def _check_reference(
    rules: RuleSet, rule: ExistsIn, columns: Mapping[tuple[str, str], Collection[str]]
) -> None:
    """The items a rule looks up are in the file it looks them up in (``columns`` by layout
    id and file id; a file not there is the rule's skipped finding)."""
    for ref in rule.references:
        found = columns.get((ref.layout, ref.file))
        absent = [] if found is None else [n for n in ref.items if n not in found]
        if absent:
            where = rules.path or f"validators/{rules.layout}.yaml"
            raise RuleError(where, f"rule {rule.id}: {ref.layout}/{ref.file} has no items {absent}")


def per_record(rule: Rule) -> bool:
    """A rule that looks at one row at a time, so it can run on each chunk of its file; the
    others (exactly_one, unique, exists_in) need the whole file, or another one."""
    return isinstance(rule, Compare | RequiredIf | CheckDigit | Age)


def rule_columns(rule: Rule, record_file: RecordFile) -> list[str]:
    """The columns of its file a rule reads (its items, the key of its findings, record no.)."""
    names = [RECORD_NO, *record_file.key]
    match rule:
        case ExactlyOne():
            names += [*rule.group_by, *condition_names(rule.when)]
        case ExistsIn() | Unique():
            names += rule.items
        case Compare():
            names += [rule.left, rule.right]
        case RequiredIf():
            names += [*condition_names(rule.when), *rule.then]
        case CheckDigit():
            names.append(rule.item)
        case Age():
            names += [rule.birth, rule.at, *(condition_names(rule.when) if rule.when else [])]
    return list(dict.fromkeys(names))


def run_rule(
    rules: RuleSet,
    rule: Rule,
    layout: Layout,
    frame: pl.DataFrame | None,
    record_files: Others,
) -> pl.DataFrame:
    """The findings of one rule over ``frame`` (its file, or a chunk of it for a per_record
    rule; None: the file has no data); ``record_files`` by (layout id, file id) for exists_in."""
    if frame is None:
        return _skipped(rule, layout, FILE_MISSING, f"{rule.file}のデータ")
    if isinstance(rule, ExistsIn):
        _check_reference(rules, rule, {k: f.columns for k, f in record_files.items()})
    return _run(rule, layout, layout.record_file(rule.file), frame, record_files)


def _when_column(layout: Layout, rule: Rule) -> str:
    return f"_when[{layout.id}:{rule.id}]"


def rule_digests(rule: Rule, layout: Layout) -> Mapping[tuple[str, str], Digests]:
    """The digests a whole-file rule reads, by (layout id, file id): the hashes of what it
    groups or looks up by (and their guards), exactly_one's condition."""
    own: dict[str, Digest | pl.Expr] = {}
    wanted = {(layout.id, rule.file): own}
    match rule:
        case ExactlyOne():
            group = Digest(tuple(rule.group_by))
            known = layout.record_file(rule.file).item_names
            own |= {d.column: d for d in (group, group.guarded)}
            own[_when_column(layout, rule)] = _condition(rule, layout, rule.when, known)
        case Unique():
            own[Digest(tuple(rule.items)).column] = Digest(tuple(rule.items))
        case ExistsIn():
            items = Digest(tuple(rule.items))
            own |= {d.column: d for d in (items, items.guarded)}
            for ref in rule.references:
                refs = Digest(tuple(ref.items))
                other = wanted.setdefault((ref.layout, ref.file), {})
                other |= {d.column: d for d in (refs, refs.guarded)}
    return wanted


def whole_file_findings(
    rules: RuleSet,
    rule: ExactlyOne | Unique | ExistsIn,
    layout: Layout,
    own: KeptFile | None,
    kept: Mapping[tuple[str, str], KeptFile],
) -> pl.DataFrame:
    """The findings of a whole-file rule over its file (``own``; None: no data) and the kept
    files (by layout id, file id, for exists_in): the suspect rows found on the digests, the
    rule run on their values; the findings ``run_rule`` gives on the whole frames."""
    if own is None:
        return _skipped(rule, layout, FILE_MISSING, f"{rule.file}のデータ")
    record_file = layout.record_file(rule.file)
    match rule:
        case ExactlyOne():
            group = Digest(tuple(rule.group_by))
            rows = not_exactly_one(own, group, _when_column(layout, rule))
            return _exactly_one(rule, layout, record_file, rows)
        case Unique():
            return _unique(rule, layout, record_file, duplicated(own, Digest(tuple(rule.items))))
    _check_reference(rules, rule, {k: f.values.columns for k, f in kept.items()})
    references = []
    for ref in rule.references:
        found = kept.get((ref.layout, ref.file))
        if found is None:  # as _exists_in: half a lookup would report rows found elsewhere
            return _skipped(
                rule, layout, REFERENCE_MISSING, f"参照先（{ref.layout}の{ref.file}）のデータ"
            )
        references.append((found, Digest(tuple(ref.items))))
    rows = missing_in(own, Digest(tuple(rule.items)), references)
    return _row_findings(rule, layout, record_file, rows, list(rule.items))


def rule_findings(
    rules: RuleSet, layout: Layout, frames: dict[str, pl.DataFrame], others: Others
) -> pl.DataFrame:
    """Findings of every rule; ``frames`` by RecordFile id, ``others`` by (layout id, file id).

    Raises RuleError when a rule names items or files the layout does not have.
    """
    check_rules(rules, layout)
    # A rule may refer to another file of the same layout.
    record_files: dict[tuple[str, str], pl.DataFrame] = {
        **{(layout.id, fid): f for fid, f in frames.items()},
        **others,
    }
    parts = [
        run_rule(rules, rule, layout, frames.get(rule.file), record_files) for rule in rules.rules
    ]
    return concat_findings(parts)
