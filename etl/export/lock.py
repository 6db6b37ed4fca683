"""One export per project at a time: ``flock`` on exports/.lock, never waiting.

flock rather than an O_EXCL pid file: the kernel drops the lock when the holder dies (even by
SIGKILL), so a killed export never leaves a stale lock that staff must remove by hand.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from etl.export.errors import ExportLocked
from etl.load.atomic import FILE_MODE, make_private_dir

LOCK_FILE = ".lock"


@contextlib.contextmanager
def export_lock(exports_dir: Path) -> Iterator[None]:
    """Hold the project's export lock, or raise ExportLocked at once."""
    make_private_dir(exports_dir)
    path = exports_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
            raise ExportLocked(path, f"pid {holder}" if holder.isdigit() else holder) from None
        # the pid is only a hint for the message above; the lock is the flock itself
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the flock
