"""Atomic, owner-only writes: a reader sees the old file, the new file, or nothing — never half.

Outputs carry personal data, so files are 0600 and folders 0700 from the moment they exist,
whatever the umask. Only what chukan creates gets these modes: an existing folder (a shared
1777 parent, a 0555 one) is never chmod-ed.

Housekeeping may remove only what it can prove is its own leftover. A staging folder carries a
marker file (``.chukan-stage``) that its writer holds an ``flock`` on for as long as it works;
the kernel drops the lock when the writer dies, even by SIGKILL. So a folder whose marker says
"chukan" and whose lock can be taken is a dead writer's leftover (``sweep_stale``); anything
else — a package folder, a stage another process is still filling, a file the user put there —
is left alone.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import functools
import hashlib
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from etl.errors import WriteError

FILE_MODE = 0o600
DIR_MODE = 0o700

STAGE_MARKER = ".chukan-stage"  # inside a staging folder while its writer is alive
PARTIAL_MARK = ".partial-"  # a staging folder is named .<final>.partial-<random>
OLD_MARK = ".old-"  # a replaced folder waiting for removal: .<final>.old-<random>
_MAGIC = b"chukan staging marker v1\n"


@dataclass(frozen=True, slots=True)
class WrittenFile:
    path: Path
    bytes: int
    sha256: str


def _write_error(path: Path, exc: OSError, doing: str) -> WriteError:
    cause = exc.strerror or str(exc)
    hint = " (read-only?)" if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS) else ""
    return WriteError(f"{path}: cannot {doing}: {cause}{hint}")


def _fchmod_dir(path: Path, mode: int) -> None:
    # through an fd opened without following symlinks: a folder swapped for a symlink between
    # mkdir and chmod must not hand our mode to whatever it points at
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


def make_private_dir(path: Path) -> list[Path]:
    """Create ``path`` and any missing parents, each 0700; return the folders created.

    Folders that already exist keep their mode: chukan does not own them.
    """
    missing: list[Path] = []
    probe = path
    while not os.path.lexists(probe) and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    created: list[Path] = []
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # made at the same moment by someone else: theirs, not ours
        except OSError as exc:
            raise _write_error(folder, exc, "create the folder") from exc
        try:
            _fchmod_dir(folder, DIR_MODE)  # mkdir's mode went through the umask
        except OSError as exc:
            raise _write_error(folder, exc, "make the folder owner-only") from exc
        created.append(folder)
    if not path.is_dir():
        raise WriteError(f"{path}: cannot create the folder: something else is in the way")
    return created


# Write-back started while a staged file grows. A large machine's page cache holds a whole run's
# outputs (≈0.5 GB on 1M persons, below vm.dirty_background_ratio) until the fsync at publish,
# which then waits on the disk with every core idle. Every WRITEBACK_STEP bytes the pages just
# written are queued for the disk (sync_file_range SYNC_FILE_RANGE_WRITE: it neither waits for
# them nor for earlier ones), so the disk works while the run computes and publish's fsync
# waits for the last step only. The fsync remains the durability guarantee: this only moves
# the disk's work earlier.
WRITEBACK_STEP = 8 << 20
_SYNC_FILE_RANGE_WRITE = 2  # <linux/fs.h>


@functools.cache
def _sync_file_range() -> Callable[[int, int, int, int], int] | None:
    """libc's sync_file_range (Linux only; a ctypes call releases the GIL while the kernel
    queues the pages), or None where there is none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        call = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    call.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    call.restype = ctypes.c_int
    return call


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Queue ``length`` bytes of ``fd`` from ``offset`` for the disk without waiting.

    A refusal (a file system or kernel without it) is ignored: the data is still synced by
    the fsync that every publish does, only later.
    """
    call = _sync_file_range()
    if call is not None and length > 0:
        call(fd, offset, length, _SYNC_FILE_RANGE_WRITE)


def _cause(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def write_bytes_atomic(path: Path, data: bytes) -> WrittenFile:
    """Write ``data`` to a temp file beside ``path``, fsync, then rename over it."""
    make_private_dir(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _write_error(path, exc, "write") from exc
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise _write_error(path, exc, "write") from exc
    return WrittenFile(path, len(data), hashlib.sha256(data).hexdigest())


class StagedFile:
    """A file written piece by piece beside ``path`` and renamed over it when complete.

    Owner-only from its creation; the SHA-256 and size of what was appended are kept as it
    grows, so publishing needs no second read. Until ``publish`` it is a hidden temp file that
    ``discard`` (or the removal of the staging folder it lives in) takes away: a reader sees the
    whole file or none.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        make_private_dir(path.parent)
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        except OSError as exc:
            raise _write_error(path, exc, "write") from exc
        self.temp = Path(tmp)
        self._hash = hashlib.sha256()
        self.bytes = 0
        self._queued = 0  # bytes handed to the disk's write-back (start_writeback) so far
        self._fh = os.fdopen(fd, "wb")
        try:
            os.fchmod(fd, FILE_MODE)
        except OSError as exc:
            self.discard()
            raise _write_error(path, exc, "write") from exc

    # what a writer given a file object asks of it (pyarrow's ParquetWriter)
    def tell(self) -> int:
        return self.bytes

    @property
    def closed(self) -> bool:
        return self._fh.closed

    def flush(self) -> None:
        pass  # publish flushes and syncs once

    def write(self, data: bytes) -> int:
        try:
            self._fh.write(data)
        except OSError as exc:
            self.discard()
            raise _write_error(self.path, exc, "write") from exc
        self._hash.update(data)
        self.bytes += len(data)
        if self.bytes - self._queued >= WRITEBACK_STEP:
            self._start_writeback()
        return len(data)

    def _start_writeback(self) -> None:
        try:
            self._fh.flush()  # what the buffer holds goes to the page cache first
        except OSError as exc:
            self.discard()
            raise _write_error(self.path, exc, "write") from exc
        start_writeback(self._fh.fileno(), self._queued, self.bytes - self._queued)
        self._queued = self.bytes

    def publish(self) -> WrittenFile:
        """fsync and rename into place; the file's size and SHA-256."""
        try:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            os.replace(self.temp, self.path)
        except OSError as exc:
            self.discard()
            raise _write_error(self.path, exc, "write") from exc
        return WrittenFile(self.path, self.bytes, self._hash.hexdigest())

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self._fh.close()
        with contextlib.suppress(OSError):
            os.unlink(self.temp)


