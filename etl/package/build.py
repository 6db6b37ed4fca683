"""build_package: a sealed handover package (folder + .tar.gz) from a completed run folder.

In steps: resolve what to seal (``_resolve``), seal the V2.1 files (``_seal_record_files``),
the side tables (``_side_tables``), the data dictionary (``_dictionary``), datapackage.json
(``_descriptor``), the signature (``_sign``), the archive (etl.package.archive).

Everything in it derives from the run (no clock, no host names), so the same run packaged twice
gives byte-identical files and archives; with a key, also the same signature (Ed25519 is
deterministic).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from etl import __version__
from etl.layout import Layout, RecordFile
from etl.municipality import checked_code
from etl.package.archive import write_archive
from etl.package.contents import run_summary, unmapped_gaiji
from etl.package.descriptor import (
    DESCRIPTOR,
    SIGNATURE,
    Resource,
    descriptor_bytes,
    resource_name,
)
from etl.package.dictionary import render_dictionary_html, render_dictionary_xlsx
from etl.package.errors import FindingsNotAccepted, PackageError
from etl.package.schema import FieldRule
from etl.package.signing import key_fingerprint, sign_descriptor
from etl.package.table_stream import read_table
from etl.package.v21_files import (
    RunRecordFile,
    SealedTables,
    copy_file_hashed,
    copy_hashed,
    seal_v21_files,
)
from etl.run_folder import (
    MANIFEST_FILE,
    RUN_META_FILE,
    FileRef,
    Manifest,
    RunFolder,
    RunFolderError,
    SnapshotError,
    read_snapshot,
)
from etl.write import (
    CsvFormat,
    OutputFormat,
    encode_csv,
    make_private_dir,
    sha256_file,
    staged_dir,
    write_bytes_atomic,
)


@dataclass(frozen=True, slots=True)
class PackageResult:
    package_dir: Path
    archive: Path
    archive_sha256: str
    name: str
    resources: tuple[Resource, ...]
    signed_by: str | None  # public-key fingerprint
    relaxed: tuple[dict[str, Any], ...]  # constraints the sealed data already breaks


def archive_path(out_dir: Path) -> Path:
    return out_dir.with_name(out_dir.name + ".tar.gz")


def _json(doc: Any) -> bytes:
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def build_package(
    run_dir: Path,
    out_dir: Path,
    *,
    layouts: Mapping[str, Layout],
    gaiji_table: Path | None = None,
    municipality: dict[str, Any] | None = None,
    key: Ed25519PrivateKey | None = None,
    replace: bool = False,
    accept_findings: str | None = None,
    gaiji_decisions: pl.DataFrame | None = None,
) -> PackageResult:
    """Package a completed run folder into ``out_dir`` and ``out_dir``.tar.gz (atomic, 0600).

    The gaiji table sealed is the one the run kept (its vendor snapshot, checked against its
    manifest.json). ``gaiji_table`` is for a run made before runs kept one; given for a newer
    run, it must be that same table, else PackageError.

    A run with blocking findings (severity error) is refused unless ``accept_findings`` gives
    the reason it is handed over anyway; the reason and the count go into datapackage.json
    (``chukan.acceptedFindings``), and the constraints the data breaks are left out of its
    schema and listed (``chukan.relaxedConstraints``), so the package stays true of its bytes.

    ``gaiji_decisions`` (the group's 外字 ledger entries for the 外字 the run's data uses, made by
    etl.ledger) is sealed as gaiji/ledger.csv, so the receiving vendor sees each decision.
    """
    plan = _resolve(
        run_dir,
        out_dir,
        layouts=layouts,
        gaiji_table=gaiji_table,
        municipality=municipality,
        replace=replace,
        accept_findings=accept_findings,
    )
    with staged_dir(out_dir, replace=replace) as stage, ThreadPoolExecutor(4) as pool:
        files = _PackageFiles(plan.run, stage)
        sealed = _seal_record_files(plan, files, pool)
        _side_tables(plan, files)
        if gaiji_decisions is not None:
            files.add("gaiji/ledger.csv", encode_csv(gaiji_decisions, CsvFormat()), "utf-8", "\n")
        _dictionary(plan, files)
        descriptor = _descriptor(plan, files.resources, sealed)
        write_bytes_atomic(stage / DESCRIPTOR, descriptor)
        members = [DESCRIPTOR, *(r.path for r in files.resources)]
        signed_by = _sign(stage, descriptor, key, members)
        digest = write_archive(stage, plan.name, members, plan.archive)
    return PackageResult(
        out_dir,
        plan.archive,
        digest,
        plan.name,
        tuple(files.resources),
        signed_by,
        tuple(sealed.relaxed),
    )


@dataclass(frozen=True, slots=True)
class _Plan:
    """What a package of the run seals, resolved and checked before anything is written."""

    run: RunFolder
    record_files: list[RunRecordFile]
    gaiji: FileRef | Path | None  # the run's kept table, an older run's as given, or none
    municipality: dict[str, Any]
    validation: dict[str, Any]  # the run's findings summary
    blocking: int
    accepted_reason: str  # why a run with blocking findings is handed over ("" if none)
    name: str  # the package's name, also the archive's top folder
    archive: Path

    @property
    def manifest(self) -> Manifest:
        return self.run.manifest

    @property
    def encoding(self) -> str:
        return self.manifest.output.encoding

    @property
    def eol(self) -> str:
        return "\r\n" if self.manifest.output.line_ending == "crlf" else "\n"


def _resolve(
    run_dir: Path,
    out_dir: Path,
    *,
    layouts: Mapping[str, Layout],
    gaiji_table: Path | None,
    municipality: dict[str, Any] | None,
    replace: bool,
    accept_findings: str | None,
) -> _Plan:
    """Resolve what to seal: the run (a completed CSV run), whether its blocking findings are
    accepted, its gaiji table, its municipality, each V2.1 file with its layout, the name."""
    try:
        run = RunFolder.open(run_dir)
    except RunFolderError as exc:
        raise PackageError(run_dir, f"not a completed run folder ({exc.reason})") from exc
    manifest, run_meta = run.manifest, run.meta
    written_as = manifest.output.written_as
    if written_as is not OutputFormat.CSV:  # the handover is the standard's CSV and its schema
        raise PackageError(
            run_dir,
            f"the run wrote its V2.1 files as {written_as}; a package holds the V2.1 CSV files"
            " (run again with --output-format csv)",
        )
    validation = run_summary(manifest)["validation"]
    blocking = int(validation["blocking"])
    reason = (accept_findings or "").strip()
    if blocking and not reason:
        raise FindingsNotAccepted(
            run_dir,
            f"the run has {blocking:,} blocking finding(s); fix them and run again, or hand it"
            " over as is with accept_findings (--accept-findings REASON), which is recorded"
            " in datapackage.json",
        )
    gaiji = _gaiji_of_run(run, gaiji_table)
    kept_muni = run_meta.municipality if run_meta is not None else None
    muni = municipality or (kept_muni.model_dump() if kept_muni is not None else {})
    if muni.get("code") is not None:  # as chukan.toml's is checked
        checked_code(muni["code"], config=run_dir / "run.json")
    archive = archive_path(out_dir)
    if archive.exists() and not replace:
        raise PackageError(archive, "already exists; pass replace to overwrite")
    try:
        record_files = [
            RunRecordFile(o, layouts[o.gyomu], layouts[o.gyomu].record_file(o.record_file))
            for o in manifest.outputs
        ]
    except KeyError as exc:
        raise PackageError(run_dir, f"layout not given for a file of the run: {exc}") from exc
    run_id = run_meta.run_id if run_meta is not None else None
    pass_name = run_meta.pass_name if run_meta is not None else None
    parts = ("chukan", muni.get("code"), pass_name, run_id or manifest.created_at)
    name = resource_name("-".join(str(p) for p in parts if p))
    return _Plan(run, record_files, gaiji, muni, validation, blocking, reason, name, archive)


class _PackageFiles:
    """The staged package's files, each listed as a resource of datapackage.json when added."""

    def __init__(self, run: RunFolder, stage: Path) -> None:
        self.run, self.stage = run, stage
        self.resources: list[Resource] = []

    def listed(self, rel: str, size: int, digest: str, enc: str | None, eol: str | None) -> None:
        rname = resource_name(rel.replace("/", "-"))
        if not rel.endswith(".csv"):
            self.resources.append(Resource(rname, rel, size, digest, enc))
            return
        # Side tables (findings, gaiji): every column text, no constraints.
        frame = read_table(self.stage / rel, enc or "utf-8")
        fields = tuple(FieldRule(c, "string") for c in frame.columns)
        meta = {"records": frame.height}
        self.resources.append(Resource(rname, rel, size, digest, enc, eol, fields, (), meta))

    def add(self, rel: str, data: bytes, enc: str | None = None, eol: str | None = None) -> None:
        """Write ``data`` as ``rel`` and list it."""
        wf = write_bytes_atomic(self.stage / rel, data)
        self.listed(rel, wf.bytes, wf.sha256, enc, eol)

    def copy(self, rel: str, src: str, enc: str | None = None, eol: str | None = None) -> None:
        """Copy the run's file ``src`` as ``rel`` (hashed on the way) and list it."""
        make_private_dir((self.stage / rel).parent)
        self.listed(rel, *copy_hashed(self.run, src, self.stage / rel), enc, eol)


