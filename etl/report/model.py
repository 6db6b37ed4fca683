"""What a run report shows, read back from a finished run folder (never from engine internals).

A report is rebuilt from the files a run leaves behind (manifest.json, findings.csv and the
optional run.json of a pass), so it can be rendered again later, for any past run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from etl.errors import ChukanError
from etl.findings import FINDING_SCHEMA, Severity
from etl.pipeline.manifest import RunFolderError, read_manifest, read_run_meta
from etl.pipeline.manifest import read_findings as read_findings_csv
from etl.report.labels import EXTRA_SECTION_TITLES

DEFAULT_TOP = 200  # finding rows shown per rule in the HTML; the XLSX always has all of them


class ReportError(ChukanError):
    """A run folder cannot be reported on: a file is missing or not what a run writes."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass(frozen=True, slots=True)
class RunMeta:
    """Pass metadata from run.json; every field is optional (a plain `chukan run` has none)."""

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
    meta: RunMeta
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


def read_run_files(run_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(manifest.json, run.json or {}) through the shared reader; its errors become ReportError
    so callers of the report catch one type."""
    try:
        return read_manifest(run_dir), read_run_meta(run_dir)
    except RunFolderError as exc:
        raise ReportError(exc.path, exc.reason) from exc


def read_findings(path: Path) -> pl.DataFrame:
    """findings.csv read back, blanks and missing values spelled the same (as staff see them)."""
    try:
        typed = read_findings_csv(path)
    except ChukanError as exc:  # its message names the path already
        raise ReportError(path, str(exc).removeprefix(f"{path}: ")) from exc
    text = [c for c, t in FINDING_SCHEMA.items() if t == pl.String()]
    return typed.with_columns(pl.col(text).fill_null(""))


def _meta(data: Mapping[str, Any]) -> RunMeta:
    def text(key: str) -> str | None:
        value = data.get(key)
        return None if value is None or value == "" else str(value)

    warnings = data.get("gate_warnings") or []
    return RunMeta(
        pass_name=text("pass"),
        run_id=text("run_id"),
        started_by=text("started_by"),
        started_at=text("started_at"),
        override=text("override"),
        gate_warnings=tuple(str(w) for w in warnings),
    )


def _reasons(counts: Mapping[str, Any]) -> tuple[tuple[str, int], ...]:
    return tuple((str(k), int(v)) for k, v in counts.items())


def _counts(findings: pl.DataFrame) -> tuple[tuple[RuleCount, ...], tuple[FileCount, ...]]:
    by_rule = (
        findings.group_by("rule", "severity")
        .len()
        .sort(["len", "rule", "severity"], descending=[True, False, False])
    )
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
        tuple(RuleCount(r, s, int(n)) for r, s, n in by_rule.iter_rows()),
        tuple(FileCount(g, f, int(e), int(w)) for g, f, e, w in by_file.iter_rows()),
    )


def top_per_rule(findings: pl.DataFrame, top: int) -> pl.DataFrame:
    """The first ``top`` rows of each rule, in file order (a window, not a loop)."""
    rank = pl.int_range(pl.len()).over("rule")
    return findings.filter(rank < top)


def load_run_report(
    run_dir: Path,
    *,
    top: int = DEFAULT_TOP,
    extra_sections: Mapping[str, object] | None = None,
) -> RunReport:
    """Read a run folder: manifest.json, findings.csv and, when a pass wrote one, run.json.

    ``diff`` / ``reconciliation`` objects in run.json become the sections 差分 / 突合;
    ``extra_sections`` (key → JSON-like data) adds or replaces sections.
    """
    manifest, run = read_run_files(run_dir)
    try:
        findings_name = manifest["findings"]["file"]
        if not (run_dir / findings_name).is_file():
            raise ReportError(run_dir, f"not a finished run: {findings_name} is missing")
        findings = read_findings(run_dir / findings_name)
        sources = tuple(
            SourceCount(
                name=s["name"],
                file=s["file"],
                records_in=int(s["records_in"]),
                data_records=int(s["data_records"]),
                rejected=int(s["rejected"]),
                filtered=_reasons(s["filtered"]),
                balanced=bool(s["balanced"]),
            )
            for s in manifest["sources"]
        )
        outputs = tuple(
            OutputCount(
                gyomu=o["gyomu"],
                record_file=o["record_file"],
                name=o["name"],
                path=o["path"],
                source=o["source"],
                source_data_records=int(o["source_data_records"]),
                written=int(o["written"]),
                filtered=_reasons(o["filtered"]),
                balanced=bool(o["balanced"]),
                rejected=_reasons(o.get("rejected", {})),
                rejects_path=o["rejects"]["path"] if "rejects" in o else None,
                aggregated_records=(
                    None if o.get("aggregated_records") is None else int(o["aggregated_records"])
                ),
            )
            for o in manifest["outputs"]
        )
        header = (
            str(manifest["vendor"]),
            str(manifest["layout_version"]),
            str(manifest["tool"]["version"]),
            str(manifest["created_at"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ReportError(run_dir / "manifest.json", f"not a run manifest ({exc!r})") from exc
    if findings.height != manifest["findings"].get("total", findings.height):
        raise ReportError(run_dir / findings_name, "row count differs from manifest.json")
    extra: dict[str, object] = {
        key: run[key] for key in EXTRA_SECTION_TITLES if run.get(key) is not None
    }
    extra.update(extra_sections or {})
    rule_counts, file_counts = _counts(findings)
    vendor, layout_version, tool_version, created_at = header
    return RunReport(
        vendor=vendor,
        layout_version=layout_version,
        tool_version=tool_version,
        created_at=created_at,
        meta=_meta(run),
        sources=sources,
        outputs=outputs,
        findings=findings,
        rule_counts=rule_counts,
        file_counts=file_counts,
        samples=top_per_rule(findings, top),
        top=top,
        extra_sections=extra,
    )
