"""verify_package: is a package (folder or .tar.gz) complete, unchanged, valid and sealed?

Recomputes every size and SHA-256, re-counts every table's records, checks each table against
its Table Schema (vectorised, etl.package.schema), lists missing, extra and changed files and
checks the signature. Problems are data (one per file and what differs), never exceptions.
Folder and archive take one path: every file is read once, in order, and hashed on the way, while
a table's pieces are parsed and checked on a thread pool (etl.package.table_stream) — so checking
overlaps reading and, for the archive, inflating (which runs on its own thread).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from isal import isal_zlib

from etl.package.archive import CHUNK, ArchiveReader
from etl.package.descriptor import MANIFEST, SIGNATURE, parse_manifest
from etl.package.signing import SignatureStatus, check_signature, load_public_key
from etl.package.table_stream import TableStream

# isal's stubs declare its error as an instance; at run time it is the exception class
INFLATE_ERROR = cast(type[Exception], isal_zlib.error)


@dataclass(frozen=True, slots=True)
class Problem:
    file: str  # path inside the package; the archive's own name for damage to the archive
    message: str  # Japanese, says what differs


@dataclass(frozen=True, slots=True)
class VerifyReport:
    path: Path
    problems: tuple[Problem, ...]
    signature: SignatureStatus
    files: int  # files listed in the manifest
    bytes: int  # bytes hashed

    @property
    def ok(self) -> bool:
        return not self.problems


def read_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb", buffering=0) as fh:
        while block := fh.read(CHUNK):
            yield block


def _digest_problems(rel: str, res: dict[str, Any], size: int, digest: str) -> list[Problem]:
    out = []
    if size != res.get("bytes"):
        out.append(Problem(rel, f"サイズ {size:,} バイト (定義は {res.get('bytes')})"))
    if f"sha256:{digest}" != res.get("hash"):
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


Progress = Callable[[str, int, int | None], None]  # (label, bytes done, bytes in all)


class _Checker:
    """State shared by the folder and archive walks."""

    def __init__(
        self, pool: ThreadPoolExecutor, trust: Path | None, progress: Progress | None
    ) -> None:
        self.pool = pool
        self.progress = progress
        self.total = 0
        self.trust = trust
        self.trust_key: Ed25519PublicKey | None = load_public_key(trust) if trust else None
        self.problems: list[Problem] = []
        self.tables: list[tuple[str, TableStream]] = []
        self.resources: dict[str, dict[str, Any]] = {}
        self.status = SignatureStatus.UNSIGNED
        self.hashed = 0

    def read_manifest(self, data: bytes | None, sig: bytes | None) -> bool:
        if data is None:
            self.problems.append(Problem(MANIFEST, "datapackage.json がありません"))
            return False
        self.status = check_signature(data, sig, self.trust_key)
        self.problems += _signature_problems(self.status, self.trust)
        try:
            doc = parse_manifest(data)
            self.resources = {str(r["path"]): r for r in doc["resources"]}
            self.total = sum(int(r.get("bytes") or 0) for r in self.resources.values())
        except (ValueError, KeyError, TypeError) as exc:
            self.problems.append(Problem(MANIFEST, f"datapackage.json を読めません: {exc}"))
            return False
        return True

    def consume(self, rel: str, chunks: Iterable[bytes]) -> None:
        """Hash one file's bytes; a table's bytes also go to its streaming check."""
        res = self.resources.get(rel)
        if res is None:
            return  # an extra file: named by finish()
        table = TableStream.for_resource(res, self.pool) if res.get("type") == "table" else None
        h, size = hashlib.sha256(), 0
        for chunk in chunks:
            h.update(chunk)
            size += len(chunk)
            if table is not None:
                table.feed(chunk)
            if self.progress:
                self.progress("verify", self.hashed + size, self.total or None)
        self.hashed += size
        self.problems += _digest_problems(rel, res, size, h.hexdigest())
        if table is not None:
            table.close()
            self.tables.append((rel, table))

    def finish(self, present: Iterable[str]) -> list[Problem]:
        seen = set(present)
        for rel in sorted(set(self.resources) - seen):
            self.problems.append(Problem(rel, "ファイルがありません (missing)"))
        for rel in sorted(seen - set(self.resources) - {MANIFEST, SIGNATURE}):
            self.problems.append(Problem(rel, "定義にないファイルがあります (extra)"))
        for rel, table in self.tables:
            self.problems += [Problem(rel, message) for message in table.problems()]
        return sorted(self.problems, key=lambda p: (p.file, p.message))


def _verify_dir(root: Path, checker: _Checker) -> list[str]:
    manifest, sig = root / MANIFEST, root / SIGNATURE
    ok = checker.read_manifest(
        manifest.read_bytes() if manifest.is_file() else None,
        sig.read_bytes() if sig.is_file() else None,
    )
    present = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if not p.is_dir())
    if ok:
        for rel in present:
            checker.consume(rel, read_chunks(root / rel))
    return present


def _verify_archive(path: Path, checker: _Checker) -> list[str]:
    reader = ArchiveReader(path)
    present: list[str] = []
    head: dict[str, bytes] = {}
    manifest_read = False
    try:
        for m in reader.members():
            present.append(m.name)
            if not m.header_ok:
                checker.problems.append(Problem(m.name, "tar ヘッダが規定の形ではありません"))
            if m.name in (MANIFEST, SIGNATURE) and not manifest_read:
                head[m.name] = b"".join(m.chunks)
                continue
            if not manifest_read:
                manifest_read = True
                if not checker.read_manifest(head.get(MANIFEST), head.get(SIGNATURE)):
                    return present
            checker.consume(m.name, m.chunks)
        if not manifest_read:
            checker.read_manifest(head.get(MANIFEST), head.get(SIGNATURE))
    except (EOFError, OSError, INFLATE_ERROR) as exc:  # BadGzipFile is an OSError
        checker.problems.append(Problem(path.name, f"アーカイブが壊れています: {exc or 'EOF'}"))
    checker.problems += [Problem(f or path.name, msg) for f, msg in reader.problems]
    return present


def verify_package(
    path: Path,
    *,
    trust: Path | None = None,
    workers: int = 4,
    progress: Progress | None = None,
) -> VerifyReport:
    """Check a package folder or its .tar.gz; ``trust``: the sealer's public key (PEM);
    ``progress`` hears the bytes read so far against the bytes the manifest lists."""
    with ThreadPoolExecutor(workers) as pool:
        checker = _Checker(pool, trust, progress)
        present = _verify_dir(path, checker) if path.is_dir() else _verify_archive(path, checker)
        problems = checker.finish(present)
    return VerifyReport(
        path, tuple(problems), checker.status, len(checker.resources), checker.hashed
    )
