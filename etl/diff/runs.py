"""Diff two run output folders as written by etl.pipeline.run_job (manifest.json + V2.1 files).

Record files are CSV or Parquet (``chukan run --output-format``); both are read as String
columns, so a CSV run and a Parquet run of the same data have no differences.
"""

from __future__ import annotations

import dataclasses
import io
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from etl.diff.errors import DiffError
from etl.diff.findings_delta import findings_delta, read_findings_csv
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
from etl.pipeline.manifest import RunFolderError, read_run_meta
from etl.pipeline.manifest import read_manifest as read_run_manifest
from etl.write import PARQUET_SUFFIX

READ_ENCODINGS = ("utf-8", "utf-8-sig", "cp932")


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """The run's manifest (etl.pipeline.manifest reads it), failures as DiffError."""
    try:
        return read_run_manifest(run_dir)
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


def _run_info(run_dir: Path, m: dict[str, Any]) -> RunInfo:
    # run.json exists for runs of a project pass; one-off runs have only the manifest
    meta = read_run_meta(run_dir)
    return RunInfo(
        path=str(run_dir),
        pass_name=str(meta.get("pass", "")),
        run_id=str(meta.get("run_id", run_dir.name)),
        created_at=str(m.get("created_at", "")),
        vendor=str(m.get("vendor", "")),
        layout_version=str(m.get("layout_version", "")),
        tool_version=str(m.get("tool", {}).get("version", "")),
        output_encoding=str(m.get("output", {}).get("encoding", "utf-8")),
    )


def _pair(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None, name: str) -> CountPair:
    return CountPair(
        old=None if old is None else int(old.get(name, 0)),
        new=None if new is None else int(new.get(name, 0)),
    )


def _reasons(
    old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
) -> tuple[ReasonCount, ...]:
    o = (old or {}).get("filtered", {})
    n = (new or {}).get("filtered", {})
    return tuple(
        ReasonCount(
            reason=r,
            count=CountPair(
                old=None if old is None else int(o.get(r, 0)),
                new=None if new is None else int(n.get(r, 0)),
            ),
        )
        for r in sorted({*o, *n})
    )


def _source_counts(old_m: dict[str, Any], new_m: dict[str, Any]) -> tuple[SourceCounts, ...]:
    old_s = {s["name"]: s for s in old_m.get("sources", [])}
    new_s = {s["name"]: s for s in new_m.get("sources", [])}
    names = list(dict.fromkeys([*old_s, *new_s]))
    return tuple(
        SourceCounts(
            name=n,
            records_in=_pair(old_s.get(n), new_s.get(n), "records_in"),
            data_records=_pair(old_s.get(n), new_s.get(n), "data_records"),
            rejected=_pair(old_s.get(n), new_s.get(n), "rejected"),
            filtered=_reasons(old_s.get(n), new_s.get(n)),
        )
        for n in names
    )


def _outputs(m: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(o["gyomu"], o["record_file"]): o for o in m["outputs"]}


def _output_counts(
    old_o: dict[tuple[str, str], dict[str, Any]],
    new_o: dict[tuple[str, str], dict[str, Any]],
    order: list[tuple[str, str]],
) -> tuple[OutputCounts, ...]:
    return tuple(
        OutputCounts(
            gyomu=g,
            record_file=rf,
            source_data_records=_pair(
                old_o.get((g, rf)), new_o.get((g, rf)), "source_data_records"
            ),
            written=_pair(old_o.get((g, rf)), new_o.get((g, rf)), "written"),
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
    run_dir: Path,
    outputs: dict[tuple[str, str], dict[str, Any]],
    key: tuple[str, str],
    encoding: str,
    record_file: RecordFile,
    scratch: Path,
) -> tuple[pl.LazyFrame, tuple[str, ...]]:
    if key not in outputs:
        return _empty(record_file), ()
    frame = scan_output(run_dir / outputs[key]["path"], encoding, scratch)
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
    old_m, new_m = read_manifest(old_dir), read_manifest(new_dir)
    old_info, new_info = _run_info(old_dir, old_m), _run_info(new_dir, new_m)
    old_o, new_o = _outputs(old_m), _outputs(new_m)
    order = _file_order(layouts, {*old_o, *new_o})
    files: list[FileDiff] = []
    lists: list[ChangeLists] = []
    with tempfile.TemporaryDirectory(prefix="chukan-diff-") as tmp:
        for key in order:
            rf = _record_file(layouts, *key)
            scratch = Path(tmp)
            old, old_missing = _side(old_dir, old_o, key, old_info.output_encoding, rf, scratch)
            new, new_missing = _side(new_dir, new_o, key, new_info.output_encoding, rf, scratch)
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

    delta = findings_delta(_findings(old_dir, old_m), _findings(new_dir, new_m), samples)
    layout_diffs: tuple[LayoutDiff, ...] = ()
    if old_layouts is not None:
        layout_diffs = tuple(
            diff_layouts(old_layouts[g], layouts[g]) for g in layouts if g in old_layouts
        )
    return RunDiff(
        old_run=old_info,
        new_run=new_info,
        files=tuple(files),
        findings=delta,
        sources=_source_counts(old_m, new_m),
        outputs=_output_counts(old_o, new_o, order),
        layouts=layout_diffs,
        lists=tuple(lists),
    )


def _findings(run_dir: Path, manifest: dict[str, Any]) -> pl.DataFrame:
    name = manifest.get("findings", {}).get("file", "findings.csv")
    return read_findings_csv(run_dir / name)
