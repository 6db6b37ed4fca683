"""A run folder opened for reading, and its JSON files written: the one way in and out.

``RunFolder.open`` reads manifest.json (and run.json when a pass wrote one) as hostile: regular
files only (a FIFO is never waited on, a symlink never followed), bounded in size, UTF-8 JSON
checked against the models of ``etl.run_folder.model``. Every other file of the run (V2.1
files, findings.csv, rejects, the snapshot) is reached through the same object, which opens
it only below the run folder without following links, and checks it against the SHA-256 the
manifest recorded before anyone trusts its content.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar

import polars as pl
from pydantic import ValidationError

from etl.config import Document
from etl.errors import ChukanError
from etl.paths import NotARegularFile, Unreadable, open_regular
from etl.run_folder.findings_file import NotAFindingsFile, parse_findings
from etl.run_folder.model import SCHEMA_VERSION, FileRef, Manifest, RunFolderModel, RunMeta
from etl.write import WrittenFile, write_bytes_atomic

MANIFEST_FILE = "manifest.json"
RUN_META_FILE = "run.json"  # only runs of a project pass have one
MAX_RUN_JSON_BYTES = 256 << 20  # far above any manifest (one entry per file, not per record)
_CHUNK = 1 << 20

Model = TypeVar("Model", bound=RunFolderModel)


class RunFolderError(ChukanError):
    """A run folder, or a file in it, that is not what chukan wrote there."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def _refused(exc: NotARegularFile) -> RunFolderError:
    if exc.why is Unreadable.ERROR:
        return RunFolderError(exc.path, f"cannot read: {exc.detail}")
    if exc.why is Unreadable.TOO_LARGE:
        return RunFolderError(exc.path, f"{exc.detail}, more than a run ever writes")
    return RunFolderError(exc.path, f"{exc.why.value}; a run folder holds the files chukan wrote")


