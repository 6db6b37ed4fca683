"""Schema validation of one record file: a pandera schema generated from the layout.

The pandera schema declares the record file: its columns, their dtypes and the checks
(etl.validate.checks). A frame that has exactly these columns is checked in one polars pass of
every check (pandera runs and collects each check as a query of its own: twice the cost of a
chunk's checks). A frame that does not (a missing, extra or mistyped column) is validated by
pandera, which then words the schema-level failures. Either way the same ItemCheck objects say how
a failing row is reported as a Finding.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import polars as pl

from etl.findings import Severity, concat_findings, empty_findings, record_key_expr
from etl.layout import Layout, RecordFile
from etl.validate.checks import RECORD_NO, SOURCE, ItemCheck, SchemaRule, item_checks, key_check

if TYPE_CHECKING:  # pandera is imported when a frame does not conform (≈70 ms a run saves)
    import pandera.polars as pa
    from pandera.api.polars.types import PolarsData

_ROW = "_row"  # pandera's failure-case index: the row position in the validated frame


def _columns(record_file: RecordFile) -> dict[str, tuple[type[pl.DataType], bool]]:
    """The columns of a record file's checked frame: name → (dtype, nullable)."""
    columns: dict[str, tuple[type[pl.DataType], bool]]
    columns = {name: (pl.String, True) for name in record_file.item_names}
    columns[RECORD_NO] = (pl.Int64, False)
    columns[SOURCE] = (pl.String, True)
    return columns


