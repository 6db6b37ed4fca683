"""Paths named in configuration stay inside the folder they are relative to.

chukan.toml, source.yaml and mapping specs name files and folders (dump folders, source files,
code tables …). Such a value is data someone typed or received, so it is resolved inside its
base folder and refused when it is empty, absolute, or leaves the base after ``..`` and
symlinks are resolved. The error names the configuration file and the key, e.g.
``mappings/x/source.yaml: files[0].path: '../../etc/passwd' resolves to …, outside …``.

    inside(base, value, config=..., key=...)        one path → resolved Path inside base
    files_inside(base, pattern, config=..., key=...) a glob → sorted matching files inside base

Files chukan reads that someone else could have replaced (a configuration file, a key, a file
of a run folder) are opened through ``open_regular``: the one place that refuses a FIFO (which
would block the open, or polars' read, forever), a device such as /dev/zero (endless), a
folder, and, where asked, a symbolic link anywhere on the way below a root folder.
"""

from __future__ import annotations

import errno
import os
import stat
from enum import StrEnum
from pathlib import Path, PurePosixPath

from etl.errors import ChukanError, ConfigError


class ConfigPathError(ConfigError):
    """A path in a configuration file is malformed or points outside its base folder."""

    def __init__(self, config: Path | str, key: str, reason: str) -> None:
        super().__init__(config, reason, key_path=key)
        self.config = self.path
        self.key = key


def _checked_text(value: object, config: Path | str, key: str) -> str:
    if not isinstance(value, str | PurePosixPath) or not str(value).strip():
        raise ConfigPathError(config, key, f"must be a non-empty relative path, not {value!r}")
    text = str(value)
    if "\0" in text:
        raise ConfigPathError(config, key, f"{text!r} contains a NUL byte")
    if PurePosixPath(text).is_absolute():
        raise ConfigPathError(config, key, f"{text!r} is absolute; give it relative to its folder")
    return text


def _contained(base: Path, path: Path, config: Path | str, key: str, shown: str) -> Path:
    """``path`` with symlinks and ``..`` resolved, refused unless it lies in ``base``."""
    root = base.resolve()
    try:
        real = path.resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop, or a folder that cannot be read
        raise ConfigPathError(config, key, f"{shown!r} cannot be resolved ({exc})") from exc
    if real != root and root not in real.parents:
        raise ConfigPathError(
            config, key, f"{shown!r} resolves to {real}, outside {root}; it must stay inside"
        )
    return real


def inside(base: Path, value: object, *, config: Path | str, key: str) -> Path:
    """Resolve ``value`` (a relative path from ``config`` at ``key``) inside ``base``.

    Returns the resolved path (which need not exist). Raises ConfigPathError (exit 2) when the
    value is not a non-empty string, is absolute, contains NUL, or resolves outside ``base``
    (through ``..`` or a symlink).
    """
    text = _checked_text(value, config, key)
    return _contained(base, base / text, config, key, text)


def files_inside(base: Path, pattern: object, *, config: Path | str, key: str) -> list[Path]:
    """The files in ``base`` matching the glob ``pattern`` (from ``config`` at ``key``), sorted.

    The pattern must be relative without ``..``, and every match is resolved: a symlink that
    leads outside ``base`` is refused, not read. The paths returned are the matches as found
    (not their targets), so messages show the name the delivery used.
    """
    text = _checked_text(pattern, config, key)
    if ".." in PurePosixPath(text).parts:
        raise ConfigPathError(config, key, f"{text!r} contains '..'; it must stay inside {base}")
    try:
        matches = sorted(p for p in base.glob(text) if p.is_file())
    except (OSError, ValueError) as exc:
        raise ConfigPathError(config, key, f"{text!r} cannot be matched in {base} ({exc})") from exc
    for match in matches:
        _contained(base, match, config, key, str(match.relative_to(base)))
    return matches


class OutputInsideInput(ChukanError):
    """An output path given inside (or as) a folder the same command reads."""


def refuse_inside(output: Path, folder: Path, *, option: str, what: str) -> None:
    """``output`` (given by ``option``) must not be ``folder`` or lie below it: a dump folder,
    a run folder, a package are read as delivered and never written into."""
    out, base = output.resolve(), folder.resolve()
    if out == base or base in out.parents:
        raise OutputInsideInput(
            f"{option} {output}: inside the {what} {folder}, which this command reads and"
            " never writes into; give a path outside it"
        )


class Unreadable(StrEnum):
    """Why a file is not read, in words a message can carry."""

    MISSING = "not found"
    LINK = "a symbolic link (or below one)"
    FOLDER = "a folder, not a file"
    FIFO = "a FIFO, not a regular file"
    DEVICE = "a device, not a regular file"
    SOCKET = "a socket, not a regular file"
    OTHER = "not a regular file"
    OUTSIDE = "not a path inside its folder"
    TOO_LARGE = "larger than a file of its kind can be"
    ERROR = "cannot be read"


