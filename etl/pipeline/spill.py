"""Frames a streaming run keeps beyond a chunk, waiting on disk until the stream has gone by.

Held in memory between chunks, interleaved with each chunk's short-lived buffers, the kept
columns (the whole-file rules' columns of every record, a lookup side's fields) raised the peak
RSS by ≈1.6× their own size; written out per chunk and read back together once no chunk is in
flight, they cost their size once (benchmarks/README.md, bench_scale).
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import threading
from pathlib import Path

import polars as pl


class Spill:
    """Arrow IPC files (exact dtypes and nulls) in a hidden owner-only folder of ``parent``
    (the run's stage), created with the first frame; ``remove`` deletes it, so it is never
    published. ``put`` may be called from several threads."""

    def __init__(self, parent: Path) -> None:
        self._parent = parent
        self._folder: Path | None = None
        self._numbers = itertools.count()
        self._lock = threading.Lock()

    def put(self, frame: pl.DataFrame) -> Path:
        with self._lock:
            if self._folder is None:  # mkdtemp: mode 0700
                self._folder = Path(tempfile.mkdtemp(prefix=".kept-", dir=self._parent))
            path = self._folder / f"{next(self._numbers):06d}.arrow"
        frame.write_ipc(path, compression="uncompressed")
        return path

    @staticmethod
    def read(paths: list[Path], empty: pl.DataFrame) -> pl.DataFrame:
        """The frames of ``paths`` one after the other (``empty`` when there are none); read
        whole, not mapped, since the files go with ``remove``."""
        frames = [pl.read_ipc(path.read_bytes()) for path in paths]
        return pl.concat(frames) if frames else empty

    def remove(self) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
