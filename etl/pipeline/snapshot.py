"""A run's snapshot of what it was made from: the vendor folder and the standard's layouts.

A run keeps a private copy of the vendor folder (source.yaml, mapping specs, code tables, gaiji
table) under ``vendor/`` and of the layouts under ``standard/<version>/``, each file listed with
its SHA-256 in manifest.json (``snapshot``). Later commands (package, load, export) use these
copies, never the vendor folder found by name, which may have moved or changed since.

The folders are hashed when the job starts and copied (hashed again) when it writes: a file
that changed in between is an error, so the copy is what the job read.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from etl.errors import ChukanError
from etl.layout import Layout, load_layout_folder, load_layouts
from etl.write import FILE_MODE, make_private_dir

VENDOR_SNAPSHOT = "vendor"
STANDARD_SNAPSHOT = "standard"  # + /<layout version>/, shaped like layouts/<version>/
SNAPSHOT_KEY = "snapshot"  # manifest.json section

# A vendor folder holds specs and tables (kilobytes); a folder far beyond that is a wrong
# vendor path (a project root, a dump folder), refused before anything is copied.
MAX_FILES = 2_000
MAX_BYTES = 64 << 20
_CHUNK = 1 << 20


class SnapshotError(ChukanError):
    """A folder a run is made from cannot be kept, or a run's kept copy is missing or changed."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


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
    make_private_dir(dest.parent)
    h, size = hashlib.sha256(), 0
    try:
        with src.open("rb") as fin, dest.open("xb") as fout:
            dest.chmod(FILE_MODE)
            while block := fin.read(_CHUNK):
                h.update(block)
                fout.write(block)
                size += len(block)
    except OSError as exc:
        raise SnapshotError(src, f"cannot be kept in the run: {exc.strerror or exc}") from exc
    return size, h.hexdigest()


def _write_copy(stage: Path, rel_root: str, inputs: FolderInputs) -> dict[str, Any]:
    listed = []
    for f in inputs.files:
        size, digest = _copy(inputs.folder / f.rel, stage / rel_root / f.rel)
        if digest != f.sha256:
            raise SnapshotError(
                inputs.folder / f.rel, "changed while the run read it; run again once it is final"
            )
        listed.append({"path": f"{rel_root}/{f.rel}", "bytes": size, "sha256": digest})
    return {"path": rel_root, "files": listed}


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
) -> dict[str, Any]:
    """Copy both folders into the staged run (0600/0700); the manifest's ``snapshot`` section.
    ``gaiji_table`` is the table's path in the snapshot (``kept_name``)."""
    make_private_dir(stage / STANDARD_SNAPSHOT)
    return {
        "vendor": {"gaiji_table": gaiji_table, **_write_copy(stage, VENDOR_SNAPSHOT, vendor)},
        "standard": _write_copy(stage, f"{STANDARD_SNAPSHOT}/{layout_version}", standard),
    }


@dataclass(frozen=True, slots=True)
class KeptFile:
    """A file of a run's snapshot: where it is and what manifest.json says it holds."""

    path: Path
    bytes: int
    sha256: str

    def check(self) -> None:
        if not self.path.is_file():
            raise SnapshotError(self.path, "missing from the run's snapshot")
        size, digest = _hash(self.path)
        if (size, digest) != (self.bytes, self.sha256):
            raise SnapshotError(self.path, "differs from the run's manifest.json")


@dataclass(frozen=True, slots=True)
class RunSnapshot:
    """What a finished run kept. ``vendor`` is None for a run made before runs kept one."""

    run_dir: Path
    vendor: tuple[KeptFile, ...] | None
    gaiji_table: KeptFile | None
    standard: Path | None  # the kept layouts folder, None when the run has none
    standard_files: tuple[KeptFile, ...]  # empty for an older run's unlisted standard/


def _kept(run_dir: Path, section: Any, where: str) -> tuple[KeptFile, ...]:
    try:
        return tuple(
            KeptFile(run_dir / str(f["path"]), int(f["bytes"]), str(f["sha256"]))
            for f in section["files"]
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SnapshotError(
            run_dir / "manifest.json", f"malformed {SNAPSHOT_KEY}.{where}: {exc!r}"
        ) from exc


def read_snapshot(run_dir: Path, manifest: Mapping[str, Any]) -> RunSnapshot:
    """The snapshot manifest.json lists; older runs have none (their standard/ is unlisted)."""
    version = str(manifest.get("layout_version", ""))
    section = manifest.get(SNAPSHOT_KEY)
    if section is None:
        legacy = run_dir / STANDARD_SNAPSHOT / version
        return RunSnapshot(run_dir, None, None, legacy if legacy.is_dir() else None, ())
    if not isinstance(section, dict) or not {"vendor", "standard"} <= section.keys():
        raise SnapshotError(run_dir / "manifest.json", f"malformed {SNAPSHOT_KEY} section")
    vendor = _kept(run_dir, section["vendor"], "vendor")
    gaiji_rel = section["vendor"].get("gaiji_table")
    gaiji = None
    if gaiji_rel is not None:
        gaiji = next((f for f in vendor if f.path == run_dir / str(gaiji_rel)), None)
        if gaiji is None:
            raise SnapshotError(
                run_dir / "manifest.json", f"gaiji table {gaiji_rel!r} is not a listed file"
            )
    standard = _kept(run_dir, section["standard"], "standard")
    return RunSnapshot(run_dir, vendor, gaiji, run_dir / str(section["standard"]["path"]), standard)


def run_layouts(run_dir: Path, manifest: Mapping[str, Any]) -> dict[str, Layout]:
    """The layouts a run was made with: its checked snapshot; a run that kept none (an older
    one-off run) names its layout version, read from the bundled standard."""
    snapshot = read_snapshot(run_dir, manifest)
    if snapshot.standard is None:
        return dict(load_layouts(str(manifest.get("layout_version", ""))))
    for f in snapshot.standard_files:
        f.check()
    return dict(load_layout_folder(snapshot.standard))
