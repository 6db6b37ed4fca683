"""Diff two run folders (etl.run_folder: manifest.json, V2.1 files checked against it).

Record files are CSV or Parquet (``chukan run --output-format``); both are read as String
columns, so a CSV run and a Parquet run of the same data have no differences.
"""

from __future__ import annotations

import dataclasses
import io
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

import polars as pl

from etl.diff.errors import DiffError
from etl.diff.finding_changes import findings_delta
from etl.diff.frames import diff_record_file_lists
from etl.diff.layouts import diff_layouts
from etl.diff.model import (
    ChangeLists,
    CountPair,
    FileDiff,
    LayoutDiff,
    OutputCounts,
    ReasonCount,
    RunDiff,
    RunInfo,
    SourceCounts,
)
from etl.layout import Layout, RecordFile
from etl.run_folder import OutputEntry, RunFolder, RunFolderError, SourceEntry
from etl.write import PARQUET_SUFFIX

READ_ENCODINGS = ("utf-8", "utf-8-sig", "cp932")
Entry = TypeVar("Entry", SourceEntry, OutputEntry)
OutputKey = tuple[str, str]  # (業務, record file)


def open_run(run_dir: Path) -> RunFolder:
    """The run folder (etl.run_folder reads and checks it), failures as DiffError."""
    try:
        return RunFolder.open(run_dir)
    except RunFolderError as exc:
        raise DiffError(exc.path, exc.reason) from exc


def _check_output(path: Path, encoding: str) -> None:
    if encoding not in READ_ENCODINGS:
        raise DiffError(path, f"unknown output encoding {encoding!r}")
    if not path.is_file():
        raise DiffError(path, "output listed in the manifest is missing")


def read_output(path: Path, encoding: str) -> pl.DataFrame:
    """A V2.1 file read whole as String columns (cp932 decoded here: polars reads UTF-8 only)."""
    _check_output(path, encoding)
    if path.suffix == PARQUET_SUFFIX:
        return pl.read_parquet(path).select(pl.all().cast(pl.String))
    if encoding == "cp932":
        data = path.read_bytes().decode("cp932").encode("utf-8")
        return pl.read_csv(io.BytesIO(data), infer_schema=False)
    return pl.read_csv(path, infer_schema=False)  # polars skips a UTF-8 BOM itself


def transcode_cp932(src: Path, dest: Path, chunk_bytes: int = 64 << 20) -> Path:
    """Copy a CP932 file as UTF-8, a chunk at a time.

    Chunks end after a line feed: 0x0A is never a CP932 trail byte (0x40–0xFC), so no
    character is cut in two.
    """
    with src.open("rb") as fin, dest.open("wb") as fout:
        rest = b""
        while chunk := fin.read(chunk_bytes):
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            data, rest = data[:cut], data[cut:]
            fout.write(data.decode("cp932").encode("utf-8"))
        fout.write(rest.decode("cp932").encode("utf-8"))
    return dest


def scan_output(path: Path, encoding: str, scratch: Path) -> pl.LazyFrame:
    """A V2.1 file as a LazyFrame of String columns; cp932 goes through a UTF-8 copy in scratch."""
    _check_output(path, encoding)
    if path.suffix == PARQUET_SUFFIX:
        return pl.scan_parquet(path)  # cast to String with the layout's items (_conform)
    if encoding == "cp932":
        path = transcode_cp932(path, scratch / f"{len(list(scratch.iterdir()))}.csv")
    return pl.scan_csv(path, infer_schema=False)  # polars skips a UTF-8 BOM itself


def _conform(frame: pl.LazyFrame, record_file: RecordFile) -> tuple[pl.LazyFrame, tuple[str, ...]]:
    """The layout's items in order; items absent from the CSV header become empty columns."""
    columns = frame.collect_schema().names()
    missing = tuple(n for n in record_file.item_names if n not in columns)
    cols = [
        pl.lit(None, pl.String).alias(n) if n in missing else pl.col(n).cast(pl.String)
        for n in record_file.item_names
    ]
    return frame.select(cols), missing


def _empty(record_file: RecordFile) -> pl.LazyFrame:
    return pl.LazyFrame(schema=dict.fromkeys(record_file.item_names, pl.String))


def _run_info(run: RunFolder) -> RunInfo:
    m = run.manifest
    return RunInfo(
        path=str(run.path),
        pass_name=run.meta.pass_name if run.meta is not None else "",
        run_id=run.run_id,
        created_at=m.created_at,
        vendor=m.vendor,
        layout_version=m.layout_version,
        tool_version=m.tool.version,
        output_encoding=m.output.encoding,
    )


def _pair(old: Entry | None, new: Entry | None, count: Callable[[Entry], int]) -> CountPair:
    return CountPair(
        old=None if old is None else count(old),
        new=None if new is None else count(new),
    )


def _reasons(old: Entry | None, new: Entry | None) -> tuple[ReasonCount, ...]:
    o: dict[str, int] = {} if old is None else old.filtered
    n: dict[str, int] = {} if new is None else new.filtered
    return tuple(
        ReasonCount(
            reason=r,
            count=CountPair(
                old=None if old is None else o.get(r, 0),
                new=None if new is None else n.get(r, 0),
            ),
        )
        for r in sorted({*o, *n})
    )


