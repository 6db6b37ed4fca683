"""Gathering the 移行用データ作成報告書 of a project: the latest run of each pass, the changes
from pass to pass, and the 課題整理表, from the catalog and the run folders (columnar)."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise

import polars as pl

from etl import __version__
from etl.diff import findings_delta
from etl.findings import Severity
from etl.migration.model import (
    ISSUE_ACCEPTED,
    ISSUE_OPEN,
    Cover,
    MigrationReport,
    PassChange,
    PassSection,
)
from etl.passes import PASS_ORDER, Catalog, PassName, Project, ProjectError, RunRecord, open_catalog
from etl.report import rule_counts
from etl.run_folder import RunFolder

IDENTITY = ["rule", "gyomu", "file", "key", "item"]
ISSUE_COLUMNS = [*IDENTITY[:1], "severity", *IDENTITY[1:], "first_seen", "status", "reason"]


def _section(
    project: Project, catalog: Catalog, p: PassName, run: RunRecord, findings: pl.DataFrame
) -> PassSection:
    manifest = RunFolder.open(project.root / run.path).manifest  # checked: RunFolderError
    return PassSection(
        pass_name=p,
        run=run,
        sources=manifest.sources,
        outputs=manifest.outputs,
        controls=manifest.reconciliation.controls,
        rules=rule_counts(findings),
        signoffs=tuple(catalog.signoffs(run.run_id)),
        override=manifest.override or run.override_reason,
        packages=tuple(catalog.packages(run.run_id)),
        loads=tuple(catalog.loads(run.run_id)),
    )


def _change(
    catalog: Catalog, old: PassSection, new: PassSection, findings: Mapping[str, pl.DataFrame]
) -> PassChange:
    delta = findings_delta(findings[old.run.run_id], findings[new.run.run_id])
    files = catalog.record_changes(old.run.run_id, new.run.run_id)
    return PassChange(
        old=old.pass_name,
        new=new.pass_name,
        fixed=delta.fixed,
        broke=delta.new,
        persisting=delta.persisting,
        files=tuple(files),
    )


def _issues(sections: list[PassSection], findings: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """Every blocking finding of the furthest pass: where it was first seen (the earliest pass
    holding the same identity) and whether a sign-off of that run accepted it."""
    last = sections[-1]
    seen = pl.concat(
        [
            findings[s.run.run_id].select(IDENTITY).unique().with_columns(pl.lit(i).alias("order"))
            for i, s in enumerate(sections)
        ]
    )
    first = seen.group_by(IDENTITY).agg(pl.col("order").min())
    labels = pl.DataFrame(
        {"order": range(len(sections)), "first_seen": [s.label for s in sections]},
        schema={"order": pl.Int32, "first_seen": pl.String},
    )
    accepted = next((s for s in last.signoffs if s.accepted_blocking), None)
    status = ISSUE_ACCEPTED if accepted is not None else ISSUE_OPEN
    reason = accepted.accepted_blocking if accepted is not None else ""
    blocking = findings[last.run.run_id].filter(pl.col("severity") == Severity.ERROR.value)
    return (
        blocking.join(first, on=IDENTITY, how="left", nulls_equal=True, maintain_order="left")
        .join(labels, on="order", how="left", maintain_order="left")
        .with_columns(pl.lit(status).alias("status"), pl.lit(reason).alias("reason"))
        .select(ISSUE_COLUMNS)
    )


def build_report(project: Project) -> MigrationReport:
    with open_catalog(project) as catalog:
        latest = [(p, run) for p in PASS_ORDER if (run := catalog.latest(p)) is not None]
        if not latest:
            raise ProjectError(project.root, "no runs yet: run a pass first (chukan run --pass)")
        # each run's findings read once: sections, changes and the 課題整理表 all use them
        findings = {run.run_id: catalog.findings(run.run_id) for _, run in latest}
        sections = [_section(project, catalog, p, r, findings[r.run_id]) for p, r in latest]
        changes = tuple(_change(catalog, a, b, findings) for a, b in pairwise(sections))
        issues = _issues(sections, findings)
    runs = [s.run for s in sections]
    cover = Cover(
        municipality_code=project.municipality_code,
        municipality_name=project.municipality_name,
        vendor=", ".join(sorted({r.vendor for r in runs})),
        gyomu=tuple(dict.fromkeys(o.gyomu for s in sections for o in s.outputs)),
        layout_versions=tuple(sorted({r.layout_version for r in runs})),
        period=(min(r.started_at for r in runs), max(r.finished_at for r in runs)),
        ran_by=tuple(sorted({r.started_by for r in runs})),
        signed_off_by=tuple(sorted({so.by for s in sections for so in s.signoffs})),
    )
    return MigrationReport(cover, tuple(sections), changes, issues, __version__)
