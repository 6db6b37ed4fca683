"""Atomic, owner-only writes: a reader sees the old file, the new file, or nothing — never half.

Outputs carry personal data, so files are 0600 and folders 0700 from the moment they exist.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from etl.errors import WriteError

FILE_MODE = 0o600
DIR_MODE = 0o700


@dataclass(frozen=True, slots=True)
class WrittenFile:
    path: Path
    bytes: int
    sha256: str


def make_private_dir(path: Path) -> None:
    """Create ``path`` owner-only; an existing folder (the user's --out parent, /tmp) is left
    as it is."""
    if path.is_dir():
        return
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    path.chmod(DIR_MODE)


def _cause(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def write_bytes_atomic(path: Path, data: bytes) -> WrittenFile:
    """Write ``data`` to a temp file beside ``path``, fsync, then rename over it."""
    try:
        make_private_dir(path.parent)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise WriteError(f"{path.parent}: cannot write {path.name} here: {_cause(exc)}") from exc
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
        raise WriteError(f"{path}: {exc.strerror or exc}") from exc
    return WrittenFile(path, len(data), hashlib.sha256(data).hexdigest())


@contextlib.contextmanager
def staged_dir(final: Path, *, replace: bool) -> Iterator[Path]:
    """Build a whole output folder in a hidden sibling and rename it into place at the end.

    An interrupted run leaves only the hidden ``.<name>.partial-*`` folder, never a half-written
    ``final``. An existing ``final`` is an error unless ``replace`` is set.
    """
    if final.exists() and not replace:
        raise WriteError(f"{final} already exists; choose another --out or pass --replace")
    try:
        make_private_dir(final.parent)
        stage = Path(tempfile.mkdtemp(prefix=f".{final.name}.partial-", dir=final.parent))
        stage.chmod(DIR_MODE)
    except OSError as exc:
        raise WriteError(
            f"{final.parent}: cannot create the output folder {final.name} here: {_cause(exc)}"
        ) from exc
    try:
        yield stage
        try:
            if final.exists():
                old = final.with_name(f".{final.name}.old-{os.getpid()}")
                final.rename(old)
                stage.rename(final)
                shutil.rmtree(old)
            else:
                stage.rename(final)
        except OSError as exc:
            raise WriteError(
                f"{final}: cannot put the finished folder in place: {_cause(exc)}"
            ) from exc
    except (OSError, WriteError) as exc:  # a write into the stage failed (disk full, perms …)
        shutil.rmtree(stage, ignore_errors=True)
        # name the file as it would have been published, not its place in the removed stage
        if isinstance(exc, WriteError):
            raise WriteError(str(exc).replace(str(stage), str(final))) from exc
        where = str(exc.filename or final).replace(str(stage), str(final), 1)
        raise WriteError(f"{where}: {_cause(exc)} (while writing {final})") from exc
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()
