"""``chukan convert RUN --to VERSION``: a finished run rewritten in another layout version.

The new run folder is built like a run (a staged folder renamed into place, owner-only, its
manifest, findings.csv and reports written by the same writers, etl.run_folder and
etl.report) from the original's files, each checked against the original's manifest first:

- every record file is read once, items renamed, code-mapped, added and removed as the
  conversion spec says (polars expressions, no loop over records), written in the original's
  format and encoding; records in = records out, file by file, so the accounting of the
  original (sources, filtered, rejected) holds unchanged and is carried over;
- removed items are kept in ``removed/<業務>/<record file>.csv`` (the key items and the removed
  values), listed with the spec's SHA-256 in ``conversion.json``;
- findings: the original's (items renamed), plus ``convert.added_empty`` for an added item
  left empty and ``convert.unmapped_code`` for a value the old code table had and the new one
  lacks, unmapped by the spec;
- the snapshot keeps the original's vendor folder and the target version's layouts.

So ``chukan diff`` of the original against the conversion shows the spec's effects and nothing
else: the renamed and added items' values, the mapped codes, the new findings.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import reduce
from pathlib import Path

import polars as pl

from etl import __version__
from etl.convert.spec import ConversionSpec, FilePlan, check_spec, default_spec_path, load_spec
from etl.diff import read_output
from etl.errors import ChukanError
from etl.findings import Severity, concat_findings, finding_exprs, record_key_expr
from etl.layout import EXACT, layouts_root, load_layouts, resolve_version
from etl.paths import refuse_inside
from etl.reconcile import ControlRow, control_number
from etl.report import write_run_reports
from etl.run_folder import (
    STANDARD_SNAPSHOT,
    Control,
    FileRef,
    FindingsSummary,
    KeptFolder,
    KeptVendorFolder,
    Manifest,
    OutputEntry,
    Reconciliation,
    RunFolder,
    RunFolderError,
    Snapshot,
    Tool,
    run_layouts,
    write_findings,
    write_manifest,
)
from etl.write import (
    CsvFormat,
    LineEnding,
    WrittenFile,
    record_file_writer,
    staged_dir,
    write_bytes_atomic,
    write_csv,
)

CONVERSION_FILE = "conversion.json"
REMOVED = "removed"
ADDED_EMPTY_RULE = "convert.added_empty"
UNMAPPED_CODE_RULE = "convert.unmapped_code"


class ConvertError(ChukanError):
    """The run cannot be converted as asked (its files changed, the spec is for other
    versions, the new run's place is taken); exit 2."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass(frozen=True, slots=True)
class ConvertedFile:
    gyomu: str
    record_file: str
    records: int
    renamed: tuple[tuple[str, str], ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]
    codes_mapped: int  # values the spec's code maps changed


@dataclass(frozen=True, slots=True)
class ConversionResult:
    out_dir: Path
    from_version: str
    to_version: str
    files: tuple[ConvertedFile, ...]
    findings_added: int


def _opened(run_dir: Path) -> RunFolder:
    try:
        return RunFolder.open(run_dir)
    except RunFolderError as exc:
        raise ConvertError(exc.path, exc.reason) from exc


def _checked(run: RunFolder, ref: FileRef) -> bytes:
    try:
        path = run.verified(ref)
    except RunFolderError as exc:
        raise ConvertError(exc.path, exc.reason) from exc
    return path.read_bytes()


def _copy(run: RunFolder, stage: Path, ref: FileRef) -> FileRef:
    written = write_bytes_atomic(stage / ref.path, _checked(run, ref))
    return FileRef(path=ref.path, bytes=written.bytes, sha256=written.sha256)


def _convert_frame(plan: FilePlan, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """(the converted records, the removed items with the key, values a code map changed)."""
    removed = frame.select([*plan.old.key, *plan.remove])
    frame = frame.drop(list(plan.remove)).rename(plan.rename)
    changed = 0
    for item, mapping in plan.codes.items():
        before = frame[item]
        frame = frame.with_columns(pl.col(item).replace(mapping))
        changed += int((before.fill_null("") != frame[item].fill_null("")).sum())
    frame = frame.with_columns(
        pl.lit(default, pl.String).alias(name) for name, default in plan.add.items()
    )
    return frame.select(plan.new.item_names), removed, changed


def _new_findings(plan: FilePlan, frame: pl.DataFrame) -> pl.DataFrame:
    """convert.added_empty (one per added item left empty) and convert.unmapped_code (one per
    value of a code the new table lacks and the spec does not map)."""
    was, now = plan.versions
    parts = [
        pl.DataFrame({"n": [frame.height]}).select(
            finding_exprs(
                rule=ADDED_EMPTY_RULE,
                severity=Severity.WARNING,
                gyomu=plan.gyomu,
                file=plan.new.id,
                record_no=pl.lit(None, pl.Int64),
                key=pl.lit(""),
                item=name,
                value=pl.lit(""),
                message=f"{now}で追加された項目「{name}」は{was}になく、"
                f"{frame.height:,}件すべて空です。値を補ってください。",
            )
        )
        for name, default in plan.add.items()
        if default is None and frame.height
    ]
    parts += [
        frame.filter(pl.col(name).is_in(lost)).select(
            finding_exprs(
                rule=UNMAPPED_CODE_RULE,
                severity=Severity.ERROR,
                gyomu=plan.gyomu,
                file=plan.new.id,
                record_no=pl.lit(None, pl.Int64),
                key=record_key_expr(plan.new),
                item=name,
                value=pl.col(name),
                message=f"{now}のコード表にないコードです（{was}から対応なし）。"
                "変換仕様のコード対応表に加えてください。",
            )
        )
        for name, lost in plan.unmapped.items()
    ]
    return concat_findings(parts)


def _renamed_findings(findings: pl.DataFrame, plans: list[FilePlan]) -> pl.DataFrame:
    item = pl.col("item")
    for plan in plans:
        for was, now in plan.rename.items():
            here = (pl.col("gyomu") == plan.gyomu) & (pl.col("file") == plan.old.id) & (item == was)
            item = pl.when(here).then(pl.lit(now)).otherwise(item)
    return findings.with_columns(item.alias("item"))


def _controls(controls: tuple[Control, ...], plans: list[FilePlan]) -> tuple[Control, ...]:
    """The original's control totals with the items renamed and the codes mapped (totals of
    codes mapped onto one are added up); a control on a removed item is dropped."""
    by_file = {(p.gyomu, p.old.id): p for p in plans}
    merged: dict[tuple[str, str, str, str, str | None, str | None], list[ControlRow]] = {}
    for c in controls:
        row = c.row()
        plan = by_file.get((c.gyomu, c.record_file))
        if plan is not None:
            if row.item in plan.remove or row.by in plan.remove:
                continue
            item = plan.rename.get(row.item, row.item)
            by = None if row.by is None else plan.rename.get(row.by, row.by)
            code = row.code
            if code is not None:  # a sum_by's codes are its code item's
                code = plan.codes.get(by or item, {}).get(code, code)
            row = replace(row, item=item, code=code, by=by)
        key = (row.gyomu, row.record_file, row.kind, row.item, row.by, row.code)
        merged.setdefault(key, []).append(row)
    out = []
    for rows in merged.values():
        first = rows[0]
        if len(rows) > 1:
            totals = [reduce(EXACT.add, (getattr(r, a) for r in rows)) for a in _TOTALS]
            first = replace(first, **dict(zip(_TOTALS, totals, strict=True)))
        out.append(Control.of(first))
    return tuple(out)


_TOTALS = ("source", "target", "filtered")


def _kept_standard(stage: Path, version: str) -> KeptFolder:
    root = layouts_root(version)
    rel_root = f"{STANDARD_SNAPSHOT}/{version}"
    files = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")):
        rel = f"{rel_root}/{path.relative_to(root).as_posix()}"
        written = write_bytes_atomic(stage / rel, path.read_bytes())
        files.append(FileRef(path=rel, bytes=written.bytes, sha256=written.sha256))
    return KeptFolder(path=rel_root, files=tuple(files))


@dataclass
class _Written:
    """What the record files of the new run came to, file by file."""

    outputs: list[OutputEntry] = field(default_factory=list)
    files: list[ConvertedFile] = field(default_factory=list)
    findings: list[pl.DataFrame] = field(default_factory=list)
    removed: list[FileRef] = field(default_factory=list)


def _same_version(named: str, folder: str) -> bool:
    """A spec's ``from``/``to`` names a version folder as the folder (v2.1) or the standard's
    spelling (2.1)."""
    return named in (folder, folder.removeprefix("v"))


def _plans(run: RunFolder, spec: ConversionSpec, to_version: str) -> list[FilePlan]:
    manifest = run.manifest
    if not (
        _same_version(spec.from_version, manifest.layout_version)
        and _same_version(spec.to_version, to_version)
    ):
        raise ConvertError(
            spec.path,
            f"converts {spec.from_version} → {spec.to_version}, but the run is"
            f" {manifest.layout_version} and --to is {to_version}",
        )
    try:
        old_layouts = run_layouts(run)
    except ChukanError as exc:
        raise ConvertError(run.path, str(exc)) from exc
    gyomu = list(dict.fromkeys(o.gyomu for o in manifest.outputs))
    return check_spec(spec, old_layouts, dict(load_layouts(to_version)), gyomu)


def _write_record_files(run: RunFolder, stage: Path, plans: list[FilePlan]) -> _Written:
    """Every record file of the run converted and written in the run's format, its removed
    items beside it; the original's mapping rejects copied."""
    fmt = run.manifest.output
    csv = CsvFormat(fmt.encoding, LineEnding(fmt.line_ending)) if fmt.format is None else None
    writer = record_file_writer(fmt.written_as, csv)
    by_file = {(p.gyomu, p.old.id): p for p in plans}
    done = _Written()
    for entry in run.manifest.outputs:
        plan = by_file[(entry.gyomu, entry.record_file)]
        try:
            path = run.verified(entry.file_ref)
        except RunFolderError as exc:
            raise ConvertError(exc.path, exc.reason) from exc
        frame, removed, mapped = _convert_frame(plan, read_output(path, fmt.encoding))
        if frame.height != entry.written:
            raise ConvertError(
                path, f"holds {frame.height:,} records, the manifest {entry.written:,}"
            )
        written = writer.write(frame, writer.path_for(stage / entry.gyomu, plan.new))
        if plan.remove:
            side = stage / REMOVED / entry.gyomu / f"{entry.record_file}.csv"
            done.removed.append(_ref(stage, write_csv(removed, side, CsvFormat())))
        ref = _ref(stage, written)
        rejects = _copy(run, stage, entry.rejects) if entry.rejects is not None else None
        update = {"path": ref.path, "bytes": ref.bytes, "sha256": ref.sha256, "rejects": rejects}
        done.outputs.append(entry.model_copy(update=update))
        done.findings.append(_new_findings(plan, frame))
        done.files.append(
            ConvertedFile(
                gyomu=entry.gyomu,
                record_file=entry.record_file,
                records=frame.height,
                renamed=tuple(plan.rename.items()),
                added=tuple(plan.add),
                removed=plan.remove,
                codes_mapped=mapped,
            )
        )
    return done


def _ref(stage: Path, written: WrittenFile) -> FileRef:
    rel = written.path.relative_to(stage).as_posix()
    return FileRef(path=rel, bytes=written.bytes, sha256=written.sha256)


def _snapshot(run: RunFolder, stage: Path, to_version: str) -> Snapshot | None:
    """The original's vendor folder (copied, checked) and the target version's layouts."""
    section = run.manifest.snapshot
    if section is None:  # a run made before runs kept a snapshot
        return None
    kept = section.vendor
    vendor = KeptVendorFolder(
        gaiji_table=kept.gaiji_table,
        path=kept.path,
        files=tuple(_copy(run, stage, ref) for ref in kept.files),
    )
    return Snapshot(vendor=vendor, standard=_kept_standard(stage, to_version))


def convert_run(
    run_dir: Path,
    to_version: str,
    out_dir: Path,
    spec_path: Path | None = None,
    *,
    render_reports: bool = True,
) -> ConversionResult:
    """Write ``out_dir``: the run ``run_dir`` in layout version ``to_version``."""
    if out_dir.exists():
        raise ConvertError(out_dir, "already exists; choose another --out")
    refuse_inside(out_dir, run_dir, option="--out", what="run folder")  # a run is sealed
    run = _opened(run_dir)
    old = run.manifest
    to_version = resolve_version(to_version)
    spec = load_spec(spec_path or default_spec_path(old.layout_version, to_version))
    spec_bytes = spec.path.read_bytes()  # hashed into conversion.json
    plans = _plans(run, spec, to_version)
    with staged_dir(out_dir, replace=False) as stage:
        done = _write_record_files(run, stage, plans)
        sources = tuple(
            s.model_copy(update={"rejects": _copy(run, stage, s.rejects)}) for s in old.sources
        )
        added = concat_findings(done.findings)
        findings = concat_findings([_renamed_findings(_original_findings(run), plans), added])
        findings_ref = _ref(stage, write_findings(stage, findings))
        controls = _controls(old.reconciliation.controls, plans)
        manifest = Manifest(
            tool=Tool(name="chukan-etl", version=__version__),
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            vendor=old.vendor,
            layout_version=to_version,
            dump_dir=old.dump_dir,
            output=old.output,
            sources=sources,
            outputs=tuple(done.outputs),
            reconciliation=Reconciliation(
                controls=controls,
                unexplained=sum(1 for c in controls if control_number(c.unexplained) != 0),
            ),
            findings=_summary(findings, findings_ref),
            snapshot=_snapshot(run, stage, to_version),
        )
        _write_conversion(stage, run, spec, spec_bytes, done, added.height)
        write_manifest(stage, manifest)
        if render_reports:
            write_run_reports(stage)
    return ConversionResult(
        out_dir=out_dir,
        from_version=old.layout_version,
        to_version=to_version,
        files=tuple(done.files),
        findings_added=added.height,
    )


def _original_findings(run: RunFolder) -> pl.DataFrame:
    try:
        return run.findings()
    except RunFolderError as exc:
        raise ConvertError(exc.path, exc.reason) from exc


def _summary(findings: pl.DataFrame, ref: FileRef) -> FindingsSummary:
    by_sev = findings.group_by("severity").len().sort("severity").iter_rows()
    by_rule = findings.group_by("rule").len().sort("rule").iter_rows()
    return FindingsSummary(
        file=ref.path,
        sha256=ref.sha256,
        total=findings.height,
        by_severity={str(k): int(v) for k, v in by_sev},
        by_rule={str(k): int(v) for k, v in by_rule},
    )


def _write_conversion(
    stage: Path,
    run: RunFolder,
    spec: ConversionSpec,
    spec_bytes: bytes,
    done: _Written,
    findings_added: int,
) -> None:
    """conversion.json: what this run was converted from and how (beside the manifest)."""
    body: Mapping[str, object] = {
        "from_run": str(run.path),
        "from_manifest_sha256": run.manifest_sha256,
        "from_version": spec.from_version,
        "to_version": spec.to_version,
        "spec": {"path": spec.path.name, "sha256": hashlib.sha256(spec_bytes).hexdigest()},
        "files": [
            {
                "gyomu": f.gyomu,
                "record_file": f.record_file,
                "records": f.records,
                "renamed": dict(f.renamed),
                "added": list(f.added),
                "removed": list(f.removed),
                "codes_mapped": f.codes_mapped,
            }
            for f in done.files
        ],
        "removed_items": [r.model_dump() for r in done.removed],
        "findings_added": findings_added,
    }
    text = json.dumps(body, ensure_ascii=False, indent=2) + "\n"
    write_bytes_atomic(stage / CONVERSION_FILE, text.encode("utf-8"))