def _pandera_check(check: ItemCheck) -> pa.Check:
    import pandera.polars as pa

    passes = check.passes

    def run(data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(passes)

    # ignore_na=False: `passes` already decides what a null means.
    return pa.Check(run, name=check.rule.value, ignore_na=False)


def build_schema(
    layout: Layout, record_file: RecordFile, *, key: bool = True
) -> pa.DataFrameSchema:
    """The pandera schema of a mapped record file: every item a String column with its checks.

    Columns are nullable in pandera's sense because ``schema.required`` is one of our checks.
    ``strict`` makes a missing or unknown column a failure: the frame must be exactly the
    layout's items plus the bookkeeping columns.
    """
    import pandera.polars as pa

    checks: dict[str, list[pa.Check]] = {name: [] for name in record_file.item_names}
    for check in item_checks(layout, record_file, key=key):
        checks[check.column].append(_pandera_check(check))
    columns = {
        name: pa.Column(dtype, checks=checks.get(name), nullable=nullable)
        for name, (dtype, nullable) in _columns(record_file).items()
    }
    return pa.DataFrameSchema(columns, strict=True, name=f"{layout.id}.{record_file.id}")


def _failure_cases(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> pl.DataFrame | None:
    from pandera.config import ValidationDepth, config_context
    from pandera.errors import SchemaErrors

    # Pin the depth: a LazyFrame, or PANDERA_VALIDATION_DEPTH / PANDERA_VALIDATION_ENABLED in the
    # environment, would otherwise skip the data checks without a word (MEASURED.md).
    with config_context(validation_enabled=True, validation_depth=ValidationDepth.SCHEMA_AND_DATA):
        try:
            schema.validate(frame, lazy=True)
        except SchemaErrors as exc:
            failures: pl.DataFrame = exc.failure_cases
            return failures.select(
                pl.col("column").cast(pl.String),
                pl.col("check").cast(pl.String),
                pl.col("failure_case").cast(pl.String),
                pl.col("index").cast(pl.Int64).alias(_ROW),
            )
    return None


def _report_frame(record_file: RecordFile, frame: pl.DataFrame) -> pl.DataFrame:
    """The frame as String columns, missing ones null, so that every row can be reported."""
    # A column of the wrong type is itself a check error; its values are not reported.
    strings = {name for name, dtype in frame.schema.items() if dtype == pl.String}
    cols = [
        pl.col(name) if name in strings else pl.lit(None, pl.String).alias(name)
        for name in record_file.item_names
    ]
    record_no = (
        pl.col(RECORD_NO) if frame.schema.get(RECORD_NO) == pl.Int64 else pl.lit(None, pl.Int64)
    )
    return frame.select(*cols, record_no.alias(RECORD_NO))


def _finding_columns(
    layout: Layout, record_file: RecordFile, rule: pl.Expr, item: pl.Expr
) -> list[pl.Expr]:
    return [
        rule.alias("rule"),
        pl.lit(Severity.ERROR.value).alias("severity"),
        pl.lit(layout.id).alias("gyomu"),
        pl.lit(record_file.id).alias("file"),
        pl.col(RECORD_NO).alias("record_no"),
        record_key_expr(record_file).alias("key"),
        item.alias("item"),
    ]


def _check_findings(
    layout: Layout, record_file: RecordFile, check: ItemCheck, rows: pl.DataFrame
) -> pl.DataFrame:
    return rows.select(
        *_finding_columns(layout, record_file, pl.lit(check.rule.value), pl.lit(check.item)),
        check.shown.alias("value"),
        check.message(check.value, check.shown).alias("message"),
    )


def _error_findings(
    layout: Layout, record_file: RecordFile, failures: pl.DataFrame, report: pl.DataFrame
) -> pl.DataFrame:
    """Failures no ItemCheck explains: a check that raised (null row), a missing column …"""
    sensitive = [it.name for it in record_file.items if it.sensitive]
    # pandera's failure_case can be a raw value (a column name, an error text, a datum):
    # never shown for a sensitive column.
    detail = (
        pl.when(pl.col("column").is_in(sensitive))
        .then(pl.lit(""))
        .otherwise(pl.concat_str(pl.lit("（"), pl.col("failure_case"), pl.lit("）")))
        .fill_null("")
    )
    rows = failures.join(report.with_row_index(_ROW).cast({_ROW: pl.Int64}), on=_ROW, how="left")
    return rows.select(
        *_finding_columns(
            layout, record_file, pl.lit(SchemaRule.CHECK_ERROR.value), pl.col("column")
        ),
        pl.lit(None, pl.String).alias("value"),
        pl.concat_str(
            pl.col("column").fill_null(record_file.id),
            pl.lit("の検査「"),
            pl.col("check").fill_null("?"),
            pl.lit("」を実行できませんでした"),
            detail,
        ).alias("message"),
    )


class SchemaChecks:
    """The schema checks of one record file, built once and run on each of its chunks."""

    def __init__(self, layout: Layout, record_file: RecordFile, *, key: bool = True) -> None:
        self.layout = layout
        self.record_file = record_file
        # in the order pandera runs them: column by column, the key check among its first
        # column's (findings come out in this order)
        column = {name: i for i, name in enumerate(record_file.item_names)}
        self.checks = sorted(
            item_checks(layout, record_file, key=key), key=lambda c: column[c.column]
        )
        self._key = key
        self._columns = _columns(record_file)
        self._failing = [c.one_pass.not_().alias(str(i)) for i, c in enumerate(self.checks)]

    def findings(self, frame: pl.DataFrame) -> pl.DataFrame:
        """One Finding row per failing row and check, in check order, then row order: what
        ``pandera_findings`` gives."""
        if not self._conforms(frame):
            return self.pandera_findings(frame)
        try:
            failing = frame.select(self._failing)
        except pl.exceptions.PolarsError:  # a check that cannot run: pandera words it
            return self.pandera_findings(frame)
        failed = [i for i, hit in enumerate(failing.select(pl.all().any()).row(0)) if hit]
        if not failed:
            return empty_findings()
        report = _report_frame(self.record_file, frame)
        return concat_findings(
            [
                _check_findings(
                    self.layout, self.record_file, self.checks[i], report.filter(failing[str(i)])
                )
                for i in failed
            ]
        )

    def _conforms(self, frame: pl.DataFrame) -> bool:
        """The frame has the schema's columns and dtypes, and no null where none may be: then
        pandera's only failures are the checks' own."""
        if set(frame.columns) != set(self._columns):  # strict: none missing, none unknown
            return False
        return all(
            frame.schema[name] == dtype and (nullable or not frame[name].null_count())
            for name, (dtype, nullable) in self._columns.items()
        )

    @cached_property
    def schema(self) -> pa.DataFrameSchema:
        """The pandera schema, built when a frame needs pandera's wording."""
        return build_schema(self.layout, self.record_file, key=self._key)

    def pandera_findings(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The findings as pandera reports the failures: every check run by pandera, a
        schema-level problem (a missing column, a wrong dtype, a check that raised) a
        schema.check_error worded from pandera's failure case."""
        failures = _failure_cases(self.schema, frame)
        if failures is None:
            return empty_findings()
        report = _report_frame(self.record_file, frame)
        checks = {(c.column, c.rule.value): c for c in self.checks}
        known = pl.DataFrame(
            {"column": [col for col, _ in checks], "check": [rule for _, rule in checks]}
        )
        located = failures.filter(pl.col(_ROW).is_not_null())
        explained = located.join(known, on=["column", "check"], how="semi")
        unexplained = pl.concat(
            [
                failures.filter(pl.col(_ROW).is_null()),
                located.join(known, on=["column", "check"], how="anti"),
            ]
        )
        parts = [_error_findings(self.layout, self.record_file, unexplained, report)]
        # One pass per failing check (a few dozen at most), never per row.
        for (column, rule), group in explained.partition_by(
            "column", "check", as_dict=True
        ).items():
            rows = report.select(pl.all().gather(group[_ROW]))
            check = checks[(str(column), str(rule))]
            parts.append(_check_findings(self.layout, self.record_file, check, rows))
        return concat_findings(parts)


def schema_findings(
    layout: Layout, record_file: RecordFile, frame: pl.DataFrame, *, key: bool = True
) -> pl.DataFrame:
    """Validate a mapped record file against its layout; one Finding row per failing row and check.

    ``frame`` must be collected: pandera skips data checks on a LazyFrame. ``key=False``: the
    checks of each record alone, for a chunk (``key_findings`` checks the whole file's keys).
    """
    return SchemaChecks(layout, record_file, key=key).findings(frame)


def key_findings(layout: Layout, record_file: RecordFile, frame: pl.DataFrame) -> pl.DataFrame:
    """``schema.key_unique`` over a whole record file: ``frame`` holds at least its key columns
    and RECORD_NO (what a streaming run keeps), findings as ``schema_findings`` words them."""
    check = key_check(record_file)
    report = _report_frame(record_file, frame)
    rows = report.filter(check.passes.not_())
    if rows.is_empty():
        return empty_findings()
    return _check_findings(layout, record_file, check, rows)
