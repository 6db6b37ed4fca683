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

from etl.errors import WriteError
from etl.export.errors import ExportLocked
from etl.write import FILE_MODE, make_private_dir

LOCK_FILE = ".lock"


def _open_lock(path: Path) -> int:
    flags = os.O_RDWR | os.O_NOFOLLOW
    try:
        fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return os.open(path, flags)  # an earlier export's: its mode is its own
    try:
        os.fchmod(fd, FILE_MODE)  # ours: O_CREAT's mode went through the umask
    except OSError:
        os.close(fd)
        raise
    return fd


@contextlib.contextmanager
def export_lock(exports_dir: Path) -> Iterator[None]:
    """Hold the project's export lock, or raise ExportLocked at once."""
    make_private_dir(exports_dir)  # owner-only when chukan creates it; an existing one is kept
    path = exports_dir / LOCK_FILE
    try:
        fd = _open_lock(path)
    except OSError as exc:
        raise WriteError(f"{path}: cannot open the export lock: {exc.strerror or exc}") from exc
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
