"""The V2.1 files of a package: copied, hashed and checked in one read each.

Each file is copied into the staged package while it is hashed and fed to its streaming Table
Schema check (etl.package.table_stream); its resource then carries the layout's schema minus the
constraints the data already breaks (each one a recorded finding of the run, listed).
"""

from __future__ import annotations

import hashlib
import os
import stat
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from etl.layout import Layout, RecordFile
from etl.package.archive import CHUNK
from etl.package.descriptor import Resource, resource_name
from etl.package.errors import PackageError
from etl.package.schema import relax_schema, table_fields
from etl.package.table_stream import TableStream
from etl.paths import inside
from etl.write import FILE_MODE

Target = tuple[dict[str, Any], Layout, RecordFile]  # manifest output, its layout, its file


@dataclass(slots=True)
class SealedTables:
    resources: list[Resource] = field(default_factory=list)
    relaxed: list[dict[str, Any]] = field(default_factory=list)  # constraints left out
    counts: dict[str, int] = field(default_factory=dict)  # package path → records


def _open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading if it is a regular file (not a symlink): a FIFO put into a
    run folder must not make packaging wait forever."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError as exc:
        raise PackageError(path, f"cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise PackageError(path, "not a regular file; a run folder holds the files chukan wrote")
    return os.fdopen(fd, "rb")


def copy_hashed(src: Path, dest: Path, table: TableStream | None = None) -> tuple[int, str]:
    """Byte copy that hashes on the way (one read of the source); a table's bytes are also fed
    to its streaming check."""
    h, size = hashlib.sha256(), 0
    with _open_regular(src) as fin, dest.open("xb") as fout:
        dest.chmod(FILE_MODE)
        while block := fin.read(CHUNK):
            h.update(block)
            fout.write(block)
            size += len(block)
            if table is not None:
                table.feed(block)
    if table is not None:
        table.close()
    return size, h.hexdigest()


def seal_v21_files(
    run_dir: Path, stage: Path, targets: list[Target], encoding: str, eol: str, pool: Executor
) -> SealedTables:
    """Copy every V2.1 file of the run into ``stage``/data; PackageError if one is not what the
    run's manifest says (hash) or not its layout's table (header, unreadable)."""
    checks = [
        TableStream(table_fields(rf, lay.code_tables), rf.key, encoding, pool)
        for _, lay, rf in targets
    ]
    manifest = run_dir / "manifest.json"
    for o, _, _ in targets:  # a path from the manifest stays in the run folder
        inside(run_dir, o["path"], config=manifest, key="outputs[].path")
    copies = [
        pool.submit(copy_hashed, run_dir / o["path"], stage / "data" / o["path"], check)
        for (o, _, _), check in zip(targets, checks, strict=True)
    ]
    sealed = SealedTables()
    for (o, lay, rf), check, copy in zip(targets, checks, copies, strict=True):
        rel = f"data/{o['path']}"
        size, digest = copy.result()
        if digest != o["sha256"]:
            raise PackageError(run_dir / o["path"], "differs from the run's manifest.json")
        done = check.outcome()
        if done.error:
            raise PackageError(run_dir / o["path"], done.error)
        if done.columns != rf.item_names:
            raise PackageError(
                run_dir / o["path"], f"header is not the layout's 項目名: {done.columns}"
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
