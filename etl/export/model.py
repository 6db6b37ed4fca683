"""What a year-end export reports: its status, counts, version and where the package is.

On disk, per fiscal year and municipality::

    exports/FY<YYYY>/<code>/latest.json         the current version (rewritten atomically)
    exports/FY<YYYY>/<code>/v<N>/export.json    what this version was made from, and its counts
    exports/FY<YYYY>/<code>/v<N>/run/           the pipeline's run folder (kept for the next diff)
    exports/FY<YYYY>/<code>/v<N>/<code>-FY<YYYY>-v<N>/ + .tar.gz   the sealed package
    exports/FY<YYYY>/<code>/v<N>/diff/          diff.json/html/xlsx against v<N-1> (from v2)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

from etl.diff import RunDiff
from etl.events import Event
from etl.passes import FileChange
from etl.run_folder import Manifest

LATEST = "latest.json"
EXPORT_JSON = "export.json"
RUN = "run"
DIFF = "diff"


class ExportStatus(StrEnum):
    OK = "ok"  # a new version was exported
    UP_TO_DATE = "up to date"  # inputs unchanged since the latest version: nothing written
    BLOCKING = "blocking"  # a new version was exported, but it has blocking findings
    FAILED = "failed"  # nothing exported (a group member whose export raised)

    @property
    def exit_code(self) -> int:
        """For schedulers: 0 done or up to date, 1 blocking findings, 2 failed."""
        return {"ok": 0, "up to date": 0, "blocking": 1, "failed": 2}[self.value]


def version_name(n: int) -> str:
    return f"v{n}"


def year_dir(exports_dir: Path, fiscal_year: int, code: str) -> Path:
    return exports_dir / f"FY{fiscal_year:04d}" / code


def package_name(code: str, fiscal_year: int, n: int) -> str:
    return f"{code}-FY{fiscal_year:04d}-{version_name(n)}"


@dataclass(frozen=True, slots=True)
class ExportCounts:
    records_in: int  # records read from the dump (data + rejected + filtered)
    written: int  # records in the V2.1 files
    rejected: int  # undecodable records
    findings: int
    blocking: int  # findings of severity error

    @classmethod
    def from_manifest(cls, manifest: Manifest) -> ExportCounts:
        return cls(
            records_in=sum(s.records_in for s in manifest.sources),
            written=sum(o.written for o in manifest.outputs),
            rejected=sum(s.rejected for s in manifest.sources),
            findings=manifest.findings.total,
            blocking=manifest.findings.by_severity.get("error", 0),
        )

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class DiffSummary:
    previous_version: int
    files: tuple[FileChange, ...]
    findings_new: int
    findings_fixed: int
    folder: Path  # diff.json, diff.html, diff.xlsx

    @classmethod
    def of(cls, diff: RunDiff, previous_version: int, folder: Path) -> DiffSummary:
        files = tuple(
            FileChange(f.gyomu, f.record_file, f.added, f.removed, f.changed, f.unchanged)
            for f in diff.files
        )
        return cls(previous_version, files, diff.findings.new, diff.findings.fixed, folder)

    def to_dict(self) -> dict[str, Any]:
        return {
            "previous_version": self.previous_version,
            "files": [asdict(f) for f in self.files],
            "findings_new": self.findings_new,
            "findings_fixed": self.findings_fixed,
            "folder": self.folder.name,
        }


@dataclass(frozen=True, slots=True)
class ExportResult:
    status: ExportStatus
    municipality_code: str
    fiscal_year: int
    version: int
    version_dir: Path
    archive: Path  # the package's .tar.gz (its folder is beside it, without the suffix)
    archive_sha256: str
    fingerprint: str  # InputFingerprint.value
    counts: ExportCounts
    diff: DiffSummary | None  # None for v1 and when up to date
    seconds: float
    swept: tuple[Path, ...] = ()  # leftovers of interrupted exports removed first

    @property
    def package_dir(self) -> Path:
        return self.archive.with_name(self.archive.name.removesuffix(".tar.gz"))


# The export's events (etl.events): `chukan export --log-format json` prints each as one line,
# {"event": kind, **fields}; both have the same keys first, so log collectors see one shape.
@dataclass(frozen=True, slots=True, kw_only=True)
class ExportStarted(Event):
    kind: ClassVar[str] = "export.start"
    municipality: str
    fiscal_year: int
    status: str = "running"
    version: int | None = None
    path: str  # the fiscal year's folder
    counts: dict[str, int] | None = None
    seconds: float = 0.0
    dump: str

    def message(self) -> str:
        return f"export FY{self.fiscal_year} {self.municipality} from {self.dump}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportFinished(Event):
    kind: ClassVar[str] = "export.finished"
    municipality: str
    fiscal_year: int
    status: str
    version: int
    path: str  # the package's .tar.gz
    archive_sha256: str
    counts: dict[str, int]
    diff: dict[str, Any] | None
    seconds: float

    @classmethod
    def of(cls, result: ExportResult) -> ExportFinished:
        return cls(
            municipality=result.municipality_code,
            fiscal_year=result.fiscal_year,
            status=result.status.value,
            version=result.version,
            path=str(result.archive),
            archive_sha256=result.archive_sha256,
            counts=result.counts.to_dict(),
            diff=result.diff.to_dict() if result.diff else None,
            seconds=round(result.seconds, 3),
        )

    def message(self) -> str:
        return f"export FY{self.fiscal_year} {self.municipality} v{self.version}: {self.status}"
