"""export_fiscal_year: the year-end standard-layout export of one project's municipality.

Hash the inputs first; when they equal the latest version's, write nothing. Otherwise run the
dump through the pipeline, seal it with build_package and diff it against the previous version,
all inside a hidden staging folder that is renamed to v<N> only when complete. latest.json is
rewritten last: a kill before that leaves either no v<N> or a complete one that the next export
adopts as the latest.
"""

from __future__ import annotations

import json
import time
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from etl import __version__, events
from etl.diff import diff_runs
from etl.export.errors import ExportError
from etl.export.fingerprint import InputFingerprint, input_fingerprint
from etl.export.lock import export_lock
from etl.export.model import (
    DIFF,
    EXPORT_JSON,
    LATEST,
    RUN,
    DiffSummary,
    ExportCounts,
    ExportFinished,
    ExportResult,
    ExportStarted,
    ExportStatus,
    package_name,
    version_name,
    year_dir,
)
from etl.layout import Layout
from etl.municipality import checked_code
from etl.package import build_package, key_fingerprint, load_private_key
from etl.passes import CONFIG, Project, finalize_run
from etl.paths import inside
from etl.pipeline import JobOptions, run_job
from etl.report import write_diff_reports
from etl.run_folder import Municipality, RunFolder, RunMeta, run_layouts
from etl.write import staged_dir, sweep_stale, write_bytes_atomic

EXPORTS = "exports"

# The group's contract wants a standard-layout copy every year, broken records and all: the
# export is still written, datapackage.json says why, and the exit code (1) tells the scheduler.
YEAR_END_ACCEPTS = "年度末エクスポート: エラーの不備を含むまま出力 (chukan export は終了コード 1)"


@dataclass(frozen=True, slots=True)
class _Version:
    n: int
    folder: Path
    record: dict[str, Any]  # its export.json


def configured_dump(project: Project) -> Path:
    """``[export] dump`` of chukan.toml, relative to the project (no fallback to a pass dump:
    exporting the wrong delivery must not happen silently)."""
    path = project.root / CONFIG
    doc = tomllib.loads(path.read_text("utf-8"))  # load_project has already parsed it once
    dump = doc.get("export", {}).get("dump")
    if not isinstance(dump, str) or not dump:
        raise ExportError(path, 'no [export] dump = "dumps/…" folder; set it or pass --dump')
    return inside(project.root, dump, config=path, key="export.dump")


def _json_bytes(doc: Any) -> bytes:
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _sweep(folder: Path) -> tuple[Path, ...]:
    """Remove what killed exports left here, and only that: staging folders whose writer died
    (their marker's lock is free) and temp files of latest.json. Called under the export lock,
    so no running export can own such a temp file; anything else hidden is left alone."""
    if not folder.is_dir():
        return ()
    swept = sweep_stale(folder)
    for p in sorted(folder.glob(f".{LATEST}.*.tmp")):  # etl.write.atomic.write_bytes_atomic
        if p.is_file() and not p.is_symlink():
            p.unlink()
            swept.append(p)
    return tuple(sorted(swept))


def _latest(folder: Path) -> _Version | None:
    """The highest complete version (a visible v<N> is complete: it appears by rename)."""
    found: list[_Version] = []
    for p in folder.glob("v*") if folder.is_dir() else ():
        if p.name[1:].isdigit() and (p / EXPORT_JSON).is_file():
            record = json.loads((p / EXPORT_JSON).read_text("utf-8"))
            found.append(_Version(int(p.name[1:]), p, record))
    return max(found, key=lambda v: v.n) if found else None


def _latest_doc(version: _Version) -> dict[str, Any]:
    r = version.record
    keys = ("version", "fiscal_year", "municipality", "archive", "archive_sha256", "created_at")
    return {
        **{k: r[k] for k in keys},
        "path": version.folder.name,
        "input_fingerprint": r["input"]["value"],
        "counts": r["counts"],
    }


def _point_latest(folder: Path, version: _Version) -> None:
    doc = _json_bytes(_latest_doc(version))
    latest = folder / LATEST
    if not latest.is_file() or latest.read_bytes() != doc:
        write_bytes_atomic(latest, doc)


def _layouts(run_dir: Path) -> dict[str, Layout]:
    """The layouts the run kept, of the layout version its manifest.json records (a previous
    version's run may have been made for another one than today's)."""
    return run_layouts(RunFolder.open(run_dir))


def _result(
    status: ExportStatus,
    version: _Version,
    t0: float,
    *,
    diff: DiffSummary | None = None,
    swept: tuple[Path, ...] = (),
) -> ExportResult:
    r = version.record
    return ExportResult(
        status=status,
        municipality_code=str(r["municipality"]["code"]),
        fiscal_year=int(r["fiscal_year"]),
        version=version.n,
        version_dir=version.folder,
        archive=version.folder / str(r["archive"]),
        archive_sha256=str(r["archive_sha256"]),
        fingerprint=str(r["input"]["value"]),
        counts=ExportCounts(**r["counts"]),
        seconds=time.perf_counter() - t0,
        diff=diff,
        swept=swept,
    )


