"""A finished run folder as the loader sees it: manifest, V2.1 files and their tables."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from etl.dbload.errors import LoadError
from etl.dbload.schema import TableSpec
from etl.errors import ChukanError
from etl.layout import Layout
from etl.pipeline.manifest import read_findings, read_manifest, read_run_meta
from etl.pipeline.snapshot import run_layouts
from etl.validate import SchemaRule
from etl.write import OUTPUT_ENCODINGS, OutputFormat, run_output_format


@dataclass(frozen=True, slots=True)
class FileToLoad:
    table: TableSpec
    path: Path
    written: int  # manifest outputs[].written
    sha256: str  # manifest outputs[].sha256


@dataclass(frozen=True, slots=True)
class RunToLoad:
    run_dir: Path
    run_id: str
    manifest: dict[str, Any]
    manifest_sha256: str
    encoding: str  # the run's output encoding (manifest output.encoding)
    files: tuple[FileToLoad, ...]

    @property
    def controls(self) -> list[dict[str, Any]]:
        return list(self.manifest.get("reconciliation", {}).get("controls", []))


def layouts_of_run(run_dir: Path) -> dict[str, Layout]:
    """The layouts a load makes its tables from: those the run kept (its snapshot, checked
    against its manifest.json), never the bundled ones of today; an older one-off run that kept
    none names its layout version."""
    return run_layouts(run_dir, read_manifest(run_dir))


def read_run(
    run_dir: Path, layouts: Mapping[str, Layout], schema: str | None, target: str
) -> RunToLoad:
    manifest_path = run_dir / "manifest.json"
    try:
        raw = manifest_path.read_bytes()
        manifest = json.loads(raw)
    except (OSError, ValueError) as exc:
        raise LoadError(target, f"{manifest_path}: not a readable run manifest: {exc}") from exc
    written_as = run_output_format(manifest.get("output", {}))
    if written_as is not OutputFormat.CSV:  # loads COPY the CSV the run sealed, byte for byte
        raise LoadError(
            target,
            f"{manifest_path}: the run wrote its V2.1 files as {written_as}; chukan load takes"
            " the V2.1 CSV files (run again with --output-format csv)",
        )
    encoding = str(manifest.get("output", {}).get("encoding", ""))
    if encoding not in OUTPUT_ENCODINGS:
        raise LoadError(target, f"{manifest_path}: unknown output encoding {encoding!r}")
    files = []
    for out in manifest.get("outputs", []):
        layout = layouts.get(out["gyomu"])
        if layout is None:
            raise LoadError(target, f"{manifest_path}: no layout for 業務 {out['gyomu']!r}")
        try:
            rf = layout.record_file(out["record_file"])
        except KeyError as exc:
            raise LoadError(target, f"{manifest_path}: {exc.args[0]}") from exc
        files.append(
            FileToLoad(
                TableSpec(layout, rf, schema),
                run_dir / out["path"],
                int(out["written"]),
                str(out["sha256"]),
            )
        )
    if not files:
        raise LoadError(target, f"{manifest_path}: the run wrote no V2.1 files")
    # a pass run names itself in run.json; a one-off `chukan run` is named by its folder
    run_id = str(read_run_meta(run_dir).get("run_id", run_dir.name))
    return RunToLoad(
        run_dir=run_dir,
        run_id=run_id,
        manifest=manifest,
        manifest_sha256=hashlib.sha256(raw).hexdigest(),
        encoding=encoding,
        files=tuple(files),
    )


def check_header(f: FileToLoad, encoding: str, target: str) -> None:
    """The CSV header must be the layout's 項目名 in order: loads map columns by position."""
    with f.path.open("rb") as fh:
        first = fh.readline()
    text = first.decode("cp932" if encoding == "cp932" else "utf-8-sig", errors="replace")
    header = text.rstrip("\r\n").split(",")
    expected = f.table.record_file.item_names
    if header != expected:
        raise LoadError(
            target,
            f"{f.path}: header {header} does not match the layout's items {expected}",
            table=f.table.name,
        )


def empty_required(run: RunToLoad) -> dict[str, set[str]]:
    """Table name → 項目名 of the required items the run's findings report empty (schema.required).

    A hint only, so the tables can be created with the right NOT NULLs before the data is seen:
    the database has the last word (a violation relaxes the column, a clean column gets NOT NULL).
    """
    findings = run.manifest.get("findings", {})
    if "by_rule" in findings and not findings["by_rule"].get(SchemaRule.REQUIRED):
        return {}  # the manifest says there are none: no need to read the file
    try:
        frame = read_findings(run.run_dir / str(findings.get("file", "findings.csv")))
    except (ChukanError, pl.exceptions.PolarsError):
        return {}
    names = {(f.table.layout.id, f.table.record_file.id): f.table.name for f in run.files}
    empty = frame.filter(pl.col("rule") == SchemaRule.REQUIRED).select("gyomu", "file", "item")
    found: dict[str, set[str]] = {}
    for gyomu, rf, item in empty.unique().iter_rows():  # one row per distinct item
        name = names.get((gyomu, rf))
        if name is not None:
            found.setdefault(name, set()).add(str(item))
    return found
