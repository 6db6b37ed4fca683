"""Passes and runs: the three extractions of a migration and each execution of one."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from etl.run_folder import STANDARD_SNAPSHOT


class PassName(StrEnum):
    TEST1 = "test1"
    TEST2 = "test2"
    PRODUCTION = "production"


PASS_ORDER = (PassName.TEST1, PassName.TEST2, PassName.PRODUCTION)

# A run keeps a copy of the layouts it used under runs/<pass>/<id>/standard/<version>/, so a
# later diff can show what changed in the standard between two runs (etl.pipeline.snapshot).
STANDARD = STANDARD_SNAPSHOT


def previous_pass(name: PassName) -> PassName | None:
    i = PASS_ORDER.index(name)
    return PASS_ORDER[i - 1] if i else None


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One run as the catalog knows it."""

    run_id: str
    pass_name: PassName
    status: str  # "complete"
    started_at: str
    finished_at: str
    started_by: str
    tool_version: str
    vendor: str
    layout_version: str
    mapping_fingerprint: str
    layout_fingerprint: str
    path: str  # relative to the project root
    total_findings: int
    blocking_findings: int
    override_reason: str | None
    gate_warnings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FileChange:
    """One V2.1 record file's change from one run to another, by record key."""

    gyomu: str
    record_file: str
    added: int
    removed: int
    changed: int
    unchanged: int


@dataclass(frozen=True, slots=True)
class HandoverRecord:
    """A sealed package of a run (`chukan package`), as the catalog recorded it."""

    run_id: str
    archive: str  # the archive's file name
    archive_sha256: str
    signed_by: str | None  # public-key fingerprint, None when unsigned
    packaged_at: str


@dataclass(frozen=True, slots=True)
class LoadRecord:
    """A load of a run into a database (`chukan load`), as the catalog recorded it."""

    run_id: str
    target: str  # redacted: never a password
    ok: bool  # committed and every count and control total equal in the database
    rows: int
    loaded_at: str


@dataclass(frozen=True, slots=True)
class Signoff:
    pass_name: PassName
    run_id: str
    by: str
    reason: str
    at: str
    blocking_findings: int = 0  # the run's blocking findings when it was signed off
    accepted_blocking: str | None = None  # why it was signed off with them (required if any)

    def describe(self) -> str:
        text = f"{self.by} at {self.at}: {self.reason}"
        if self.blocking_findings:
            text += (
                f" (accepted {self.blocking_findings:,} blocking finding(s): "
                f"{self.accepted_blocking})"
            )
        return text
