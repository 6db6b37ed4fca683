"""verify_package: is a package (folder or .tar.gz) complete, unchanged, valid and sealed?

Recomputes every size and SHA-256, re-counts every table's records, checks each table against
its Table Schema (vectorised, etl.package.schema), lists missing, extra and changed files and
checks the signature. Problems are data (one per file and what differs), never exceptions.
Hashes run on a small thread pool (hashlib releases the GIL) while tables are checked.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from etl.package.archive import CHUNK, ArchiveReader
from etl.package.build import read_table
from etl.package.descriptor import MANIFEST, SIGNATURE, parse_manifest
from etl.package.schema import FieldRule, check_table
from etl.package.signing import SignatureStatus, check_signature, load_public_key

CONSTRAINT_LABELS = {
    "required": "必須項目が空",
    "maxLength": "桁数超過",
    "pattern": "形式 (pattern) 不一致",
    "enum": "コード表にない値",
    "type": "整数でない値",
    "minimum": "最小値未満",
    "maximum": "最大値超過",
    "primaryKey": "キーの重複",
}


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


def hash_file(path: Path) -> tuple[int, str]:
    h, size = hashlib.sha256(), 0
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    with path.open("rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            h.update(view[:n])
            size += n
    return size, h.hexdigest()


def _table_problems(rel: str, res: dict[str, Any], data: bytes | Path) -> list[Problem]:
    schema = res.get("schema") or {}
    fields = [FieldRule.from_descriptor(f) for f in schema.get("fields", [])]
    try:
        frame = read_table(data, str(res.get("encoding", "utf-8")))
    except Exception as exc:
        return [Problem(rel, f"CSV として読めません: {type(exc).__name__}")]
    out = []
    names = [f.name for f in fields]
    if frame.columns != names:
        out.append(Problem(rel, f"見出し行が定義と異なります: {frame.columns[:5]}…"))
        return out
    expected = (res.get("chukan") or {}).get("records")
    if expected is not None and frame.height != expected:
        out.append(Problem(rel, f"レコード件数 {frame.height:,} 件 (定義は {expected:,} 件)"))
    try:
        violations = check_table(frame, fields, schema.get("primaryKey", []))
    except pl.exceptions.PolarsError as exc:
        # A damaged datapackage.json can hold a schema that cannot run (an unbalanced pattern):
        # that is a finding about this file's definition, never a crash of verify.
        out.append(Problem(rel, f"スキーマ定義を検査に使えません: {type(exc).__name__}"))
        return out
    for v in violations:
        label = CONSTRAINT_LABELS.get(v.constraint, v.constraint)
        out.append(
            Problem(rel, f"{v.field}: {label} {v.rows:,} 件 (最初はデータ {v.first_row} 行目)")
        )
    return out


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


class _Checker:
    """State shared by the folder and archive walks."""

    def __init__(self, pool: ThreadPoolExecutor, trust: Path | None) -> None:
        self.pool = pool
        self.trust = trust
        self.trust_key: Ed25519PublicKey | None = load_public_key(trust) if trust else None
        self.problems: list[Problem] = []
        self.pending: list[Future[list[Problem]]] = []
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
        except (ValueError, KeyError, TypeError) as exc:
            self.problems.append(Problem(MANIFEST, f"datapackage.json を読めません: {exc}"))
            return False
        return True

    def submit(self, fn: Callable[..., list[Problem]], *args: Any) -> None:
        self.pending.append(self.pool.submit(fn, *args))

    def finish(self, present: Iterable[str]) -> list[Problem]:
        seen = set(present)
        for rel in sorted(set(self.resources) - seen):
            self.problems.append(Problem(rel, "ファイルがありません (missing)"))
        for rel in sorted(seen - set(self.resources) - {MANIFEST, SIGNATURE}):
            self.problems.append(Problem(rel, "定義にないファイルがあります (extra)"))
        for job in self.pending:
            self.problems += job.result()
        return sorted(self.problems, key=lambda p: (p.file, p.message))


def _check_dir_file(path: Path, rel: str, res: dict[str, Any]) -> list[Problem]:
    size, digest = hash_file(path)
    return _digest_problems(rel, res, size, digest)


def _verify_dir(root: Path, checker: _Checker) -> list[str]:
    manifest, sig = root / MANIFEST, root / SIGNATURE
    ok = checker.read_manifest(
        manifest.read_bytes() if manifest.is_file() else None,
        sig.read_bytes() if sig.is_file() else None,
    )
    present = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if not p.is_dir())
    if not ok:
        return present
    # Largest first, so the big hashes start at once and small files fill the gaps.
    ordered = sorted(
        (r for r in present if r in checker.resources), key=lambda r: -(root / r).stat().st_size
    )
    for rel in ordered:
        res = checker.resources[rel]
        checker.submit(_check_dir_file, root / rel, rel, res)
        if res.get("type") == "table":
            checker.submit(_table_problems, rel, res, root / rel)
    checker.hashed = sum((root / r).stat().st_size for r in ordered)
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
            res = checker.resources.get(m.name)
            if res is None:
                continue
            table = res.get("type") == "table"
            h, parts = hashlib.sha256(), []
            for chunk in m.chunks:
                h.update(chunk)
                if table:
                    parts.append(chunk)
            checker.hashed += m.size
            checker.problems += _digest_problems(m.name, res, m.size, h.hexdigest())
            if table:
                checker.submit(_table_problems, m.name, res, b"".join(parts))
        if not manifest_read:
            checker.read_manifest(head.get(MANIFEST), head.get(SIGNATURE))
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
        checker.problems.append(Problem(path.name, f"アーカイブが壊れています: {exc or 'EOF'}"))
    checker.problems += [Problem(f or path.name, msg) for f, msg in reader.problems]
    return present


def verify_package(path: Path, *, trust: Path | None = None, workers: int = 4) -> VerifyReport:
    """Check a package folder or its .tar.gz; ``trust``: the sealer's public key (PEM)."""
    with ThreadPoolExecutor(workers) as pool:
        checker = _Checker(pool, trust)
        present = _verify_dir(path, checker) if path.is_dir() else _verify_archive(path, checker)
        problems = checker.finish(present)
    return VerifyReport(
        path, tuple(problems), checker.status, len(checker.resources), checker.hashed
    )
