"""What a run report shows, read back from a finished run folder (never from engine internals).

A report is rebuilt from the files a run leaves behind (manifest.json, findings.csv and the
optional run.json of a pass), so it can be rendered again later, for any past run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from etl import run_folder
from etl.errors import ChukanError
from etl.findings import FINDING_SCHEMA, Severity
from etl.report.labels import EXTRA_SECTION_TITLES
from etl.run_folder import RunFolder, RunFolderError

DEFAULT_TOP = 200  # finding rows shown per rule in the HTML; the XLSX always has all of them


class ReportError(ChukanError):
    """A run folder cannot be reported on: a file is missing or not what a run writes."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass(frozen=True, slots=True)
class PassShown:
    """What a report shows of a run's pass (from etl.run_folder.RunMeta, run.json); every field
    is optional (a plain `chukan run` has none)."""

    pass_name: str | None = None  # test1 / test2 / production
    run_id: str | None = None
    started_by: str | None = None
    started_at: str | None = None
    override: str | None = None  # reason a production gate was overridden: shown on every report
    gate_warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SourceCount:
    """One input file: records_in = data_records + rejected + filtered."""

    name: str
    file: str
    records_in: int
    data_records: int
    rejected: int
    filtered: tuple[tuple[str, int], ...]  # (reason, count)
    balanced: bool

    @property
    def filtered_total(self) -> int:
        return sum(n for _, n in self.filtered)

    @property
    def adds_up(self) -> bool:
        """The run's flag, and the numbers shown beside it agree with it."""
        accounted = self.data_records + self.rejected + self.filtered_total
        return self.balanced and self.records_in == accounted


@dataclass(frozen=True, slots=True)
class OutputCount:
    """One V2.1 file: source_data_records = written records + rejected + filtered, where the
    written records are the rows, or on a group_by file the records folded into them."""

    gyomu: str
    record_file: str
    name: str
    path: str
    source: str
    source_data_records: int
    written: int  # rows of the V2.1 file
    filtered: tuple[tuple[str, int], ...]
    balanced: bool  # as the run wrote it
    # refused at mapping (`on_invalid: reject`), by reason; listed in ``rejects_path``
    rejected: tuple[tuple[str, int], ...] = ()
    rejects_path: str | None = None
    aggregated_records: int | None = None  # group_by files: input records in the written rows

    @property
    def filtered_total(self) -> int:
        return sum(n for _, n in self.filtered)

    @property
    def rejected_total(self) -> int:
        return sum(n for _, n in self.rejected)

    @property
    def written_records(self) -> int:
        return self.written if self.aggregated_records is None else self.aggregated_records

    @property
    def adds_up(self) -> bool:
        """The run's flag, and the numbers shown beside it agree with it."""
        accounted = self.written_records + self.rejected_total + self.filtered_total
        return self.balanced and self.source_data_records == accounted


@dataclass(frozen=True, slots=True)
class RuleCount:
    rule: str
    severity: str
    count: int


@dataclass(frozen=True, slots=True)
class FileCount:
    gyomu: str  # "" for findings on an input file (extract stage)
    file: str
    errors: int
    warnings: int

    @property
    def total(self) -> int:
        return self.errors + self.warnings


@dataclass(frozen=True, slots=True, eq=False)  # eq=False: frames do not compare as booleans
class RunReport:
    vendor: str
    layout_version: str
    tool_version: str
    created_at: str
    meta: PassShown
    sources: tuple[SourceCount, ...]
    outputs: tuple[OutputCount, ...]
    findings: pl.DataFrame  # every finding, FINDING_SCHEMA, in findings.csv order
    rule_counts: tuple[RuleCount, ...]  # most frequent first
    file_counts: tuple[FileCount, ...]
    samples: pl.DataFrame  # the first `top` findings of each rule (what the HTML lists)
    top: int = DEFAULT_TOP
    extra_sections: Mapping[str, object] = field(default_factory=dict)  # key → JSON-like data

    @property
    def total(self) -> int:
        return self.findings.height

    def severity_total(self, severity: Severity) -> int:
        return sum(c.count for c in self.rule_counts if c.severity == severity.value)

    @property
    def balanced(self) -> bool:
        return all(s.adds_up for s in self.sources) and all(o.adds_up for o in self.outputs)

    @property
    def rejected_total(self) -> int:
        """Records not written for a reason other than a filter: extract and mapping rejects."""
        return sum(s.rejected for s in self.sources) + sum(o.rejected_total for o in self.outputs)


