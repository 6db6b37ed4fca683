"""The package as one deterministic .tar.gz, and a strict sequential reader for it.

tar.gz rather than zip: the canonical form is fully described by public APIs
(``TarInfo.tobuf``, one gzip member as ``etl.deflate`` writes it), so the writer makes
it and the reader can demand it byte for byte. Every member header is one 512-byte ustar block
built from the name and size only (fixed mtime, owner 0/0, no user names, 0600 files / 0700
folders); members come in a fixed order with datapackage.json first, so a reader knows every
schema before the data.
The gzip header carries no name and mtime 0. A changed byte anywhere therefore shows up as a
differing header, padding or data hash, or as a gzip error. The reader inflates with ISA-L
(python-isal) on its own thread: inflating has one right answer, ISA-L finds it about twice as
fast as zlib, and the thread lets hashing and table checks run meanwhile.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

from isal import igzip_threaded

from etl.deflate import GZIP_HEADER, ParallelGzipWriter
from etl.package.descriptor import path_problem
from etl.package.errors import PackageError
from etl.write import FILE_MODE, StagedFile

BLOCK = tarfile.BLOCKSIZE
RECORD = tarfile.RECORDSIZE
ARCHIVE_MTIME = 0
CHUNK = 4 << 20
FIRST = ("datapackage.json", "datapackage.json.sig")


def member_order(paths: Sequence[str]) -> list[str]:
    """datapackage.json and its signature first, then every other file in path order."""
    first = [p for p in FIRST if p in paths]
    return first + sorted(p for p in paths if p not in FIRST)


def canonical_info(name: str, size: int, *, is_dir: bool = False) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = 0 if is_dir else size
    info.mtime = ARCHIVE_MTIME
    info.mode = 0o700 if is_dir else FILE_MODE
    info.type = tarfile.DIRTYPE if is_dir else tarfile.REGTYPE
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def canonical_header(info: tarfile.TarInfo) -> bytes:
    return info.tobuf(tarfile.USTAR_FORMAT, "utf-8", "strict")


def canonical_entries(prefix: str, files: Sequence[tuple[str, int]]) -> list[tarfile.TarInfo]:
    """The archive's members in order: the top folder, then each file after its folders."""
    sizes = dict(files)
    entries = [canonical_info(prefix, 0, is_dir=True)]
    seen = {""}
    for rel in member_order(list(sizes)):
        parts = rel.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            folder = "/".join(parts[:i])
            if folder not in seen:
                seen.add(folder)
                entries.append(canonical_info(f"{prefix}/{folder}", 0, is_dir=True))
        entries.append(canonical_info(f"{prefix}/{rel}", sizes[rel]))
    return entries


def write_archive(src: Path, prefix: str, files: Sequence[str], dest: Path) -> str:
    """Write ``dest`` (.tar.gz) from the files of ``src`` atomically; returns its SHA-256.

    Staged (etl.write.StagedFile): hashed as it is written, its pages handed to the disk as it
    grows, synced and renamed into place whole.
    """
    entries = canonical_entries(prefix, [(f, (src / f).stat().st_size) for f in files])
    if not prefix.isascii() or not all(f.isascii() for f in files):
        raise PackageError(dest, "archive member names must be ASCII")
    staged = StagedFile(dest)
    try:
        with (
            ParallelGzipWriter(cast(BinaryIO, staged)) as gz,
            tarfile.open(fileobj=gz, mode="w", format=tarfile.USTAR_FORMAT) as tar,  # type: ignore[call-overload]
        ):
            for info in entries:
                if info.isdir():
                    tar.addfile(info)
                    continue
                with (src / info.name.removeprefix(prefix + "/")).open("rb") as fh:
                    tar.addfile(info, fh)
    except BaseException:
        staged.discard()
        raise
    return staged.publish().sha256


# ustar's size field holds at most 11 octal digits: a bigger member needs a GNU base-256 or
# pax size, which the canonical writer never makes
MEMBER_MAX_BYTES = 8 << 30
# after the end-of-archive block only zero blocks up to the record size may follow
TRAILER_MAX_BYTES = RECORD
_REGULAR = (tarfile.REGTYPE, tarfile.AREGTYPE)
_KINDS = {
    tarfile.SYMTYPE: "シンボリックリンク",
    tarfile.LNKTYPE: "ハードリンク",
    tarfile.CHRTYPE: "キャラクタデバイス",
    tarfile.BLKTYPE: "ブロックデバイス",
    tarfile.FIFOTYPE: "FIFO",
    tarfile.CONTTYPE: "連続ファイル",
}
# headers that change how the next header reads (its size, its name): after one, no member
# is where its own header says, so the walk stops
_META = {
    tarfile.XHDTYPE: "pax 拡張ヘッダ",
    tarfile.XGLTYPE: "pax 全体ヘッダ",
    tarfile.GNUTYPE_LONGNAME: "GNU 長い名前",
    tarfile.GNUTYPE_LONGLINK: "GNU 長いリンク名",
    tarfile.GNUTYPE_SPARSE: "GNU スパースファイル",
}


