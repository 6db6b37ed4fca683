"""The V2.1 files of a package: copied, hashed and checked in one read each.

Each file is copied into the staged package while it is hashed and fed to its streaming Table
Schema check (etl.package.table_stream); its resource then carries the layout's schema minus the
constraints the data already breaks (each one a recorded finding of the run, listed).
"""

from __future__ import annotations

import os
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from etl.layout import Layout, RecordFile
from etl.package.archive import CHUNK
from etl.package.descriptor import Resource, resource_name
from etl.package.errors import PackageError
from etl.package.schema import relax_schema, table_fields
from etl.package.table_stream import TableStream
from etl.paths import NotARegularFile, open_regular
from etl.run_folder import OutputEntry, RunFolder
from etl.write import copy_staged


class RunRecordFile(NamedTuple):
    """A V2.1 record file of the run to seal: its manifest.json entry, its layout and its
    RecordFile."""

    output: OutputEntry
    layout: Layout
    record_file: RecordFile


@dataclass(slots=True)
class SealedTables:
    resources: list[Resource] = field(default_factory=list)
    relaxed: list[dict[str, Any]] = field(default_factory=list)  # constraints left out
    counts: dict[str, int] = field(default_factory=dict)  # package path → records


def copy_hashed(
    run: RunFolder, rel: str, dest: Path, table: TableStream | None = None
) -> tuple[int, str]:
    """Byte copy of a file of the run (a regular file below the run folder, no link followed:
    a FIFO put there must not make packaging wait forever) that hashes on the way, one read of
    the source; a table's bytes are also fed to its streaming check."""
    with run.open_file(rel) as fin:
        written = copy_staged(fin, dest, chunk=CHUNK, feed=None if table is None else table.feed)
    if table is not None:
        table.close()
    return written.bytes, written.sha256


def copy_file_hashed(src: Path, dest: Path) -> tuple[int, str]:
    """Byte copy of a regular file outside any run (an older run's gaiji table, named by
    --vendor), hashed on the way."""
    try:
        fd = open_regular(src)
    except NotARegularFile as exc:
        raise PackageError(src, exc.why.value) from None
    with os.fdopen(fd, "rb") as fin:
        written = copy_staged(fin, dest, chunk=CHUNK)
    return written.bytes, written.sha256


def seal_v21_files(
    run: RunFolder,
    stage: Path,
    record_files: list[RunRecordFile],
    encoding: str,
    eol: str,
    pool: Executor,
) -> SealedTables:
    """Copy every V2.1 file of the run into ``stage``/data; PackageError if one is not what the
    run's manifest says (hash) or not its layout's table (header, unreadable)."""
    checks = [
        TableStream(table_fields(rf, lay.code_tables), rf.key, encoding, pool)
        for _, lay, rf in record_files
    ]
    copies = [
        pool.submit(copy_hashed, run, o.path, stage / "data" / o.path, check)
        for (o, _, _), check in zip(record_files, checks, strict=True)
    ]
    sealed = SealedTables()
    for (o, lay, rf), check, copy in zip(record_files, checks, copies, strict=True):
        rel = f"data/{o.path}"
        size, digest = copy.result()
        if (size, digest) != (o.bytes, o.sha256):
            raise PackageError(run.file(o.path), "differs from the run's manifest.json")
        done = check.outcome()
        if done.error:
            raise PackageError(run.file(o.path), done.error)
        if done.columns != rf.item_names:
            raise PackageError(
                run.file(o.path), f"header is not the layout's 項目名: {done.columns}"
            )
        fields, pkey = relax_schema(table_fields(rf, lay.code_tables), rf.key, done.violations)
        sealed.relaxed += [
            {"resource": rel, "field": v.field, "constraint": v.constraint, "rows": v.rows}
            for v in done.violations
        ]
        sealed.counts[rel] = done.records
        meta = {
            "gyomu": lay.id,
            "gyomuName": lay.name,
            "recordFile": rf.id,
            "recordFileName": rf.name,
            "records": done.records,
        }
        sealed.resources.append(
            Resource(
                resource_name(f"{lay.id}-{rf.id}"),
                rel,
                size,
                digest,
                encoding,
                eol,
                fields,
                pkey,
                meta,
            )
        )
    return sealed
