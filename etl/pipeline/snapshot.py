"""A run's snapshot of what it was made from, taken: the vendor folder and the standard's layouts.

A run keeps a private copy of the vendor folder (source.yaml, mapping specs, code tables, gaiji
table) under ``vendor/`` and of the layouts under ``standard/<version>/``, each file listed with
its SHA-256 in manifest.json (``snapshot``). Later commands (package, load, export) use these
copies through etl.run_folder.snapshot, never the vendor folder found by name, which may have
moved or changed since.

The folders are hashed when the job starts and copied (hashed again) when it writes: a file
that changed in between is an error, so the copy is what the job read.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from etl.run_folder import (
    STANDARD_SNAPSHOT,
    VENDOR_SNAPSHOT,
    FileRef,
    KeptFolder,
    KeptVendorFolder,
    Snapshot,
    SnapshotError,
)
from etl.write import copy_staged, make_private_dir

# A vendor folder holds specs and tables (kilobytes); a folder far beyond that is a wrong
# vendor path (a project root, a dump folder), refused before anything is copied.
MAX_FILES = 2_000
MAX_BYTES = 64 << 20
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class SnapshotFile:
    rel: str  # path inside the snapshotted folder, POSIX
    bytes: int
    sha256: str


@dataclass(frozen=True, slots=True)
class FolderInputs:
    """A folder's regular files and their hashes, as found when the job started."""

    folder: Path
    files: tuple[SnapshotFile, ...]

    def contains(self, path: Path) -> str | None:
        """``path``'s name inside the folder when it is one of its files, else None."""
        try:
            rel = path.resolve().relative_to(self.folder.resolve()).as_posix()
        except ValueError:
            return None
        return rel if any(f.rel == rel for f in self.files) else None


def _hash(path: Path) -> tuple[int, str]:
    h, size = hashlib.sha256(), 0
    try:
        with path.open("rb") as fh:
            while block := fh.read(_CHUNK):
                h.update(block)
                size += len(block)
    except OSError as exc:
        raise SnapshotError(path, f"cannot be read: {exc.strerror or exc}") from exc
    return size, h.hexdigest()


def _regular_files(folder: Path) -> list[Path]:
    """Regular files under ``folder``, sorted; hidden entries, __pycache__, symlinked folders
    and special files (a FIFO would block the read) are not part of a vendor folder."""
    found: list[Path] = []

    def refuse(exc: OSError) -> None:
        raise SnapshotError(exc.filename or folder, f"cannot be listed: {exc.strerror or exc}")

    for root, dirs, names in os.walk(folder, onerror=refuse, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        for name in sorted(names):
            path = Path(root) / name
            try:
                regular = not name.startswith(".") and stat.S_ISREG(path.stat().st_mode)
            except OSError:
                regular = False  # a dangling symlink: nothing the job could have read
            if regular:
                found.append(path)
                if len(found) > MAX_FILES:
                    raise SnapshotError(
                        folder, f"holds more than {MAX_FILES:,} files; is it the vendor folder?"
                    )
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def read_inputs(folder: Path) -> FolderInputs:
    """Hash every file of ``folder`` (bounded: MAX_FILES, MAX_BYTES)."""
    if not folder.is_dir():
        raise SnapshotError(folder, "folder not found")
    files, total = [], 0
    for path in _regular_files(folder):
        size, digest = _hash(path)
        total += size
        if total > MAX_BYTES:
            raise SnapshotError(
                folder,
                f"holds more than {MAX_BYTES >> 20} MiB; a vendor folder holds source.yaml,"
                " mapping specs and tables only",
            )
        files.append(SnapshotFile(path.relative_to(folder).as_posix(), size, digest))
    return FolderInputs(folder, tuple(files))


def _copy(src: Path, dest: Path) -> tuple[int, str]:
    try:
        with src.open("rb") as fin:
            written = copy_staged(fin, dest, chunk=_CHUNK)
    except OSError as exc:
        raise SnapshotError(src, f"cannot be kept in the run: {exc.strerror or exc}") from exc
    return written.bytes, written.sha256


def _write_copy(stage: Path, rel_root: str, inputs: FolderInputs) -> tuple[FileRef, ...]:
    listed = []
    for f in inputs.files:
        size, digest = _copy(inputs.folder / f.rel, stage / rel_root / f.rel)
        if digest != f.sha256:
            raise SnapshotError(
                inputs.folder / f.rel, "changed while the run read it; run again once it is final"
            )
        listed.append(FileRef(path=f"{rel_root}/{f.rel}", bytes=size, sha256=digest))
    return tuple(listed)


def kept_name(vendor: FolderInputs, gaiji_table: Path | None) -> str | None:
    """The gaiji table's path in the run's snapshot; it must be one of the vendor folder's
    files (checked before the job reads any data, so it fails fast)."""
    if gaiji_table is None:
        return None
    rel = vendor.contains(gaiji_table)
    if rel is None:
        raise SnapshotError(
            gaiji_table,
            f"the gaiji table must be a file inside the vendor folder {vendor.folder},"
            " so that each run keeps the table it used",
        )
    return f"{VENDOR_SNAPSHOT}/{rel}"


def write_snapshot(
    stage: Path,
    vendor: FolderInputs,
    gaiji_table: str | None,
    standard: FolderInputs,
    layout_version: str,
) -> Snapshot:
    """Copy both folders into the staged run (0600/0700); the manifest's ``snapshot`` section.
    ``gaiji_table`` is the table's path in the snapshot (``kept_name``)."""
    make_private_dir(stage / STANDARD_SNAPSHOT)
    kept_standard = f"{STANDARD_SNAPSHOT}/{layout_version}"
    return Snapshot(
        vendor=KeptVendorFolder(
            gaiji_table=gaiji_table,
            path=VENDOR_SNAPSHOT,
            files=_write_copy(stage, VENDOR_SNAPSHOT, vendor),
        ),
        standard=KeptFolder(path=kept_standard, files=_write_copy(stage, kept_standard, standard)),
    )