def copy_staged(
    source: BinaryIO,
    dest: Path,
    *,
    chunk: int = 1 << 20,
    feed: Callable[[bytes], None] | None = None,
) -> WrittenFile:
    """Copy what is left of ``source`` to ``dest`` through a StagedFile: owner-only, hashed as
    written (one read of the source), synced and renamed into place whole; ``feed`` sees every
    block too. A failed read (an OSError, the caller's to name) leaves nothing behind."""
    staged = StagedFile(dest)
    try:
        while block := source.read(chunk):
            staged.write(block)
            if feed is not None:
                feed(block)
    except BaseException:
        staged.discard()
        raise
    return staged.publish()


class OwnerMarker:
    """A marker file that says "a live chukan process owns this folder" while it is held.

    Locked, and only then given its content, so a sweeper that finds it unlocked *and* with
    content knows its owner has died. On Linux it is made unnamed (O_TMPFILE), filled and only
    then linked in: it appears whole, so a kill never leaves an empty marker, which no sweeper
    could prove to be ours. Elsewhere it is created with O_EXCL and filled in place.
    """

    def __init__(self, folder: Path, name: str = STAGE_MARKER) -> None:
        self.path = folder / name
        self._fd: int | None = _linked_marker(folder, name)
        if self._fd is not None:
            return
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
        try:
            _fill_marker(self._fd)
        except BaseException:
            self.release()
            raise

    def release(self, *, unlink: bool = True) -> None:
        """Remove the marker (when asked) and drop the lock."""
        if self._fd is None:
            return
        if unlink:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        os.close(self._fd)
        self._fd = None

    def moved_to(self, folder: Path) -> None:
        """The folder holding the marker was renamed; the lock stays (it is on the inode)."""
        self.path = folder / self.path.name


def _fill_marker(fd: int) -> None:
    os.fchmod(fd, FILE_MODE)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, _MAGIC + f"pid {os.getpid()}\n".encode())


def _linked_marker(folder: Path, name: str) -> int | None:
    """The marker made unnamed, filled and locked, then linked in as ``folder/name``; None
    where the system or the file system cannot (the caller makes it in place)."""
    if not hasattr(os, "O_TMPFILE") or not os.path.isdir("/proc/self/fd"):
        return None
    try:
        fd = os.open(folder, os.O_TMPFILE | os.O_RDWR, FILE_MODE)
    except OSError as exc:
        if exc.errno in (errno.EOPNOTSUPP, errno.EISDIR):
            return None
        raise
    try:
        _fill_marker(fd)
        _link_in(fd, folder, name)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EXDEV, errno.EPERM, errno.EOPNOTSUPP):
            return None
        raise
    except BaseException:
        os.close(fd)
        raise
    return fd


def _link_in(fd: int, folder: Path, name: str) -> None:
    """Give the unnamed file ``fd`` the name ``folder/name`` (linkat with AT_SYMLINK_FOLLOW
    through /proc: a dir fd makes os.link call linkat rather than link)."""
    dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        os.link(f"/proc/self/fd/{fd}", name, dst_dir_fd=dir_fd, follow_symlinks=True)
    finally:
        os.close(dir_fd)


def marker_is_stale(folder: Path, name: str = STAGE_MARKER) -> bool:
    """True when ``folder`` holds a marker written by chukan whose owner is no longer alive."""
    path = folder / name
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False  # no marker (or a symlink, or unreadable): not provably ours
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # its owner is alive and working
        return os.pread(fd, len(_MAGIC), 0) == _MAGIC
    finally:
        os.close(fd)  # drops our probe lock