class NotARegularFile(ChukanError):
    """A file that is not read: ``why`` says what it is instead (``detail``: the OS error)."""

    def __init__(self, path: Path, why: Unreadable, detail: str = "") -> None:
        self.path = path
        self.why = why
        self.detail = detail
        super().__init__(f"{path}: {why.value}{f' ({detail})' if detail else ''}")


def kind_of(mode: int) -> Unreadable | None:
    """None for a regular file, else what it is (from an lstat/fstat mode)."""
    if stat.S_ISREG(mode):
        return None
    for test, why in (
        (stat.S_ISLNK, Unreadable.LINK),
        (stat.S_ISDIR, Unreadable.FOLDER),
        (stat.S_ISFIFO, Unreadable.FIFO),
        (stat.S_ISCHR, Unreadable.DEVICE),
        (stat.S_ISBLK, Unreadable.DEVICE),
        (stat.S_ISSOCK, Unreadable.SOCKET),
    ):
        if test(mode):
            return why
    return Unreadable.OTHER


_FILE_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _open_error(path: Path, exc: OSError, *, no_links: bool) -> NotARegularFile:
    if isinstance(exc, FileNotFoundError):
        return NotARegularFile(path, Unreadable.MISSING)
    if isinstance(exc, IsADirectoryError):
        return NotARegularFile(path, Unreadable.FOLDER)
    if no_links and exc.errno in (errno.ELOOP, errno.ENOTDIR):  # O_NOFOLLOW met a link
        return NotARegularFile(path, Unreadable.LINK)
    return NotARegularFile(path, Unreadable.ERROR, exc.strerror or type(exc).__name__)


def open_regular(path: Path, *, root: Path | None = None) -> int:
    """A read-only descriptor of the regular file ``path``, or NotARegularFile why not.

    Without ``root`` the path is opened as given (symlinks followed: configuration may link).
    With ``root``, ``path`` must lie below it and is opened one part at a time from root's
    descriptor with O_NOFOLLOW, so no symlinked file or folder on the way leads elsewhere.
    O_NONBLOCK keeps a FIFO from blocking the open; fstat decides before a byte is read.
    The caller closes the descriptor (``os.fdopen(fd, "rb")`` hands it to a file object).
    """
    if root is None:
        try:
            fd = os.open(path, _FILE_FLAGS)
        except OSError as exc:
            raise _open_error(path, exc, no_links=False) from None
    else:
        try:
            parts = path.relative_to(root).parts
        except ValueError:
            raise NotARegularFile(path, Unreadable.OUTSIDE) from None
        if not parts or ".." in parts:
            raise NotARegularFile(path, Unreadable.OUTSIDE)
        fd = _open_below(root, parts, path)
    try:
        why = kind_of(os.fstat(fd).st_mode)
    except OSError as exc:
        os.close(fd)
        raise _open_error(path, exc, no_links=False) from None
    if why is not None:
        os.close(fd)
        raise NotARegularFile(path, why)
    return fd


def _open_below(root: Path, parts: tuple[str, ...], path: Path) -> int:
    opened: list[int] = []
    try:
        try:
            opened.append(os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
            for part in parts[:-1]:
                opened.append(os.open(part, _DIR_FLAGS, dir_fd=opened[-1]))
            return os.open(parts[-1], _FILE_FLAGS | os.O_NOFOLLOW, dir_fd=opened[-1])
        except OSError as exc:
            raise _open_error(path, exc, no_links=True) from None
    finally:
        for folder in opened:
            os.close(folder)


def read_regular(path: Path, limit: int, *, root: Path | None = None) -> bytes:
    """The whole of a regular file that must be small: never more than ``limit`` + 1 bytes are
    read, whatever it holds (NotARegularFile when it is larger)."""
    fd = open_regular(path, root=root)
    data = bytearray()
    try:
        while len(data) <= limit and (block := os.read(fd, min(1 << 20, limit + 1 - len(data)))):
            data += block
    except OSError as exc:
        raise NotARegularFile(path, Unreadable.ERROR, exc.strerror or type(exc).__name__) from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise NotARegularFile(path, Unreadable.TOO_LARGE, f"more than {limit:,} bytes")
    return bytes(data)


__all__ = [
    "ConfigPathError",
    "NotARegularFile",
    "OutputInsideInput",
    "Unreadable",
    "files_inside",
    "inside",
    "kind_of",
    "open_regular",
    "read_regular",
    "refuse_inside",
]