def _seal_record_files(plan: _Plan, files: _PackageFiles, pool: Executor) -> SealedTables:
    """Seal the V2.1 files under data/: copied, hashed and checked against their layout's
    schema; their resources go first into the list."""
    stage = files.stage
    for folder in sorted(
        {f"data/{Path(rf.output.path).parent.as_posix()}" for rf in plan.record_files}
    ):
        make_private_dir(stage / "data")  # each level 0700: mkdir(parents=True) uses umask
        make_private_dir(stage / folder)
    sealed = seal_v21_files(plan.run, stage, plan.record_files, plan.encoding, plan.eol, pool)
    files.resources.extend(sealed.resources)
    return sealed


def _side_tables(plan: _Plan, files: _PackageFiles) -> None:
    """The tables beside the V2.1 files: the gaiji table and the unmapped gaiji, the run's own
    manifest.json, findings.csv and run.json, and its summary."""
    run, manifest = plan.run, plan.manifest
    findings = run.findings()  # checked against the manifest: SHA-256 and count
    if plan.gaiji is not None:
        rel = "gaiji/gaiji_table.csv"
        make_private_dir((files.stage / rel).parent)
        gaiji = plan.gaiji
        if isinstance(gaiji, FileRef):  # the run's own copy (a small table): checked, sealed
            run.verified(gaiji, "snapshot")
            size, digest = copy_hashed(run, gaiji.path, files.stage / rel)
            if (size, digest) != (gaiji.bytes, gaiji.sha256):
                raise PackageError(run.file(gaiji.path), "differs from the run's manifest.json")
        else:  # an older run's table, as told by --vendor
            size, digest = copy_file_hashed(gaiji, files.stage / rel)
        files.listed(rel, size, digest, "utf-8", _eol_of(files.stage / rel))
    files.add(
        "gaiji/unmapped.csv", encode_csv(unmapped_gaiji(findings), CsvFormat()), "utf-8", "\n"
    )
    files.copy("run/manifest.json", MANIFEST_FILE, "utf-8")
    files.copy("run/findings.csv", manifest.findings.file, "utf-8-sig", "\r\n")
    if run.meta is not None:
        files.copy("run/run.json", RUN_META_FILE, "utf-8")
    files.add("summary.json", _json(run_summary(manifest)), "utf-8")