def open_run(run_dir: Path) -> RunFolder:
    """The run folder through the shared reader (etl.run_folder); its errors become
    ReportError so callers of the report catch one type."""
    try:
        return RunFolder.open(run_dir)
    except RunFolderError as exc:
        raise ReportError(exc.path, exc.reason) from exc


def read_findings(run: RunFolder) -> pl.DataFrame:
    """findings.csv read back, blanks and missing values spelled the same (as staff see them)."""
    try:
        typed = run.findings()
    except RunFolderError as exc:
        raise ReportError(exc.path, exc.reason) from exc
    text = [c for c, t in FINDING_SCHEMA.items() if t == pl.String()]
    return typed.with_columns(pl.col(text).fill_null(""))


def _meta(meta: run_folder.RunMeta | None) -> PassShown:
    if meta is None:
        return PassShown()
    return PassShown(
        pass_name=meta.pass_name,
        run_id=meta.run_id or None,
        started_by=meta.started_by or None,
        started_at=meta.started_at or None,
        override=meta.override or None,
        gate_warnings=meta.gate_warnings or (),
    )


def rule_counts(findings: pl.DataFrame) -> tuple[RuleCount, ...]:
    """Findings per (rule, severity), the most frequent first."""
    by_rule = (
        findings.group_by("rule", "severity")
        .len()
        .sort(["len", "rule", "severity"], descending=[True, False, False])
    )
    return tuple(RuleCount(r, s, int(n)) for r, s, n in by_rule.iter_rows())


def _counts(findings: pl.DataFrame) -> tuple[tuple[RuleCount, ...], tuple[FileCount, ...]]:
    sev = pl.col("severity")
    by_file = (
        findings.group_by("gyomu", "file")
        .agg(
            (sev == Severity.ERROR.value).sum().alias("errors"),
            (sev != Severity.ERROR.value).sum().alias("warnings"),
        )
        .sort("gyomu", "file")
    )
    return (
        rule_counts(findings),
        tuple(FileCount(g, f, int(e), int(w)) for g, f, e, w in by_file.iter_rows()),
    )


def top_per_rule(findings: pl.DataFrame, top: int) -> pl.DataFrame:
    """The first ``top`` rows of each rule, in file order (a window, not a loop)."""
    rank = pl.int_range(pl.len()).over("rule")
    return findings.filter(rank < top)


def load_run_report(
    run_dir: Path | RunFolder,
    *,
    top: int = DEFAULT_TOP,
    extra_sections: Mapping[str, object] | None = None,
) -> RunReport:
    """Read a run folder (its path, or the folder already opened): manifest.json, findings.csv
    and, when a pass wrote one, run.json.

    ``diff`` / ``reconciliation`` objects in run.json become the sections 差分 / 突合;
    ``extra_sections`` (key → JSON-like data) adds or replaces sections.
    """
    run = run_dir if isinstance(run_dir, RunFolder) else open_run(run_dir)
    manifest = run.manifest
    findings = read_findings(run)
    sources = tuple(
        SourceCount(
            name=s.name,
            file=s.file,
            records_in=s.records_in,
            data_records=s.data_records,
            rejected=s.rejected,
            filtered=tuple(s.filtered.items()),
            balanced=s.balanced,
        )
        for s in manifest.sources
    )
    outputs = tuple(
        OutputCount(
            gyomu=o.gyomu,
            record_file=o.record_file,
            name=o.name,
            path=o.path,
            source=o.source,
            source_data_records=o.source_data_records,
            written=o.written,
            filtered=tuple(o.filtered.items()),
            balanced=o.balanced,
            rejected=tuple((o.rejected or {}).items()),
            rejects_path=o.rejects.path if o.rejects is not None else None,
            aggregated_records=o.aggregated_records,
        )
        for o in manifest.outputs
    )
    extra: dict[str, object] = {}
    if run.meta is not None:
        extra |= {key: value for key in EXTRA_SECTION_TITLES if (value := getattr(run.meta, key))}
    extra.update(extra_sections or {})
    rule_counts, file_counts = _counts(findings)
    return RunReport(
        vendor=manifest.vendor,
        layout_version=manifest.layout_version,
        tool_version=manifest.tool.version,
        created_at=manifest.created_at,
        meta=_meta(run.meta),
        sources=sources,
        outputs=outputs,
        findings=findings,
        rule_counts=rule_counts,
        file_counts=file_counts,
        samples=top_per_rule(findings, top),
        top=top,
        extra_sections=extra,
    )
