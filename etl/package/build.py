"""build_package: a sealed handover package (folder + .tar.gz) from a completed run folder.

Everything in it derives from the run (no clock, no host names), so the same run packaged twice
gives byte-identical files and archives; with a key, also the same signature (Ed25519 is
deterministic).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from etl import __version__
from etl.layout import Layout, RecordFile
from etl.municipality import checked_code
from etl.package.archive import write_archive
from etl.package.contents import run_summary, unmapped_gaiji
from etl.package.descriptor import MANIFEST, SIGNATURE, Resource, manifest_bytes, resource_name
from etl.package.dictionary import render_dictionary_html, render_dictionary_xlsx
from etl.package.errors import FindingsNotAccepted, PackageError
from etl.package.schema import FieldRule
from etl.package.signing import key_fingerprint, sign_manifest
from etl.package.table_stream import read_table
from etl.package.v21_files import Target, copy_file_hashed, copy_hashed, seal_v21_files
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
) -> PackageResult:
    """Package a completed run folder into ``out_dir`` and ``out_dir``.tar.gz (atomic, 0600).

    The gaiji table sealed is the one the run kept (its vendor snapshot, checked against its
    manifest.json). ``gaiji_table`` is for a run made before runs kept one; given for a newer
    run, it must be that same table, else PackageError.

    A run with blocking findings (severity error) is refused unless ``accept_findings`` gives
    the reason it is handed over anyway; the reason and the count go into datapackage.json
    (``chukan.acceptedFindings``), and the constraints the data breaks are left out of its
    schema and listed (``chukan.relaxedConstraints``), so the package stays true of its bytes.
    """
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
    encoding = manifest.output.encoding
    eol = "\r\n" if manifest.output.line_ending == "crlf" else "\n"
    outputs = manifest.outputs
    try:
        targets = [
            (o, layouts[o.gyomu], layouts[o.gyomu].record_file(o.record_file)) for o in outputs
        ]
    except KeyError as exc:
        raise PackageError(run_dir, f"layout not given for a file of the run: {exc}") from exc
    created = manifest.created_at
    run_id = run_meta.run_id if run_meta is not None else None
    pass_name = run_meta.pass_name if run_meta is not None else None
    name = resource_name(
        "-".join(str(p) for p in ("chukan", muni.get("code"), pass_name, run_id or created) if p)
    )

    with staged_dir(out_dir, replace=replace) as stage, ThreadPoolExecutor(4) as pool:
        for folder in sorted({f"data/{Path(o.path).parent.as_posix()}" for o in outputs}):
            make_private_dir(stage / "data")  # each level 0700: mkdir(parents=True) uses umask
            make_private_dir(stage / folder)
        sealed = seal_v21_files(
            run,
            stage,
            targets,
            encoding,
            eol,
            pool,
        )
        resources, relaxed, counts = sealed.resources, sealed.relaxed, sealed.counts

        def listed(rel: str, size: int, digest: str, enc: str | None, eol_: str | None) -> None:
            rname = resource_name(rel.replace("/", "-"))
            if not rel.endswith(".csv"):
                resources.append(Resource(rname, rel, size, digest, enc))
                return
            # Side tables (findings, gaiji): every column text, no constraints.
            frame = read_table(stage / rel, enc or "utf-8")
            fields = tuple(FieldRule(c, "string") for c in frame.columns)
            meta = {"records": frame.height}
            resources.append(Resource(rname, rel, size, digest, enc, eol_, fields, (), meta))

        def add(rel: str, data: bytes, enc: str | None = None, eol_: str | None = None) -> None:
            wf = write_bytes_atomic(stage / rel, data)
            listed(rel, wf.bytes, wf.sha256, enc, eol_)

        def copy(rel: str, src: str, enc: str | None = None, eol_: str | None = None) -> None:
            make_private_dir((stage / rel).parent)
            listed(rel, *copy_hashed(run, src, stage / rel), enc, eol_)

        findings = run.findings()  # checked against the manifest: SHA-256 and count
        if gaiji is not None:
            rel = "gaiji/gaiji_table.csv"
            make_private_dir((stage / rel).parent)
            if isinstance(gaiji, FileRef):  # the run's own copy (a small table): checked, sealed
                run.verified(gaiji, "snapshot")
                size, digest = copy_hashed(run, gaiji.path, stage / rel)
                if (size, digest) != (gaiji.bytes, gaiji.sha256):
                    raise PackageError(run.file(gaiji.path), "differs from the run's manifest.json")
            else:  # an older run's table, as told by --vendor
                size, digest = copy_file_hashed(gaiji, stage / rel)
            listed(rel, size, digest, "utf-8", _eol_of(stage / rel))
        add(
            "gaiji/unmapped.csv",
            encode_csv(unmapped_gaiji(findings), CsvFormat()),
            "utf-8",
            "\n",
        )
        selection = _selection(targets)
        title = f"データ項目定義書 {muni.get('name', '')}".strip()
        tool = __version__
        add(
            "dictionary/data_dictionary.html",
            render_dictionary_html(selection, title=title, tool_version=tool),
            "utf-8",
        )
        add(
            "dictionary/data_dictionary.xlsx",
            render_dictionary_xlsx(selection, title=title, created=_created(created)),
        )
        copy("run/manifest.json", MANIFEST_FILE, "utf-8")
        copy("run/findings.csv", manifest.findings.file, "utf-8-sig", "\r\n")
        if run_meta is not None:
            copy("run/run.json", RUN_META_FILE, "utf-8")
        add("summary.json", _json(run_summary(manifest)), "utf-8")

        chukan = {
            "municipality": {"code": muni.get("code"), "name": muni.get("name")},
            "gyomu": sorted({lay.id for _, lay, _ in targets}),
            "layoutVersion": manifest.layout_version,
            "pass": pass_name,
            "runId": run_id,
            "runCreatedAt": created,
            "vendor": manifest.vendor,
            "records": counts,
            "controlTotals": validation_controls(manifest),
            "findings": validation,
            "acceptedFindings": {"blocking": blocking, "reason": reason} if blocking else None,
            # a production run made although a gate refused it: why (manifest.json, older: run.json)
            "override": manifest.override or (run_meta.override if run_meta else None),
            "relaxedConstraints": relaxed,
            "tool": {
                "name": "chukan-etl",
                "version": tool,
                "runVersion": manifest.tool.version,
            },
        }
        resources.sort(key=lambda r: r.path)
        data = manifest_bytes(
            name,
            f"中間標準レイアウト移行データ {muni.get('name', '')}".strip(),
            created,
            resources,
            chukan,
        )
        write_bytes_atomic(stage / MANIFEST, data)
        files = [MANIFEST, *(r.path for r in resources)]
        signed_by = None
        if key is not None:
            write_bytes_atomic(stage / SIGNATURE, sign_manifest(data, key))
            files.append(SIGNATURE)
            signed_by = key_fingerprint(key.public_key())
        digest = write_archive(stage, name, files, archive)
    return PackageResult(
        out_dir, archive, digest, name, tuple(resources), signed_by, tuple(relaxed)
    )


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


def _selection(
    targets: list[Target],
) -> list[tuple[Layout, list[RecordFile]]]:
    by_layout: dict[str, tuple[Layout, list[RecordFile]]] = {}
    for _, lay, rf in targets:
        by_layout.setdefault(lay.id, (lay, []))[1].append(rf)
    return [by_layout[k] for k in sorted(by_layout)]