def _dictionary(plan: _Plan, files: _PackageFiles) -> None:
    """The data dictionary (データ項目定義書) of the sealed record files, as HTML and XLSX."""
    selection = _selection(plan.record_files)
    title = f"データ項目定義書 {plan.municipality.get('name', '')}".strip()
    files.add(
        "dictionary/data_dictionary.html",
        render_dictionary_html(selection, title=title, tool_version=__version__),
        "utf-8",
    )
    files.add(
        "dictionary/data_dictionary.xlsx",
        render_dictionary_xlsx(selection, title=title, created=_created(plan.manifest.created_at)),
    )


def _descriptor(plan: _Plan, resources: list[Resource], sealed: SealedTables) -> bytes:
    """datapackage.json: every resource (sorted by path) and chukan's metadata of the run."""
    manifest, run_meta, muni = plan.manifest, plan.run.meta, plan.municipality
    blocking = plan.blocking
    chukan = {
        "municipality": {"code": muni.get("code"), "name": muni.get("name")},
        "gyomu": sorted({rf.layout.id for rf in plan.record_files}),
        "layoutVersion": manifest.layout_version,
        "pass": run_meta.pass_name if run_meta is not None else None,
        "runId": run_meta.run_id if run_meta is not None else None,
        "runCreatedAt": manifest.created_at,
        "vendor": manifest.vendor,
        "records": sealed.counts,
        "controlTotals": validation_controls(manifest),
        "findings": plan.validation,
        "acceptedFindings": {"blocking": blocking, "reason": plan.accepted_reason}
        if blocking
        else None,
        # a production run made although a gate refused it: why (manifest.json, older: run.json)
        "override": manifest.override or (run_meta.override if run_meta else None),
        "relaxedConstraints": sealed.relaxed,
        "tool": {
            "name": "chukan-etl",
            "version": __version__,
            "runVersion": manifest.tool.version,
        },
    }
    resources.sort(key=lambda r: r.path)
    return descriptor_bytes(
        plan.name,
        f"中間標準レイアウト移行データ {muni.get('name', '')}".strip(),
        manifest.created_at,
        resources,
        chukan,
    )


