"""Frames a streaming run keeps beyond a chunk, waiting on disk until the stream has gone by.

Held in memory between chunks, interleaved with each chunk's short-lived buffers, the kept
columns (the whole-file rules' columns of every record, a lookup side's fields) raised the peak
RSS by ≈1.6× their own size; written out per chunk and read back together once no chunk is in
flight, they cost their size once (benchmarks/README.md, bench_scale). The whole-file checks
do not read them back whole: each chunk's file holds the digests of its kept columns beside
them (made as it is spilled, etl.pipeline.chunks), a pass over the files reads those columns
only (``read`` with ``columns``), and ``Spilled`` reads back the kept columns of the rows the
digests find suspect (etl.validate.whole_file).
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import threading
from pathlib import Path

import polars as pl

from etl.findings import detached


class Spill:
    """Arrow IPC files (exact dtypes and nulls) in a hidden owner-only folder of ``parent``
    (the run's stage), created with the first frame; ``remove`` deletes it, so it is never
    published. ``put`` may be called from several threads."""

    def __init__(self, parent: Path) -> None:
        self._parent = parent
        self._folder: Path | None = None
        self._numbers = itertools.count()
        self._lock = threading.Lock()

    def folder(self) -> Path:
        """The spill's folder, created on first use; what else is written into it (the chunk
        tasks' files) goes with it."""
        with self._lock:
            if self._folder is None:  # mkdtemp: mode 0700
                self._folder = Path(tempfile.mkdtemp(prefix=".kept-", dir=self._parent))
            return self._folder

    def put(self, frame: pl.DataFrame) -> Path:
        folder = self.folder()
        with self._lock:
            path = folder / f"{next(self._numbers):06d}.arrow"
        frame.write_ipc(path, compression="uncompressed")
        return path

    @staticmethod
    def read(
        paths: list[Path], empty: pl.DataFrame, columns: list[str] | None = None
    ) -> pl.DataFrame:
        """The frames of ``paths`` one after the other (``empty`` when there are none), only
        their ``columns`` if given, read as one scan (in parallel, only those columns' bytes)."""
        return _scan(paths, columns).collect() if paths else empty

    def remove(self) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)


def _scan(paths: list[Path], columns: list[str] | None) -> pl.LazyFrame:
    # polars copies what it reads into its own buffers (nothing stays mapped: checked in
    # tests/pipeline/test_spill.py), so the files may go with ``remove`` while it is kept
    scan = pl.scan_ipc(paths)
    return scan if columns is None else scan.select(columns)


class Spilled:
    """Frames spilled one after the other, read back by row position (an
    etl.validate.KeptValues): only the files that hold the rows asked for are read, and of
    them only ``columns`` (None: all; the files may hold more, the digests)."""

    def __init__(self, paths: list[Path], columns: list[str] | None = None) -> None:
        self._paths = list(paths)
        self._columns = columns
        self._heights: list[int] | None = None

    @property
    def columns(self) -> list[str]:
        return list(self._schema())

    def _schema(self) -> pl.Schema:
        schema = pl.Schema(pl.read_ipc_schema(self._paths[0]) if self._paths else {})
        if self._columns is None:
            return schema
        return pl.Schema({c: schema[c] for c in self._columns if c in schema})

    def rows(self, positions: pl.Series) -> pl.DataFrame:
        if positions.is_empty():
            return pl.DataFrame(schema=self._schema())
        if self._heights is None:  # from the files' metadata, not their data
            self._heights = [
                pl.scan_ipc(path).select(pl.len()).collect().item() for path in self._paths
            ]
        parts: list[pl.DataFrame] = []
        start = 0
        for path, height in zip(self._paths, self._heights, strict=True):
            bounds = pl.Series([start, start + height], dtype=positions.dtype)
            first, end = positions.search_sorted(bounds, "left").to_list()
            if end > first:  # its rows copied out, so the file's buffers go
                parts.append(
                    detached(_scan([path], self._columns).collect()[positions[first:end] - start])
                )
            start += height
        return pl.concat(parts) if parts else pl.DataFrame(schema=self._schema())