@dataclass(frozen=True, slots=True)
class ArchiveMember:
    """One file read from the archive: its data streamed as chunks (read them before the next).

    A member that is refused (not a regular file, a name outside the package, a second copy)
    has ``refused`` set; its data is skipped, never handed out."""

    name: str  # path inside the package (prefix removed)
    size: int
    header_ok: bool  # the header block is the canonical one for this name and size
    chunks: Iterator[bytes]
    refused: str | None = None


class ArchiveReader:
    """Walk a package .tar.gz block by block, demanding the canonical form.

    ``problems`` collects (member or "", message) for anything that is not canonical. Whatever
    the archive holds, no read goes past a member's declared size or past the bounded
    trailer, so memory stays a few chunks and a bomb inflates only as far as its headers say.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[tuple[str, str]] = []
        self.prefix = ""

    def _read_exact(self, stream: BinaryIO, n: int) -> bytes:
        data = stream.read(n)
        if len(data) != n:
            raise EOFError
        return data

    def members(self) -> Iterator[ArchiveMember]:
        with self.path.open("rb") as raw:
            if raw.read(len(GZIP_HEADER)) != GZIP_HEADER:
                self.problems.append(("", "gzip ヘッダが規定の形ではありません"))
            raw.seek(0)
            stream: BinaryIO = igzip_threaded.open(raw, "rb", threads=1)  # type: ignore[no-untyped-call]
            with stream:
                yield from self._walk(stream)

    def _refusal(self, info: tarfile.TarInfo, name: str, rel: str, seen: set[str]) -> str | None:
        if info.type not in _REGULAR and not info.isdir():
            kind = _KINDS.get(info.type, f"種類 {info.type!r}")
            return f"通常のファイルではありません ({kind}): 読みません"
        if why := path_problem(name):
            return f"メンバー名 {name!r} がパッケージの外を指します ({why}): 読みません"
        if name.split("/")[0] != self.prefix or (not rel and not info.isdir()):
            return f"メンバー {name!r} がパッケージのフォルダ {self.prefix!r} の外にあります"
        if rel in seen:
            return "同じ名前のメンバーが二度あります: 二度目は読みません"
        return None

    def _walk(self, stream: BinaryIO) -> Iterator[ArchiveMember]:
        pos = 0
        seen: set[str] = set()
        while True:
            block = self._read_exact(stream, BLOCK)
            pos += BLOCK
            if block == bytes(BLOCK):
                break
            try:
                info = tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
            except tarfile.HeaderError as exc:
                self.problems.append(("", f"tar ヘッダが壊れています (位置 {pos - BLOCK}): {exc}"))
                return
            name = info.name.rstrip("/")
            if not self.prefix:
                self.prefix = name.split("/")[0]
            rel = name.removeprefix(self.prefix + "/") if "/" in name else ""
            at = f"(位置 {pos - BLOCK:,}): 以降は読みません"
            if info.type in _META:
                self.problems.append((rel or name, f"{_META[info.type]}があります {at}"))
                return
            if not 0 <= info.size < MEMBER_MAX_BYTES:
                # a GNU base-256 size: the canonical ustar header cannot hold it
                why = f"サイズ {info.size:,} バイトは ustar の上限 {MEMBER_MAX_BYTES:,} バイト以上"
                self.problems.append((rel or name, f"{why} {at}"))
                return
            refused = self._refusal(info, name, rel, seen)
            seen.add(rel)
            expected = canonical_header(canonical_info(name, info.size, is_dir=info.isdir()))
            header_ok = block == expected and name.split("/")[0] == self.prefix
            if info.isdir() and not refused:
                if not header_ok or info.size:
                    self.problems.append((rel, "フォルダの tar ヘッダが規定の形ではありません"))
                continue
            data = self._data(stream, rel, info.size)
            yield ArchiveMember(rel or name, info.size, header_ok, data, refused)
            for _ in data:  # whatever the reader left, so the next header lines up
                pass
            pos += info.size + (-info.size) % BLOCK
        self._trailer(stream, pos)

    def _trailer(self, stream: BinaryIO, pos: int) -> None:
        """End of archive: zero blocks up to the record size, then the end of the stream; never
        more than ``TRAILER_MAX_BYTES`` read (zeros inflated without end are a bomb)."""
        rest = stream.read(TRAILER_MAX_BYTES)
        if len(rest) == TRAILER_MAX_BYTES and stream.read(1):
            self.problems.append(
                ("", f"tar の終端の後に {TRAILER_MAX_BYTES:,} バイトを超えるデータがあります")
            )
        elif rest.strip(b"\x00") or (pos + len(rest)) % RECORD:
            self.problems.append(("", "アーカイブの末尾が規定の形ではありません"))

    def _data(self, stream: BinaryIO, rel: str, size: int) -> Iterator[bytes]:
        left = size
        while left:
            chunk = stream.read(min(CHUNK, left))
            if not chunk:
                raise EOFError
            left -= len(chunk)
            yield chunk
        pad = (-size) % BLOCK
        if pad and stream.read(pad) != bytes(pad):
            self.problems.append((rel, "tar のパディングが 0 ではありません"))