def _sign(
    stage: Path, descriptor: bytes, key: Ed25519PrivateKey | None, members: list[str]
) -> str | None:
    """With a key, the detached signature of datapackage.json (added to ``members``); the
    signer's fingerprint, or None for an unsigned package."""
    if key is None:
        return None
    write_bytes_atomic(stage / SIGNATURE, sign_descriptor(descriptor, key))
    members.append(SIGNATURE)
    return key_fingerprint(key.public_key())


def _gaiji_of_run(run: RunFolder, given: Path | None) -> FileRef | Path | None:
    """The gaiji table to seal: the run's kept copy (FileRef, checked when copied), or for a
    run made before runs kept their vendor folder the table given (None: no table)."""
    try:
        snapshot = read_snapshot(run)
    except SnapshotError as exc:
        raise PackageError(exc.path, exc.reason) from exc
    if snapshot.vendor is None:  # made before runs kept their vendor folder: as told
        if given is not None and not given.is_file():
            raise PackageError(given, "gaiji table not found")
        return given
    kept = snapshot.gaiji_table
    if given is not None:
        try:
            same = kept is not None and sha256_file(given) == kept.sha256
        except OSError as exc:
            raise PackageError(given, f"cannot be read: {exc.strerror or exc}") from exc
        if not same:
            raise PackageError(
                given,
                "is not the gaiji table the run used; the run keeps its own"
                f" ({run.file(kept.path) if kept else 'none'}), leave the table out",
            )
    return kept


def validation_controls(manifest: Manifest) -> list[dict[str, Any]]:
    """The run's control totals as datapackage.json carries them (decimals as digits)."""
    return [c.model_dump(mode="json") for c in manifest.reconciliation.controls]


def _eol_of(path: Path) -> str:
    with path.open("rb") as fh:
        return "\r\n" if b"\r\n" in fh.read(65536) else "\n"


def _created(created: str) -> datetime:
    try:
        ts = datetime.fromisoformat(created)
    except ValueError:
        ts = datetime(2000, 1, 1, tzinfo=UTC)
    return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo else ts


def _selection(record_files: list[RunRecordFile]) -> list[tuple[Layout, list[RecordFile]]]:
    by_layout: dict[str, tuple[Layout, list[RecordFile]]] = {}
    for _, lay, rf in record_files:
        by_layout.setdefault(lay.id, (lay, []))[1].append(rf)
    return [by_layout[k] for k in sorted(by_layout)]