def sweep_stale(folder: Path, *, of: str | None = None) -> list[Path]:
    """Remove the hidden staging and replaced folders in ``folder`` whose writer has died.

    Only ``.<name>.partial-*`` / ``.<name>.old-*`` folders (not symlinks) holding a stale chukan
    marker, or nothing at all (made, then killed before its marker went in), are removed (only
    those of ``<name>`` = ``of`` when given); everything else in ``folder`` is left as it is.
    """
    removed: list[Path] = []
    try:
        entries = sorted(folder.iterdir())
    except FileNotFoundError:
        return removed
    except OSError as exc:
        raise _write_error(folder, exc, "list the folder") from exc
    for entry in entries:
        name = entry.name
        if not name.startswith(".") or (PARTIAL_MARK not in name and OLD_MARK not in name):
            continue
        if of is not None and not name.startswith((f".{of}{PARTIAL_MARK}", f".{of}{OLD_MARK}")):
            continue
        if entry.is_symlink() or not entry.is_dir():
            continue
        if _removed_if_empty(entry):  # made, then killed before its marker: nothing in it
            removed.append(entry)
            continue
        if not marker_is_stale(entry):
            continue
        try:
            shutil.rmtree(entry)
        except OSError as exc:
            if not os.path.lexists(entry):
                continue  # another sweeper removed it at the same moment
            raise _write_error(entry, exc, "remove an interrupted run's leftover") from exc
        removed.append(entry)
    return removed


def _removed_if_empty(folder: Path) -> bool:
    """Remove ``folder`` if it is empty (rmdir refuses anything else, atomically)."""
    try:
        folder.rmdir()
    except OSError:
        return False
    return True


def _new_stage(final: Path, mark: str) -> tuple[Path, OwnerMarker]:
    # A sweeper removes a stage that is still empty (its maker may have been killed before
    # the marker went in): then this one is made again.
    for _ in range(100):
        stage = Path(tempfile.mkdtemp(prefix=f".{final.name}{mark}", dir=final.parent))
        try:
            _fchmod_dir(stage, DIR_MODE)
            return stage, OwnerMarker(stage)
        except FileNotFoundError:
            if stage.exists():
                raise
        except BaseException:
            _removed_if_empty(stage)  # still empty: an unmarked stage is only swept by rmdir
            raise
    raise OSError(errno.ENOENT, "the new folder kept being removed", str(final.parent))


@contextlib.contextmanager
def staged_dir(final: Path, *, replace: bool) -> Iterator[Path]:
    """Build a whole output folder in a hidden sibling and rename it into place at the end.

    An interrupted run leaves only the hidden ``.<name>.partial-*`` folder (removed by the next
    ``sweep_stale`` of its parent, or the next staging of the same ``final``), never a
    half-written ``final``. An existing ``final`` is an
    error unless ``replace`` is set. The parent is created owner-only when missing and left as
    it is when it exists.
    """
    try:
        exists = final.exists()
    except OSError as exc:
        raise _write_error(final, exc, "look at the folder") from exc
    if exists and not replace:
        raise WriteError(f"{final} already exists; choose another --out or pass --replace")
    make_private_dir(final.parent)
    sweep_stale(final.parent, of=final.name)  # what a killed writer of the same folder left
    try:
        stage, marker = _new_stage(final, PARTIAL_MARK)
    except OSError as exc:
        raise _write_error(final.parent, exc, "create a folder") from exc
    try:
        yield stage
        _publish(stage, final, marker)
    except (OSError, WriteError) as exc:  # a write into the stage failed (disk full, perms …)
        shutil.rmtree(stage, ignore_errors=True)
        marker.release(unlink=False)
        # name the file as it would have been published, not its place in the removed stage
        if isinstance(exc, WriteError):
            raise WriteError(str(exc).replace(str(stage), str(final))) from exc
        where = str(exc.filename or final).replace(str(stage), str(final), 1)
        raise WriteError(f"{where}: {_cause(exc)} (while writing {final})") from exc
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        marker.release(unlink=False)
        raise


def _publish(stage: Path, final: Path, marker: OwnerMarker) -> None:
    # the marker leaves just before the rename: a published folder never holds one
    marker.release()
    try:
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{final.name}{OLD_MARK}", dir=final.parent))
            final.replace(old)  # onto the empty placeholder: a folder may replace an empty one
            old_marker = OwnerMarker(old)  # so that a kill before the rmtree leaves a sweepable
            try:
                stage.rename(final)
            except OSError:
                old_marker.release()
                old.replace(final)  # put the previous version back
                raise
            shutil.rmtree(old)
            old_marker.release(unlink=False)
        else:
            stage.rename(final)
        _sync_dir(final.parent)  # the rename itself, durable (the files were synced before)
    except OSError as exc:
        raise _write_error(final, exc, "publish the folder") from exc


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()
