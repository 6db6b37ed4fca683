"""Run a pass of a project: gates, an immutable run folder, then the catalog record."""

from __future__ import annotations

import getpass
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from etl import __version__
from etl.errors import ChukanError
from etl.layout import resolve_version
from etl.passes.catalog import UNRECORDED_MARKER, Catalog, sweep_unrecorded
from etl.passes.comparison import Comparison, baseline_for, compare
from etl.passes.fingerprint import layout_fingerprint, mapping_fingerprint
from etl.passes.gates import GateCheck, GateRefused, check_gates, signoff_of
from etl.passes.model import PassName, RunRecord, Signoff
from etl.passes.project import Project, ProjectError
from etl.pipeline import JobOptions, JobResult, run_job
from etl.report import write_run_reports
from etl.run_folder import Municipality, RunMeta
from etl.write import OwnerMarker


@dataclass(frozen=True, slots=True)
class PassRun:
    run: RunRecord
    result: JobResult
    gates: GateCheck
    swept: tuple[Path, ...]  # leftovers of killed runs removed before this one
    comparison: Comparison | None  # against the latest run of the previous pass


def _now() -> str:
    # microseconds: runs are ordered by finish time, and tests finish several per second
    return datetime.now(UTC).isoformat(timespec="microseconds")


def new_run_id() -> str:
    """Sortable and unique: UTC time plus random bits."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def open_catalog(project: Project) -> Catalog:
    try:
        return Catalog(project.catalog_path)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise ProjectError(
                project.catalog_path, "the run catalog is in use by another chukan command"
            ) from exc
        raise ProjectError(project.catalog_path, f"cannot open the run catalog: {exc}") from exc
    except (duckdb.Error, OSError) as exc:  # e.g. a read-only project folder
        raise ProjectError(project.catalog_path, f"cannot open the run catalog: {exc}") from exc


def record_fingerprints(result: JobResult) -> pl.DataFrame:
    """Record key → hash of the whole record, per V2.1 file: what later diffs compare first
    (kept by the job as each chunk is written: JobOptions.fingerprints)."""
    return result.fingerprints


def finalize_run(stage: Path) -> None:
    """Before a run is published: its reports (the job has kept its layouts and vendor folder)."""
    write_run_reports(stage)


def run_pass(
    project: Project,
    pass_name: PassName,
    *,
    dump_dir: Path | None = None,
    started_by: str | None = None,
    override: str | None = None,
    layout_version: str | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
) -> PassRun:
    """Run ``pass_name`` with the project's layout version ([layout] version of chukan.toml) or
    ``layout_version``; the version is recorded in the manifest and the catalog, and a change of
    it between test2 and production is refused by the gates."""
    dump = dump_dir or project.dumps.get(pass_name)
    if dump is None or not dump.is_dir():
        raise ProjectError(project.root, f"no dump folder for {pass_name.value}: {dump}")
    if override is not None and not override.strip():
        raise ChukanError("--override needs a reason")
    vendor_folder = project.vendor_folder
    mapping_fp = mapping_fingerprint(vendor_folder)
    version = resolve_version(layout_version or project.layout_version)
    layout_fp = layout_fingerprint(version)
    # Holding the catalog open for the whole run also keeps a second run of this project out.
    with open_catalog(project) as catalog:
        swept = sweep_unrecorded(project.runs_dir, catalog.run_ids())
        gates = check_gates(catalog, pass_name, mapping_fp, layout_fp, version)
        if gates.failures and override is None:
            raise GateRefused(pass_name, gates.failures)
        warnings = gates.warnings
        if gates.failures:
            warnings = (*warnings, *(f"gate overridden: {f}" for f in gates.failures))
        run_id = new_run_id()
        started_at = _now()
        who = started_by or getpass.getuser()
        meta = RunMeta(
            pass_name=pass_name.value,
            run_id=run_id,
            municipality=Municipality(
                code=project.municipality_code, name=project.municipality_name
            ),
            started_by=who,
            started_at=started_at,
            override=override,
            gate_warnings=tuple(warnings),
            mapping_fingerprint=mapping_fp,
            layout_fingerprint=layout_fp,
            dump_dir=str(dump),
        )
        out = project.runs_dir / pass_name.value / run_id
        unrecorded: list[OwnerMarker] = []

        def finalize(stage: Path) -> None:
            finalize_run(stage)
            # says "published but not yet in the catalog" until record_run below commits: the
            # only proof by which a later sweep may remove a run folder (kill in between)
            unrecorded.append(OwnerMarker(stage, UNRECORDED_MARKER))

        try:
            result = run_job(
                JobOptions(
                    vendor_folder=vendor_folder,
                    dump_dir=dump,
                    out_dir=out,
                    gyomu=project.gyomu,
                    layout_version=version,
                    csv=project.csv,
                    output_format=project.output_format,
                    run_meta=meta,
                    override=override,
                    finalize=finalize,
                    fingerprints=True,
                    workers=workers,
                    scheduler=scheduler,
                ),
            )
        except BaseException:
            for marker in unrecorded:
                marker.release(unlink=False)
            raise
        for marker in unrecorded:
            marker.moved_to(out)
        run = RunRecord(
            run_id=run_id,
            pass_name=pass_name,
            status="complete",
            started_at=started_at,
            finished_at=_now(),
            started_by=who,
            tool_version=__version__,
            vendor=result.manifest.vendor,
            layout_version=version,
            mapping_fingerprint=mapping_fp,
            layout_fingerprint=layout_fp,
            path=out.relative_to(project.root).as_posix(),
            total_findings=result.findings.height,
            blocking_findings=result.blocking,
            override_reason=override,
            gate_warnings=warnings,
        )
        try:
            catalog.record_run(run, result.manifest, result.findings, record_fingerprints(result))
        except BaseException:
            for marker in unrecorded:  # unrecorded: left for the next sweep
                marker.release(unlink=False)
            raise
        for marker in unrecorded:
            marker.release()
        baseline = baseline_for(catalog, run)
    comparison = compare(project, baseline, run) if baseline is not None else None
    return PassRun(run, result, gates, tuple(swept), comparison)


def sign_off(
    project: Project,
    pass_name: PassName,
    by: str,
    reason: str,
    accept_blocking: str | None = None,
) -> Signoff:
    """Record a named sign-off of the latest run of a pass (etl.passes.gates.signoff_of: a run
    with blocking findings needs ``accept_blocking``, the reason they are accepted)."""
    with open_catalog(project) as catalog:
        latest = catalog.latest(pass_name)
        if latest is None:
            raise ProjectError(project.root, f"no completed {pass_name.value} run to sign off")
        signoff = signoff_of(latest, by, reason, accept_blocking, _now())
        catalog.add_signoff(signoff)
    return signoff


def list_runs(project: Project) -> list[RunRecord]:
    with open_catalog(project) as catalog:
        return catalog.runs()


__all__ = [
    "PassRun",
    "finalize_run",
    "list_runs",
    "new_run_id",
    "run_pass",
    "sign_off",
]
