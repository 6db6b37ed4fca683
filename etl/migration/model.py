"""The 移行用データ作成報告書 of a project, gathered from its catalog and run folders.

Built only from what the project keeps (catalog.duckdb: runs, findings, record fingerprints,
sign-offs; each run folder through etl.run_folder), so it can be written again at any time and
always says the same about the same runs. No value of the data appears in it: counts, file
names, hashes and the record keys findings.csv shows (masked where sensitive).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from etl.passes import FileChange, HandoverRecord, LoadRecord, PassName, RunRecord, Signoff
from etl.report import PASS_LABELS, RuleCount
from etl.run_folder import Control, OutputEntry, SourceEntry

ISSUE_OPEN = "未解決"
ISSUE_ACCEPTED = "受入れ済"


@dataclass(frozen=True, slots=True)
class Cover:
    municipality_code: str
    municipality_name: str
    vendor: str
    gyomu: tuple[str, ...]
    layout_versions: tuple[str, ...]
    period: tuple[str, str]  # the first run's start, the last run's finish
    ran_by: tuple[str, ...]
    signed_off_by: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PassSection:
    """The latest run of one pass: what was delivered, what became of it, what was found."""

    pass_name: PassName
    run: RunRecord
    sources: tuple[SourceEntry, ...]
    outputs: tuple[OutputEntry, ...]
    controls: tuple[Control, ...]
    rules: tuple[RuleCount, ...]
    signoffs: tuple[Signoff, ...]
    override: str | None
    packages: tuple[HandoverRecord, ...] = ()  # chukan package of this run, as recorded
    loads: tuple[LoadRecord, ...] = ()  # chukan load of this run, as recorded

    @property
    def label(self) -> str:
        return PASS_LABELS[self.pass_name]


@dataclass(frozen=True, slots=True)
class PassChange:
    """From one pass to the next: findings fixed and new (by identity), records by key."""

    old: PassName
    new: PassName
    fixed: int
    broke: int
    persisting: int
    files: tuple[FileChange, ...]


@dataclass(frozen=True, slots=True, eq=False)  # eq=False: frames do not compare as booleans
class MigrationReport:
    cover: Cover
    passes: tuple[PassSection, ...]
    changes: tuple[PassChange, ...]
    # 課題整理表: every blocking finding of the furthest pass, with where it was first seen and
    # whether a sign-off accepted it (rule, severity, gyomu, file, key, item, first_seen,
    # status, reason); never the value
    issues: pl.DataFrame
    tool_version: str