def _source_counts(old: RunFolder, new: RunFolder) -> tuple[SourceCounts, ...]:
    old_s = {s.name: s for s in old.manifest.sources}
    new_s = {s.name: s for s in new.manifest.sources}
    names = list(dict.fromkeys([*old_s, *new_s]))
    return tuple(
        SourceCounts(
            name=n,
            records_in=_pair(old_s.get(n), new_s.get(n), lambda s: s.records_in),
            data_records=_pair(old_s.get(n), new_s.get(n), lambda s: s.data_records),
            rejected=_pair(old_s.get(n), new_s.get(n), lambda s: s.rejected),
            filtered=_reasons(old_s.get(n), new_s.get(n)),
        )
        for n in names
    )


def _outputs(run: RunFolder) -> dict[OutputKey, OutputEntry]:
    return {(o.gyomu, o.record_file): o for o in run.manifest.outputs}


def _output_counts(
    old_o: dict[OutputKey, OutputEntry],
    new_o: dict[OutputKey, OutputEntry],
    order: list[OutputKey],
) -> tuple[OutputCounts, ...]:
    return tuple(
        OutputCounts(
            gyomu=g,
            record_file=rf,
            source_data_records=_pair(
                old_o.get((g, rf)), new_o.get((g, rf)), lambda o: o.source_data_records
            ),
            written=_pair(old_o.get((g, rf)), new_o.get((g, rf)), lambda o: o.written),
            filtered=_reasons(old_o.get((g, rf)), new_o.get((g, rf))),
        )
        for g, rf in order
    )


def _record_file(layouts: Mapping[str, Layout], gyomu: str, file_id: str) -> RecordFile:
    if gyomu not in layouts:
        raise DiffError(gyomu, f"no layout given for 業務 {gyomu!r}; known: {', '.join(layouts)}")
    try:
        return layouts[gyomu].record_file(file_id)
    except KeyError as exc:
        raise DiffError(gyomu, str(exc.args[0])) from exc


def _file_order(layouts: Mapping[str, Layout], keys: set[tuple[str, str]]) -> list[tuple[str, str]]:
    def position(k: tuple[str, str]) -> tuple[str, int]:
        ids = [rf.id for rf in layouts[k[0]].record_files] if k[0] in layouts else []
        return k[0], ids.index(k[1]) if k[1] in ids else len(ids)

    return sorted(keys, key=position)


def _side(
    run: RunFolder,
    outputs: dict[OutputKey, OutputEntry],
    key: OutputKey,
    record_file: RecordFile,
    scratch: Path,
) -> tuple[pl.LazyFrame, tuple[str, ...]]:
    if key not in outputs:
        return _empty(record_file), ()
    try:  # the file as the run wrote it: its size and SHA-256 checked against the manifest
        path = run.verified(outputs[key].file_ref)
    except RunFolderError as exc:
        raise DiffError(exc.path, exc.reason) from exc
    frame = scan_output(path, run.manifest.output.encoding, scratch)
    return _conform(frame, record_file)


def diff_runs(
    old_dir: Path,
    new_dir: Path,
    layouts: Mapping[str, Layout],
    *,
    samples: int = 20,
    old_layouts: Mapping[str, Layout] | None = None,
) -> RunDiff:
    """Diff every V2.1 record file of two runs, their findings and their manifest counts.

    ``layouts`` (by Layout id) describes the record files of both runs; pass ``old_layouts``
    as well when the old run used another layout version, to get the layout differences.
    A record file present in one run only is diffed against an empty file.
    """
    old_run, new_run = open_run(old_dir), open_run(new_dir)
    old_o, new_o = _outputs(old_run), _outputs(new_run)
    order = _file_order(layouts, {*old_o, *new_o})
    files: list[FileDiff] = []
    lists: list[ChangeLists] = []
    with tempfile.TemporaryDirectory(prefix="chukan-diff-") as tmp:
        for key in order:
            rf = _record_file(layouts, *key)
            scratch = Path(tmp)
            old, old_missing = _side(old_run, old_o, key, rf, scratch)
            new, new_missing = _side(new_run, new_o, key, rf, scratch)
            diff, full = diff_record_file_lists(rf, old, new, samples=samples, gyomu=key[0])
            lists.append(full)
            files.append(
                dataclasses.replace(
                    diff,
                    in_old=key in old_o,
                    in_new=key in new_o,
                    old_missing_items=old_missing,
                    new_missing_items=new_missing,
                )
            )
            for copy in scratch.iterdir():  # cp932 copies of this record file only
                copy.unlink()

    delta = findings_delta(_findings(old_run), _findings(new_run), samples)
    layout_diffs: tuple[LayoutDiff, ...] = ()
    if old_layouts is not None:
        layout_diffs = tuple(
            diff_layouts(old_layouts[g], layouts[g]) for g in layouts if g in old_layouts
        )
    return RunDiff(
        old_run=_run_info(old_run),
        new_run=_run_info(new_run),
        files=tuple(files),
        findings=delta,
        sources=_source_counts(old_run, new_run),
        outputs=_output_counts(old_o, new_o, order),
        layouts=layout_diffs,
        lists=tuple(lists),
    )


def _findings(run: RunFolder) -> pl.DataFrame:
    try:
        return run.findings()
    except RunFolderError as exc:
        raise DiffError(exc.path, exc.reason) from exc
