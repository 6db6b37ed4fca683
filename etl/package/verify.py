"""verify_package: is a package (folder or .tar.gz) complete, unchanged, valid and sealed?

Recomputes every size and SHA-256, re-counts every table's records, checks each table against
its Table Schema (vectorised, etl.package.schema), lists missing, extra and changed files and
checks the signature. Problems are data (one per file and what differs), never exceptions.
Folder and archive take one path: every file is read once, in order, and hashed on the way, while
a table's pieces are parsed and checked on a thread pool (etl.package.table_stream) — so checking
overlaps reading and, for the archive, inflating (which runs on its own thread).

The package may come from anyone, so what is read is bounded whatever it holds (``Limits``): a
file is read only up to its declared size + 1 byte, datapackage.json and its signature only up to a
cap, a table piece without a record end only up to a cap, and only a few pieces wait for a
worker at a time. Only regular files inside the package are read (etl.package.folder_reader,
etl.package.archive): links, devices, FIFOs, names leading outside and second copies are named.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import stat
import sys
from collections.abc import Iterable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from isal import isal_zlib

from etl import events
from etl.package.archive import CHUNK, ArchiveReader
from etl.package.descriptor import (
    DESCRIPTOR,
    DESCRIPTOR_MAX_BYTES,
    SIGNATURE,
    SIGNATURE_MAX_BYTES,
    parse_descriptor,
)
from etl.package.errors import PackageError
from etl.package.folder_reader import FolderReader, NotReadable
from etl.package.signing import SignatureStatus, check_signature, load_public_key
from etl.package.table_stream import RECORD_MAX, InFlightLimit, TableStream

# isal's stubs declare its error as an instance; at run time it is the exception class
INFLATE_ERROR = cast(type[Exception], isal_zlib.error)


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` safe for one terminal line: control characters and undecodable bytes (names
    from a hostile archive or folder) shown as escapes."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


@dataclass(frozen=True, slots=True)
class Problem:
    file: str  # path inside the package; the archive's own name for damage to the archive
    message: str  # Japanese, says what differs

    @property
    def line(self) -> str:
        return printable(f"{self.file}: {self.message}")


@dataclass(frozen=True, slots=True)
class Limits:
    """What verify reads at most, whatever the package holds. ``UNLIMITED`` exists only to
    measure what the limits cost (benchmarks/bench_package.py)."""

    descriptor_bytes: int = DESCRIPTOR_MAX_BYTES
    signature_bytes: int = SIGNATURE_MAX_BYTES
    record_bytes: int | None = RECORD_MAX  # a table's bytes without a record end
    pieces_per_worker: int | None = 2  # table pieces queued or running, per worker
    past_declared: bool = False  # read a file past its declared size + 1 (to its end)


BOUNDED = Limits()
UNLIMITED = Limits(sys.maxsize, sys.maxsize, None, None, True)


@dataclass(frozen=True, slots=True)
class VerifyReport:
    path: Path
    problems: tuple[Problem, ...]
    signature: SignatureStatus
    files: int  # files listed in datapackage.json
    bytes: int  # bytes hashed

    @property
    def ok(self) -> bool:
        """Complete, unchanged and valid; who signed it counts only with ``signer_checked``."""
        return not self.problems

    @property
    def signer_checked(self) -> bool:
        """Signed by the trusted key: without one, anybody could have re-signed the package
        or removed its signature."""
        return self.signature is SignatureStatus.VALID


def _digest_problems(rel: str, res: dict[str, Any], size: int, digest: str) -> list[Problem]:
    declared: int = res["bytes"]
    if size > declared:  # reading stopped one byte past the declared size: the rest is moot
        return [Problem(rel, f"定義の {declared:,} バイトより大きいファイルです (先は読みません)")]
    out = []
    if size != declared:
        out.append(Problem(rel, f"サイズ {size:,} バイト (定義は {declared:,})"))
    if f"sha256:{digest}" != res["hash"]:
        out.append(Problem(rel, "SHA-256 が一致しません (内容が変更されています)"))
    return out


def _signature_problems(status: SignatureStatus, trust: Path | None) -> list[Problem]:
    if status is SignatureStatus.INVALID:
        return [Problem(SIGNATURE, "署名が無効です (datapackage.json が署名後に変更されています)")]
    if status is SignatureStatus.UNTRUSTED:
        return [Problem(SIGNATURE, f"署名した鍵が信頼する公開鍵 {trust} と異なります")]
    if status is SignatureStatus.UNSIGNED and trust is not None:
        return [Problem(SIGNATURE, "署名がありません (unsigned)")]
    return []


class _Checker:
    """State shared by the folder and archive walks."""

    def __init__(
        self,
        pool: ThreadPoolExecutor,
        workers: int,
        trust: Path | None,
        limits: Limits,
    ) -> None:
        self.pool: Executor = pool
        if limits.pieces_per_worker is not None:
            self.pool = InFlightLimit(pool, limits.pieces_per_worker * workers)
        self.limits = limits
        self.total = 0
        self.trust = trust
        self.trust_key: Ed25519PublicKey | None = load_public_key(trust) if trust else None
        self.problems: list[Problem] = []
        self.refused: set[str] = set()  # named already; neither missing nor extra
        self.tables: list[tuple[str, TableStream]] = []
        self.resources: dict[str, dict[str, Any]] = {}
        self.status = SignatureStatus.UNSIGNED
        self.hashed = 0

    def refuse(self, rel: str, why: str) -> None:
        """``rel`` is not read, for the reason ``why`` (once per file)."""
        if rel not in self.refused:
            self.refused.add(rel)
            self.problems.append(Problem(rel, why))

    def small_limit(self, rel: str) -> int:
        return self.limits.descriptor_bytes if rel == DESCRIPTOR else self.limits.signature_bytes

    def read_descriptor(self, data: bytes | None, sig: bytes | None) -> bool:
        if data is None:
            if DESCRIPTOR not in self.refused:
                self.problems.append(Problem(DESCRIPTOR, "datapackage.json がありません"))
            return False
        self.status = check_signature(data, sig, self.trust_key)
        self.problems += _signature_problems(self.status, self.trust)
        try:
            doc = parse_descriptor(data, self.limits.descriptor_bytes)
        except (ValueError, KeyError, TypeError) as exc:
            self.problems.append(Problem(DESCRIPTOR, f"datapackage.json を読めません: {exc}"))
            return False
        self.resources = {r["path"]: r for r in doc["resources"]}
        self.total = sum(r["bytes"] for r in self.resources.values())
        return True

    def _table(self, rel: str, res: dict[str, Any]) -> TableStream | None:
        if res.get("type") != "table":
            return None
        try:
            return TableStream.for_resource(res, self.pool, record_max=self.limits.record_bytes)
        except (ValueError, KeyError, TypeError) as exc:
            self.problems.append(Problem(rel, f"datapackage.json のスキーマを使えません: {exc}"))
            return None

    def consume(self, rel: str, chunks: Iterable[bytes]) -> None:
        """Hash one file's bytes, up to one byte past its declared size; a table's bytes also
        go to its streaming check."""
        res = self.resources.get(rel)
        if res is None:
            return  # an extra file: named by finish()
        table = self._table(rel, res)
        stop = sys.maxsize if self.limits.past_declared else res["bytes"] + 1
        h, size = hashlib.sha256(), 0
        try:
            for chunk in chunks:
                if size + len(chunk) > stop:
                    chunk = chunk[: stop - size]
                h.update(chunk)
                size += len(chunk)
                if table is not None:
                    table.feed(chunk)
                events.progress("verify", self.hashed + size, self.total or None)  # bytes
                if size >= stop:
                    break
        except (NotReadable, OSError) as exc:  # replaced or unreadable while being read
            why = exc.reason if isinstance(exc, NotReadable) else exc.strerror or str(exc)
            self.refuse(rel, f"読めません: {why}")
        self.hashed += size
        if rel not in self.refused:
            self.problems += _digest_problems(rel, res, size, h.hexdigest())
        if table is not None:
            table.close()
            if size <= res["bytes"] and rel not in self.refused:
                self.tables.append((rel, table))

    def finish(self, present: Iterable[str]) -> list[Problem]:
        seen = set(present)
        for rel in sorted(set(self.resources) - seen - self.refused):
            self.problems.append(Problem(rel, "ファイルがありません (missing)"))
        for rel in sorted(seen - set(self.resources) - {DESCRIPTOR, SIGNATURE} - self.refused):
            self.problems.append(Problem(rel, "定義にないファイルがあります (extra)"))
        for rel, table in self.tables:
            self.problems += [Problem(rel, message) for message in table.problems()]
        return sorted(self.problems, key=lambda p: (p.file, p.message))


def _read_small(folder: FolderReader, rel: str, checker: _Checker) -> bytes | None:
    try:
        return folder.read_small(rel, checker.small_limit(rel))
    except NotReadable as exc:
        if not exc.missing:
            checker.refuse(rel, exc.reason)
        return None


def _verify_dir(root: Path, checker: _Checker) -> list[str]:
    try:
        with FolderReader(root) as folder:
            entries = folder.entries()
            for entry in entries:
                if entry.refused:
                    checker.refuse(entry.name, entry.refused)
            descriptor = _read_small(folder, DESCRIPTOR, checker)
            sig = _read_small(folder, SIGNATURE, checker)
            if checker.read_descriptor(descriptor, sig):
                for entry in entries:
                    if not entry.refused:
                        with contextlib.closing(folder.chunks(entry.name, CHUNK)) as chunks:
                            checker.consume(entry.name, chunks)
    except OSError as exc:  # the folder itself cannot be listed: nothing to check
        raise PackageError(root, f"cannot read the package folder: {exc.strerror or exc}") from exc
    return [e.name for e in entries]


def _verify_archive(path: Path, checker: _Checker) -> list[str]:
    reader = ArchiveReader(path)
    present: list[str] = []
    head: dict[str, bytes] = {}
    descriptor_read = False
    try:
        for m in reader.members():
            present.append(m.name)
            if m.refused:
                checker.refuse(m.name, m.refused)
                continue
            if not m.header_ok:
                checker.problems.append(Problem(m.name, "tar ヘッダが規定の形ではありません"))
            if m.name in (DESCRIPTOR, SIGNATURE) and not descriptor_read:
                if m.size > (limit := checker.small_limit(m.name)):
                    checker.refuse(m.name, f"{m.size:,} バイトは上限 {limit:,} バイトを超えます")
                else:
                    head[m.name] = b"".join(m.chunks)
                continue
            if not descriptor_read:
                descriptor_read = True
                if not checker.read_descriptor(head.get(DESCRIPTOR), head.get(SIGNATURE)):
                    return present
            checker.consume(m.name, m.chunks)
        if not descriptor_read:
            checker.read_descriptor(head.get(DESCRIPTOR), head.get(SIGNATURE))
    except (EOFError, OSError, INFLATE_ERROR) as exc:  # BadGzipFile is an OSError
        checker.problems.append(Problem(path.name, f"アーカイブが壊れています: {exc or 'EOF'}"))
    checker.problems += [Problem(f or path.name, msg) for f, msg in reader.problems]
    return present


def verify_package(
    path: Path,
    *,
    trust: Path | None = None,
    workers: int = 4,
    limits: Limits = BOUNDED,
) -> VerifyReport:
    """Check a package folder or its .tar.gz; ``trust``: the sealer's public key (PEM).
    Progress events ("verify") count the bytes read so far against the bytes datapackage.json lists.

    Without ``trust`` the report says nothing about who signed it (``signer_checked``)."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise PackageError(path, f"cannot read: {exc.strerror or exc}") from exc
    if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
        raise PackageError(path, "neither a package folder nor a .tar.gz file")
    with ThreadPoolExecutor(workers) as pool:
        checker = _Checker(pool, workers, trust, limits)
        is_dir = stat.S_ISDIR(mode)
        present = _verify_dir(path, checker) if is_dir else _verify_archive(path, checker)
        problems = checker.finish(present)
    return VerifyReport(
        path, tuple(problems), checker.status, len(checker.resources), checker.hashed
    )