def _export_new(
    project: Project,
    fiscal_year: int,
    dump: Path,
    fp: InputFingerprint,
    key: Ed25519PrivateKey | None,
    folder: Path,
    previous: _Version | None,
) -> tuple[_Version, DiffSummary | None]:
    n = previous.n + 1 if previous else 1
    final = folder / version_name(n)
    muni = {"code": project.municipality_code, "name": project.municipality_name}
    name = package_name(project.municipality_code, fiscal_year, n)
    summary = None
    with staged_dir(final, replace=False) as stage:
        meta = RunMeta(
            pass_name=f"FY{fiscal_year:04d}",  # shown as the run's label in packages and diffs
            run_id=version_name(n),
            municipality=Municipality(**muni),
            fiscal_year=fiscal_year,
            export_version=n,
            dump_dir=str(dump),
            input=fp.to_dict(),
        )
        job = run_job(
            JobOptions(
                vendor_folder=project.vendor_folder,
                dump_dir=dump,
                out_dir=stage / RUN,
                gyomu=project.gyomu,
                layout_version=project.layout_version,
                csv=project.csv,
                run_meta=meta,
                finalize=finalize_run,
            )
        )
        layouts = _layouts(stage / RUN)
        package = build_package(
            stage / RUN,
            stage / name,
            layouts=layouts,
            municipality=muni,
            key=key,
            accept_findings=YEAR_END_ACCEPTS,
        )
        if previous is not None:
            old_run = previous.folder / RUN
            diff = diff_runs(old_run, stage / RUN, layouts, old_layouts=_layouts(old_run))
            doc = diff.to_dict()
            doc["new_run"]["path"] = str(final / RUN)  # where it will be, not the staging name
            write_diff_reports(doc, stage / DIFF, diff.lists)
            summary = DiffSummary.of(diff, previous.n, final / DIFF)
        record = {
            "version": n,
            "fiscal_year": fiscal_year,
            "municipality": muni,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "tool_version": __version__,
            "archive": package.archive.name,
            "archive_sha256": package.archive_sha256,
            "signed_by": package.signed_by,
            "input": fp.to_dict(),
            "counts": ExportCounts.from_manifest(job.manifest).to_dict(),
            "diff": summary.to_dict() if summary else None,
        }
        # written last inside the stage: a v<N> with export.json is a complete version
        write_bytes_atomic(stage / EXPORT_JSON, _json_bytes(record))
    return _Version(n, final, record), summary


def export_fiscal_year(
    project: Project,
    fiscal_year: int,
    *,
    key: Path | None,
    dump_dir: Path | None = None,
) -> ExportResult:
    """Export the project's municipality for ``fiscal_year`` under exports/FY<YYYY>/<code>/.

    Raises ExportError (and other ChukanErrors) for input or configuration errors, and
    ExportLocked when another export of the project is running. Blocking findings do not stop
    the export: the result's status is BLOCKING so that staff are told.
    """
    t0 = time.perf_counter()
    if not 1900 <= fiscal_year <= 9999:
        raise ExportError(project.root, f"fiscal year {fiscal_year} is not a 4-digit year")
    dump = dump_dir if dump_dir is not None else configured_dump(project)
    if not dump.is_dir():
        raise ExportError(dump, "the dump folder does not exist")
    private = load_private_key(key) if key is not None else None  # a bad key fails up front
    signer = key_fingerprint(private.public_key()) if private is not None else ""
    # the code names folders below: a hostile one must not lead outside exports/
    code = checked_code(project.municipality_code, config=project.root / CONFIG)
    exports = project.root / EXPORTS
    folder = year_dir(exports, fiscal_year, code)
    events.emit(
        ExportStarted(
            municipality=project.municipality_code,
            fiscal_year=fiscal_year,
            path=str(folder),
            dump=str(dump),
        )
    )
    with export_lock(exports):
        swept = _sweep(folder)
        fp = input_fingerprint(project, dump, signer)
        previous = _latest(folder)
        if previous is not None and previous.record["input"]["value"] == fp.value:
            _point_latest(folder, previous)  # only writes after a kill left it stale
            result = _result(ExportStatus.UP_TO_DATE, previous, t0, swept=swept)
        else:
            version, summary = _export_new(
                project, fiscal_year, dump, fp, private, folder, previous
            )
            _point_latest(folder, version)
            status = (
                ExportStatus.BLOCKING if version.record["counts"]["blocking"] else ExportStatus.OK
            )
            result = _result(status, version, t0, diff=summary, swept=swept)
    events.emit(ExportFinished.of(result))
    return result