def _read_json(path: Path, root: Path, model: type[Model]) -> tuple[Model, str]:
    """A JSON file chukan wrote into a run folder, read as hostile and typed by ``model``;
    with the SHA-256 of its bytes (a load records which manifest it loaded)."""
    fd = open_regular(path, root=root)  # NotARegularFile: the caller decides what missing means
    try:
        with os.fdopen(fd, "rb") as fh:
            raw = fh.read(MAX_RUN_JSON_BYTES + 1)
    except OSError as exc:
        raise RunFolderError(path, f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_RUN_JSON_BYTES:
        raise RunFolderError(
            path, f"more than {MAX_RUN_JSON_BYTES:,} bytes, more than a run writes"
        )
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise RunFolderError(path, f"not UTF-8 (byte offset {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise RunFolderError(path, f"invalid JSON at byte offset {exc.pos}: {exc.msg}") from None
    except RecursionError:
        raise RunFolderError(path, "invalid JSON: nested too deep") from None
    if not isinstance(data, dict):
        raise RunFolderError(path, f"expected a JSON object, not {type(data).__name__}")
    version = data.get("schema_version", SCHEMA_VERSION)
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise RunFolderError(
            path,
            f"schema_version {version} was written by a newer chukan; this one reads up to"
            f" {SCHEMA_VERSION}: upgrade chukan to read this run",
        )
    try:
        return model.model_validate_json(raw), hashlib.sha256(raw).hexdigest()
    except ValidationError as exc:
        problem = Document(path, data).validation_error(exc)
        where = problem.key_path  # already formatted: sources[0].records_in
        raise RunFolderError(
            path, f"{where}: {problem.reason}" if where else problem.reason
        ) from None


@dataclass(frozen=True, slots=True)
class RunFolder:
    """A finished run: its manifest, its run.json (None for a one-off run) and its files."""

    path: Path
    manifest: Manifest
    meta: RunMeta | None
    manifest_sha256: str

    @classmethod
    def open(cls, path: Path) -> RunFolder:
        if not path.is_dir():
            raise RunFolderError(path, "not a run folder: no such folder")
        try:
            manifest, digest = _read_json(path / MANIFEST_FILE, path, Manifest)
        except NotARegularFile as exc:
            if exc.why is Unreadable.MISSING:
                raise RunFolderError(
                    path, f"not a run folder: {MANIFEST_FILE} is missing"
                ) from None
            raise _refused(exc) from None
        try:
            meta: RunMeta | None = _read_json(path / RUN_META_FILE, path, RunMeta)[0]
        except NotARegularFile as exc:
            if exc.why is not Unreadable.MISSING:
                raise _refused(exc) from None
            meta = None
        return cls(path, manifest, meta, digest)

    @property
    def run_id(self) -> str:
        """The pass run's id, or the folder's name for a one-off run."""
        return self.meta.run_id if self.meta is not None else self.path.name

    def file(self, rel: str) -> Path:
        """Where a file the manifest names lies (paths are checked relative by the model)."""
        return self.path / rel

    @contextmanager
    def open_file(self, rel: str, part: str | None = None) -> Iterator[BinaryIO]:
        """A file of the run opened for reading: a regular file below the run folder, reached
        without following any link. ``part``: what a missing file is missing from, in the
        message ("snapshot"); by default the run is said to be unfinished."""
        try:
            fd = open_regular(self.file(rel), root=self.path)
        except NotARegularFile as exc:
            if exc.why is not Unreadable.MISSING:
                raise _refused(exc) from None
            if part is None:
                raise RunFolderError(self.path, f"not a finished run: {rel} is missing") from None
            raise RunFolderError(exc.path, f"missing from the run's {part}") from None
        with os.fdopen(fd, "rb") as fh:
            yield fh

    def verified(self, ref: FileRef, part: str | None = None) -> Path:
        """The file ``ref`` names, after checking it still holds what the run wrote: its size
        and SHA-256 as manifest.json recorded them (a file truncated, edited or replaced
        since is named, never read as the run's). ``part``: what a missing file is missing
        from, in the message ("snapshot")."""
        size, digest = self.digest(ref.path, part)
        if (size, digest) != (ref.bytes, ref.sha256):
            raise RunFolderError(
                self.file(ref.path),
                f"differs from the run's {MANIFEST_FILE} ({size:,} bytes, SHA-256"
                f" {digest[:12]}…; the run wrote {ref.bytes:,} bytes, {ref.sha256[:12]}…):"
                " changed after the run",
            )
        return self.file(ref.path)

    def sized(self, ref: FileRef) -> Path:
        """The file ``ref`` names, checked without reading it: a regular file below the run
        folder of the size the run wrote. For readers that hash what they read themselves (a
        load compares the SHA-256 of the bytes it loaded) and must not read a file twice."""
        with self.open_file(ref.path) as fh:
            size = os.fstat(fh.fileno()).st_size
        if size != ref.bytes:
            raise RunFolderError(
                self.file(ref.path),
                f"differs from the run's {MANIFEST_FILE} ({size:,} bytes; the run wrote"
                f" {ref.bytes:,}): truncated or changed after the run",
            )
        return self.file(ref.path)

    def findings(self) -> pl.DataFrame:
        """findings.csv, checked against the manifest (SHA-256 and count), typed. Read once:
        the bytes hashed are the bytes parsed."""
        summary = self.manifest.findings
        path = self.file(summary.file)
        with self.open_file(summary.file) as fh:
            try:
                data = fh.read()
            except OSError as exc:
                raise RunFolderError(path, f"cannot read: {exc.strerror or exc}") from None
        # hashed on a thread while parsed: both release the GIL (polars, hashlib)
        with ThreadPoolExecutor(1, thread_name_prefix="findings-sha256") as pool:
            hashed = pool.submit(lambda: hashlib.sha256(data).hexdigest())
            try:
                frame = parse_findings(data)
            except NotAFindingsFile as exc:
                raise RunFolderError(path, str(exc)) from None
            digest = hashed.result()
        if digest != summary.sha256:
            raise RunFolderError(
                path, f"differs from the run's {MANIFEST_FILE} (SHA-256): changed after the run"
            )
        if frame.height != summary.total:
            raise RunFolderError(path, "row count differs from manifest.json")
        return frame

    def digest(self, rel: str, part: str | None = None) -> tuple[int, str]:
        """Size and SHA-256 of a file of the run, read as ``open_file`` reads it."""
        h, size = hashlib.sha256(), 0
        with self.open_file(rel, part) as fh:
            try:
                while block := fh.read(_CHUNK):
                    h.update(block)
                    size += len(block)
            except OSError as exc:
                raise RunFolderError(
                    self.file(rel), f"cannot read: {exc.strerror or exc}"
                ) from None
        return size, h.hexdigest()


def _json_bytes(model: RunFolderModel) -> bytes:
    data = model.model_dump(mode="json", by_alias=True)
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


def write_manifest(stage: Path, manifest: Manifest) -> WrittenFile:
    return write_bytes_atomic(stage / MANIFEST_FILE, _json_bytes(manifest))


def write_run_meta(stage: Path, meta: RunMeta) -> WrittenFile:
    return write_bytes_atomic(stage / RUN_META_FILE, _json_bytes(meta))
