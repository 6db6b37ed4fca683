"""A finished run folder as the loader sees it: manifest, V2.1 files and their tables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from etl.dbload.errors import LoadError
from etl.dbload.schema import TableSpec
from etl.layout import Layout
from etl.run_folder import Control, Manifest, RunFolder, RunFolderError, run_layouts
from etl.validate import SchemaRule
from etl.write import OUTPUT_ENCODINGS, OutputFormat


@dataclass(frozen=True, slots=True)
class FileToLoad:
    table: TableSpec
    path: Path
    written: int  # manifest outputs[].written
    sha256: str  # manifest outputs[].sha256


@dataclass(frozen=True, slots=True)
class RunToLoad:
    run: RunFolder
    files: tuple[FileToLoad, ...]

    @property
    def run_dir(self) -> Path:
        return self.run.path

    @property
    def run_id(self) -> str:
        """A pass run names itself in run.json; a one-off `chukan run` is named by its folder."""
        return self.run.run_id

    @property
    def manifest(self) -> Manifest:
        return self.run.manifest

    @property
    def manifest_sha256(self) -> str:
        return self.run.manifest_sha256

    @property
    def encoding(self) -> str:
        return self.run.manifest.output.encoding

    @property
    def controls(self) -> tuple[Control, ...]:
        return self.run.manifest.reconciliation.controls


def open_run(run_dir: Path, target: str) -> RunFolder:
    try:
        return RunFolder.open(run_dir)
    except RunFolderError as exc:
        raise LoadError(target, str(exc)) from exc


def layouts_of_run(run_dir: Path) -> dict[str, Layout]:
    """The layouts a load makes its tables from: those the run kept (its snapshot, checked
    against its manifest.json), never the bundled ones of today; an older one-off run that kept
    none names its layout version."""
    return run_layouts(RunFolder.open(run_dir))


def read_run(
    run_dir: Path, layouts: Mapping[str, Layout], schema: str | None, target: str
) -> RunToLoad:
    run = open_run(run_dir, target)
    manifest_path = run.file("manifest.json")
    written_as = run.manifest.output.written_as
    if written_as is not OutputFormat.CSV:  # loads COPY the CSV the run sealed, byte for byte
        raise LoadError(
            target,
            f"{manifest_path}: the run wrote its V2.1 files as {written_as}; chukan load takes"
            " the V2.1 CSV files (run again with --output-format csv)",
        )
    encoding = run.manifest.output.encoding
    if encoding not in OUTPUT_ENCODINGS:
        raise LoadError(target, f"{manifest_path}: unknown output encoding {encoding!r}")
    files = []
    for out in run.manifest.outputs:
        layout = layouts.get(out.gyomu)
        if layout is None:
            raise LoadError(target, f"{manifest_path}: no layout for 業務 {out.gyomu!r}")
        try:
            rf = layout.record_file(out.record_file)
        except KeyError as exc:
            raise LoadError(target, f"{manifest_path}: {exc.args[0]}") from exc
        try:  # a regular file below the run, of the size written: the load hashes the rest
            path = run.sized(out.file_ref)
        except RunFolderError as exc:
            raise LoadError(target, str(exc)) from exc
        files.append(FileToLoad(TableSpec(layout, rf, schema), path, out.written, out.sha256))
    if not files:
        raise LoadError(target, f"{manifest_path}: the run wrote no V2.1 files")
    return RunToLoad(run, tuple(files))


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
    if not run.manifest.findings.by_rule.get(SchemaRule.REQUIRED):
        return {}  # the manifest says there are none: no need to read the file
    try:
        frame = run.run.findings()
    except RunFolderError:
        return {}
    names = {(f.table.layout.id, f.table.record_file.id): f.table.name for f in run.files}
    empty = frame.filter(pl.col("rule") == SchemaRule.REQUIRED).select("gyomu", "file", "item")
    found: dict[str, set[str]] = {}
    for gyomu, rf, item in empty.unique().iter_rows():  # one row per distinct item
        name = names.get((gyomu, rf))
        if name is not None:
            found.setdefault(name, set()).add(str(item))
    return found
