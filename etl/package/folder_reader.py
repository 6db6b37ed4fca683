"""A package folder read the way a receiver must: only regular files inside it, never a link.

Each path is opened one part at a time from the folder's own descriptor with O_NOFOLLOW, so
neither a symlinked file nor a symlinked folder on the way leads out of the package; O_NONBLOCK
keeps a FIFO from blocking the open, and fstat must say "regular file" before a byte is read (a
device such as /dev/zero never is). Anything else is named with why it is not read.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from etl.package.descriptor import path_problem

DEPTH_MAX = 32  # chukan packages are three folders deep
_READ = 1 << 20
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def kind_of(mode: int) -> str:
    """What a non-regular file is, in the words of a problem."""
    for test, kind in (
        (stat.S_ISLNK, "シンボリックリンク"),
        (stat.S_ISFIFO, "FIFO"),
        (stat.S_ISCHR, "キャラクタデバイス"),
        (stat.S_ISBLK, "ブロックデバイス"),
        (stat.S_ISSOCK, "ソケット"),
        (stat.S_ISDIR, "フォルダ"),
    ):
        if test(mode):
            return kind
    return "通常のファイル以外"


class NotReadable(Exception):
    """A package path that is not read: ``reason`` says why (Japanese, for a problem)."""

    def __init__(self, reason: str, *, missing: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.missing = missing


@dataclass(frozen=True, slots=True)
class FolderEntry:
    name: str  # relative, "/"-separated
    refused: str | None  # why it is not read, or None for a regular file


class FolderReader:
    """Use as a context manager: holds the package folder open while it is read."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._fd = -1

    def __enter__(self) -> FolderReader:
        self._fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        os.close(self._fd)

    def entries(self) -> list[FolderEntry]:
        """Every file in the package, sorted; links, FIFOs and devices with why they are not read
        (never followed, so a link to a folder does not lead anywhere)."""
        found: list[FolderEntry] = []
        self._walk(self._fd, "", 0, found)
        return sorted(found, key=lambda e: e.name)

    def _walk(self, fd: int, prefix: str, depth: int, found: list[FolderEntry]) -> None:
        with os.scandir(fd) as listing:
            entries = [(e.name, e.stat(follow_symlinks=False).st_mode) for e in listing]
        for name, mode in entries:
            rel = prefix + name
            if not stat.S_ISDIR(mode):
                why = None if stat.S_ISREG(mode) else f"{kind_of(mode)}です: 読みません"
                found.append(FolderEntry(rel, why))
                continue
            if depth >= DEPTH_MAX:
                found.append(FolderEntry(rel, f"フォルダが {DEPTH_MAX} 段を超えて深くあります"))
                continue
            try:
                sub = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:  # replaced meanwhile, or not ours to read
                found.append(FolderEntry(rel, f"フォルダを開けません: {exc.strerror or exc}"))
                continue
            try:
                self._walk(sub, rel + "/", depth + 1, found)
            finally:
                os.close(sub)

    def open(self, rel: str) -> int:
        """A descriptor of the regular file ``rel``, opened without following any link."""
        if why := path_problem(rel):
            raise NotReadable(f"パッケージ内のパスではありません ({why})")
        *folders, name = rel.split("/")
        opened: list[int] = []
        try:
            for part in folders:
                opened.append(_open_at(part, _DIR_FLAGS, opened[-1] if opened else self._fd))
            fd = _open_at(name, _FILE_FLAGS, opened[-1] if opened else self._fd)
        finally:
            for folder in opened:
                os.close(folder)
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            raise NotReadable(f"{kind_of(mode)}です: 読みません")
        return fd

    def chunks(self, rel: str, chunk: int) -> Generator[bytes]:
        fd = self.open(rel)
        try:
            while block := os.read(fd, chunk):
                yield block
        finally:
            os.close(fd)

    def read_small(self, rel: str, limit: int) -> bytes:
        """The whole of a file that must be small (datapackage.json, its signature); never
        more than ``limit`` + 1 bytes are read, whatever the file claims or holds."""
        fd = self.open(rel)
        data = bytearray()
        try:
            while len(data) <= limit and (block := os.read(fd, min(_READ, limit + 1 - len(data)))):
                data += block
        finally:
            os.close(fd)
        if len(data) > limit:
            raise NotReadable(f"上限 {limit:,} バイトを超えます: 読みません")
        return bytes(data)


def _open_at(name: str, flags: int, dir_fd: int) -> int:
    try:
        return os.open(name, flags, dir_fd=dir_fd)
    except FileNotFoundError as exc:
        raise NotReadable("ファイルがありません (missing)", missing=True) from exc
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):  # O_NOFOLLOW met a link
            raise NotReadable("シンボリックリンク (またはその途中) です: 読みません") from exc
        raise NotReadable(f"開けません: {exc.strerror or exc}") from exc
