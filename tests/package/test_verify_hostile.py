"""Hostile packages: whatever a package holds, `chukan verify` names it in one line, in bounded
memory and time, and never says OK about a signer it did not check.

The bombs are a few MB of gzip that inflate to GBs, written streaming (one deflate unit of
1 MiB repeated after a full flush), and verified in a child process whose peak RSS (wait4)
and wall time are measured.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import posixpath
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from isal import isal_zlib

from etl.cli import cli
from etl.package import PackageResult, generate_keys, load_private_key, verify_package
from etl.package.archive import BLOCK, RECORD, canonical_entries, canonical_header
from etl.package.descriptor import JSON_DEPTH_MAX, json_depth, path_problem
from etl.package.schema import FieldRule, check_table
from etl.package.signing import sign_descriptor
from etl.package.table_stream import TableStream, read_table

MIB = 1 << 20
RSS_MAX = 300 * MIB
TIMEOUT_S = 240.0  # the bound is far below; the machine running the tests may be busy
PERSONAL = ("竹井",)  # a name in the sample: never printed


# --- building hostile archives -----------------------------------------------------------------


def _gzip_bomb(
    dest: Path, head: bytes, fill: bytes, count: int, tail: bytes = b"", *, crc: bool = True
) -> None:
    """gzip of ``head + fill * count + tail`` without ever holding more than ``fill``: after a
    full flush the deflate output of ``fill`` is the same unit every time, so it is copied.
    ``crc=False`` leaves the trailer wrong, for a bomb read no further than its start."""
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    with dest.open("wb") as fh:
        fh.write(c.compress(head) + c.flush(zlib.Z_FULL_FLUSH))
        unit = c.compress(fill) + c.flush(zlib.Z_FULL_FLUSH)
        assert c.compress(fill) + c.flush(zlib.Z_FULL_FLUSH) == unit
        for _ in range(count):
            fh.write(unit)
        end = c.compress(tail) + c.flush()
        check = isal_zlib.crc32(head)
        for _ in range(count if crc else 0):
            check = isal_zlib.crc32(fill, check)
        check = isal_zlib.crc32(tail, check)
        size = len(head) + len(fill) * count + len(tail)
        fh.write(end[:-8] + struct.pack("<II", check, size & 0xFFFFFFFF))


def _member(info: tarfile.TarInfo, data: bytes = b"", fmt: int = tarfile.USTAR_FORMAT) -> bytes:
    return info.tobuf(fmt, "utf-8", "surrogateescape") + data + bytes(-len(data) % BLOCK)


def _info(name: str, size: int = 0, kind: bytes = tarfile.REGTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.type, info.mode, info.mtime = size, kind, 0o600, 0
    if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
        info.linkname = "/etc/passwd"
    return info


def _members(package: PackageResult, skip: frozenset[str] = frozenset()) -> bytes:
    """The package's own members as the canonical writer lays them out, minus ``skip``."""
    root, prefix = package.package_dir, package.package_dir.name
    files = [
        (p.relative_to(root).as_posix(), p.stat().st_size) for p in root.rglob("*") if p.is_file()
    ]
    out = bytearray()
    for info in canonical_entries(prefix, files):
        rel = info.name.removeprefix(prefix + "/")
        if rel in skip:
            continue
        data = b"" if info.isdir() else (root / rel).read_bytes()
        out += canonical_header(info) + data + bytes(-len(data) % BLOCK)
    return bytes(out)


def _end(length: int) -> bytes:
    """End-of-archive zero blocks, padded to the record size."""
    return bytes(2 * BLOCK + (-(length + 2 * BLOCK)) % RECORD)


def _archive(dest: Path, tar: bytes) -> Path:
    dest.write_bytes(gzip.compress(tar + _end(len(tar)), mtime=0))
    return dest


# --- running verify ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    code: int
    output: str
    rss: int  # peak resident bytes of the verify process
    seconds: float


# The child reports its own high-water mark (VmHWM of its address space) when it exits. Not
# ru_maxrss: Linux carries the parent's peak across fork and exec into the child's ru_maxrss,
# so after a memory-hungry test the child would seem to use pytest's memory.
_REPORT_PEAK = (
    "import atexit, os, sys\n"
    "def _peak():\n"
    "    with open('/proc/self/status') as f, open(os.environ['CHUKAN_TEST_PEAK'], 'w') as out:\n"
    "        out.write(next(l for l in f if l.startswith('VmHWM:')).split()[1])\n"
    "atexit.register(_peak)\n"
    "from etl.cli import main\n"
    "main()\n"
)


def _chukan(*args: str | Path) -> Run:
    """`chukan ARGS` in a child process: exit code, output, its own peak RSS, wall time."""
    with tempfile.TemporaryFile() as log, tempfile.TemporaryDirectory() as tmp:
        peak_file = Path(tmp) / "peak"
        env = {**os.environ, "COLUMNS": "1000", "CHUKAN_TEST_PEAK": str(peak_file)}
        start = time.monotonic()
        child = subprocess.Popen(
            [sys.executable, "-c", _REPORT_PEAK, *map(str, args)], stdout=log, stderr=log, env=env
        )
        try:
            child.wait(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            pytest.fail(f"verify did not finish within {TIMEOUT_S} s: {args}")
        log.seek(0)
        output = log.read().decode("utf-8", "replace")
        peak_kib = int(peak_file.read_text()) if peak_file.exists() else 0
    assert peak_kib, f"the child reported no peak memory: {output}"
    return Run(child.returncode, output, peak_kib * 1024, time.monotonic() - start)


def _line(output: str, file: str, *words: str) -> str:
    """The one line naming ``file`` that holds every word."""
    lines = [line for line in output.splitlines() if line.startswith(f"{file}: ")]
    hits = [line for line in lines if all(w in line for w in words)]
    assert hits, (file, words, output)
    return hits[0]


def _assert_named(code: int, output: str, file: str, *words: str, exit_code: int = 1) -> None:
    """The exit code, one line naming ``file`` with every word, no traceback, nothing personal."""
    assert code == exit_code, output
    assert "Traceback" not in output
    _line(output, file, *words)
    assert not any(p in output for p in PERSONAL)


def _assert_bounded(run: Run) -> None:
    assert run.rss < RSS_MAX, f"peak RSS {run.rss / MIB:.0f} MiB"


def _verify(*args: str | Path) -> tuple[int, str]:
    """`chukan verify` in this process (for inputs that cannot hang or blow up memory)."""
    result = CliRunner().invoke(cli, ["verify", *map(str, args)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


# --- archives that inflate to GBs -------------------------------------------------------------


def test_zeros_after_the_end_of_the_archive(
    package: PackageResult, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    bomb = tmp_path / "zeros.tar.gz"
    tar = gzip.decompress(package.archive.read_bytes())
    _gzip_bomb(bomb, tar, bytes(MIB), 3072, crc=False)  # 3 GiB of zeros after the last record
    assert bomb.stat().st_size < 5 * MIB
    run = _chukan("verify", bomb, "--trust", keys[1])
    _assert_named(run.code, run.output, bomb.name, "tar の終端の後に", f"{RECORD:,} バイトを超える")
    _assert_bounded(run)


def test_a_5_gb_datapackage_json(package: PackageResult, tmp_path: Path) -> None:
    bomb = tmp_path / "manifest.tar.gz"
    prefix = package.package_dir.name
    head = _member(_info(prefix + "/", 0, tarfile.DIRTYPE))
    head += _member(_info(f"{prefix}/datapackage.json", 5 << 30))
    _gzip_bomb(bomb, head, b"[" * MIB, 5 << 10, crc=False)
    assert bomb.stat().st_size < 10 * MIB
    run = _chukan("verify", bomb, "--integrity-only")
    _assert_named(run.code, run.output, "datapackage.json", "5,368,709,120 バイトは上限")
    _assert_bounded(run)


def _manifest_with(package: PackageResult, rel: str, size: int) -> bytes:
    doc = json.loads((package.package_dir / "datapackage.json").read_bytes())
    for res in doc["resources"]:
        if res["path"] == rel:
            res["bytes"] = size
    return json.dumps(doc, ensure_ascii=False).encode()


@pytest.mark.parametrize(
    ("lead", "fill", "words"),
    [
        (b"", b"a" * MIB, ("最初の 1,048,576 バイトに見出し行",)),
        (b'h\n1\n"', b"\n" * MIB, ("2 バイト目から", "バイトにレコード")),
    ],
    ids=["no-line-feed", "open-quote"],
)
def test_a_table_that_never_ends_a_record(
    package: PackageResult, tmp_path: Path, lead: bytes, fill: bytes, words: tuple[str, ...]
) -> None:
    rel, count = "data/juki/jumin.csv", 2 << 10  # 2 GiB
    prefix = package.package_dir.name
    manifest = _manifest_with(package, rel, len(lead) + count * MIB)
    head = _member(_info(prefix + "/", 0, tarfile.DIRTYPE))
    head += _member(_info(f"{prefix}/datapackage.json", len(manifest)), manifest)
    head += _member(_info(f"{prefix}/{rel}", len(lead) + count * MIB)) + lead
    bomb = tmp_path / "endless.tar.gz"
    _gzip_bomb(bomb, head, fill, count, bytes(-len(lead) % BLOCK) + _end(0))
    run = _chukan("verify", bomb, "--integrity-only")
    _assert_named(run.code, run.output, rel, "区切りが見つかりません", *words)
    _assert_bounded(run)


def test_a_table_larger_than_declared_is_read_one_byte_past(
    package: PackageResult, tmp_path: Path
) -> None:
    rel = "data/juki/jumin.csv"
    declared = (package.package_dir / rel).stat().st_size
    prefix = package.package_dir.name
    manifest = _manifest_with(package, rel, declared)
    head = _member(_info(prefix + "/", 0, tarfile.DIRTYPE))
    head += _member(_info(f"{prefix}/datapackage.json", len(manifest)), manifest)
    head += _member(_info(f"{prefix}/{rel}", (1 << 30) + declared))
    bomb = tmp_path / "longer.tar.gz"
    _gzip_bomb(bomb, head + (package.package_dir / rel).read_bytes(), b"1\n" * (MIB // 2), 1024)
    run = _chukan("verify", bomb, "--integrity-only")
    _assert_named(run.code, run.output, rel, f"定義の {declared:,} バイトより大きい")
    _assert_bounded(run)


# --- folders that lead elsewhere or never end -------------------------------------------------


def _copy(package: PackageResult, tmp_path: Path) -> Path:
    copy = tmp_path / "pkg"
    shutil.copytree(package.package_dir, copy)
    return copy


def test_a_resource_that_is_dev_zero_or_a_fifo(package: PackageResult, tmp_path: Path) -> None:
    copy = _copy(package, tmp_path)
    (copy / "data/juki/jumin.csv").unlink()
    (copy / "data/juki/jumin.csv").symlink_to("/dev/zero")
    (copy / "data/juki/setai.csv").unlink()
    os.mkfifo(copy / "data/juki/setai.csv")  # nobody ever writes: opening it must not block
    run = _chukan("verify", copy, "--integrity-only")
    _assert_named(run.code, run.output, "data/juki/jumin.csv", "シンボリックリンク", "読みません")
    _assert_named(run.code, run.output, "data/juki/setai.csv", "FIFO", "読みません")
    assert "missing" not in run.output
    _assert_bounded(run)


def test_a_sparse_5_gb_datapackage_json_in_the_folder(
    package: PackageResult, tmp_path: Path
) -> None:
    copy = _copy(package, tmp_path)
    with (copy / "datapackage.json").open("r+b") as fh:
        fh.truncate(5 << 30)
    run = _chukan("verify", copy, "--integrity-only")
    _assert_named(run.code, run.output, "datapackage.json", "上限", "超えます")
    _assert_bounded(run)


def test_symlinks_out_of_the_folder_are_not_followed(
    package: PackageResult, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    copy = _copy(package, tmp_path)
    outside = tmp_path / "outside"
    shutil.copytree(copy / "data" / "juki", outside)  # the same bytes, elsewhere
    shutil.rmtree(copy / "data" / "juki")
    (copy / "data" / "juki").symlink_to(outside, target_is_directory=True)
    (copy / "summary.json").unlink()
    (copy / "summary.json").symlink_to(package.package_dir / "summary.json")
    code, output = _verify(copy, "--trust", keys[1])
    _assert_named(code, output, "data/juki", "シンボリックリンク")
    _assert_named(code, output, "summary.json", "シンボリックリンク")
    assert "OK" not in output.splitlines()[-1]


def test_a_symlinked_datapackage_json_is_not_read(
    package: PackageResult, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    copy = _copy(package, tmp_path)
    real = tmp_path / "datapackage.json"
    shutil.move(copy / "datapackage.json", real)
    (copy / "datapackage.json").symlink_to(real)
    code, output = _verify(copy, "--trust", keys[1])
    _assert_named(code, output, "datapackage.json", "シンボリックリンク", "読みません")
    assert "がありません" not in _line(output, "datapackage.json")


@pytest.mark.parametrize(
    "path", ["../outside.csv", "/etc/passwd", "data\\..\\..\\x.csv", "data/./juki.csv", "a//b"]
)
def test_a_resource_path_that_leaves_the_package(
    package: PackageResult, tmp_path: Path, path: str
) -> None:
    copy = _copy(package, tmp_path)
    doc = json.loads((copy / "datapackage.json").read_bytes())
    doc["resources"][0]["path"] = path
    (copy / "datapackage.json").write_text(json.dumps(doc, ensure_ascii=False))
    code, output = _verify(copy, "--integrity-only")
    _assert_named(
        code, output, "datapackage.json", "resources[0].path", "パッケージ内のパスではありません"
    )


def test_a_deeply_nested_datapackage_json(package: PackageResult, tmp_path: Path) -> None:
    copy = _copy(package, tmp_path)
    (copy / "datapackage.json").write_bytes(b"[" * 1_000_000 + b"]" * 1_000_000)
    code, output = _verify(copy, "--integrity-only")
    _assert_named(code, output, "datapackage.json", "入れ子", f"上限 {JSON_DEPTH_MAX} 段")


def test_a_schema_of_the_wrong_shape_is_named(package: PackageResult, tmp_path: Path) -> None:
    copy = _copy(package, tmp_path)
    doc = json.loads((copy / "datapackage.json").read_bytes())
    tables = [r for r in doc["resources"] if r.get("type") == "table"]
    tables[0]["schema"]["fields"][0]["constraints"] = {"maxLength": "many"}
    tables[1]["schema"]["fields"] = "all"
    tables[2]["chukan"]["records"] = "lots"
    (copy / "datapackage.json").write_text(json.dumps(doc, ensure_ascii=False))
    code, output = _verify(copy, "--integrity-only")
    _assert_named(code, output, tables[0]["path"], "スキーマ")
    _assert_named(code, output, tables[1]["path"], "schema.fields")
    _assert_named(code, output, tables[2]["path"], "chukan.records")


# --- archives whose members are not what the canonical writer makes ---------------------------


def test_a_second_copy_of_a_member_is_refused(
    package: PackageResult, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    prefix, rel = package.package_dir.name, "data/juki/jumin.csv"
    other = b"x\n"
    tar = _members(package) + _member(_info(f"{prefix}/{rel}", len(other)), other)
    code, output = _verify(_archive(tmp_path / "dup.tar.gz", tar), "--trust", keys[1])
    _assert_named(code, output, rel, "二度")


@pytest.mark.parametrize(
    ("kind", "word"),
    [
        (tarfile.SYMTYPE, "シンボリックリンク"),
        (tarfile.LNKTYPE, "ハードリンク"),
        (tarfile.CHRTYPE, "デバイス"),
        (tarfile.FIFOTYPE, "FIFO"),
    ],
)
def test_a_member_that_is_not_a_regular_file(
    package: PackageResult, keys: tuple[Path, Path], tmp_path: Path, kind: bytes, word: str
) -> None:
    prefix, rel = package.package_dir.name, "summary.json"
    tar = _members(package, frozenset({rel})) + _member(_info(f"{prefix}/{rel}", 0, kind))
    code, output = _verify(_archive(tmp_path / "odd.tar.gz", tar), "--trust", keys[1])
    _assert_named(code, output, rel, word, "通常のファイルではありません")
    assert "missing" not in output


@pytest.mark.parametrize(
    "name", ["{p}/../evil.csv", "/etc/cron.d/evil", "elsewhere/evil.csv", "{p}/data\\evil.csv"]
)
def test_a_member_name_that_escapes(
    package: PackageResult, keys: tuple[Path, Path], tmp_path: Path, name: str
) -> None:
    name = name.format(p=package.package_dir.name)
    tar = _members(package) + _member(_info(name, 3), b"x,y")
    code, output = _verify(_archive(tmp_path / "escape.tar.gz", tar), "--trust", keys[1])
    assert code == 1 and "Traceback" not in output
    assert repr(name) in output, output


@pytest.mark.parametrize(
    ("fmt", "words"),
    [
        (tarfile.GNU_FORMAT, ("サイズ 9,663,676,416 バイト", "ustar の上限")),
        (tarfile.PAX_FORMAT, ("pax 拡張ヘッダ",)),
    ],
    ids=["gnu-base-256", "pax-size"],
)
def test_a_member_of_8_gib_or_more(
    package: PackageResult, keys: tuple[Path, Path], tmp_path: Path, fmt: int, words: tuple[str]
) -> None:
    prefix = package.package_dir.name
    big = _info(f"{prefix}/data/big.csv", 9 << 30).tobuf(fmt, "utf-8", "surrogateescape")
    code, output = _verify(
        _archive(tmp_path / "big.tar.gz", _members(package) + big), "--trust", keys[1]
    )
    assert code == 1 and "Traceback" not in output, output
    assert any(all(w in line for w in words) for line in output.splitlines()), output


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.text(max_size=60),
    kind=st.sampled_from(
        [b"0", b"\0", b"1", b"2", b"3", b"4", b"5", b"6", b"7", b"x", b"g", b"L", b"K", b"S", b"Z"]
    ),
    size=st.one_of(st.integers(0, 4096), st.integers(0, 1 << 40)),
    data=st.binary(max_size=2048),
)
def test_any_member_header_is_a_problem_not_a_crash(
    package: PackageResult, tmp_path: Path, name: str, kind: bytes, size: int, data: bytes
) -> None:
    info = _info(f"{package.package_dir.name}/{name}", size, kind)
    try:
        header = info.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape")
    except ValueError:  # a name tarfile itself cannot write
        return
    with tempfile.TemporaryDirectory(dir=tmp_path) as tmp:
        path = _archive(Path(tmp) / "any.tar.gz", _members(package) + header + data)
        report = verify_package(path)
    assert not report.ok
    for p in report.problems:  # one line, printable on any terminal
        p.line.encode("utf-8")
        assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in p.line), p.line


# --- who signed it ----------------------------------------------------------------------------


def test_a_package_re_signed_by_another_key_is_not_ok_without_trust(
    package: PackageResult, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    copy = _copy(package, tmp_path)
    other = generate_keys(tmp_path / "other.pem", tmp_path / "other.pub")
    manifest = (copy / "datapackage.json").read_bytes()
    (copy / "datapackage.json.sig").write_bytes(
        sign_descriptor(manifest, load_private_key(other.private_path))
    )
    code, output = _verify(copy)
    assert code == 2 and "OK" not in output
    assert "--trust PUB" in output and "--integrity-only" in output
    code, output = _verify(copy, "--integrity-only")
    assert code == 0 and "the signer was NOT checked" in output, output
    code, output = _verify(copy, "--trust", keys[1])
    _assert_named(code, output, "datapackage.json.sig", "信頼する公開鍵")


def test_a_package_without_its_signature_is_not_ok_without_trust(
    package: PackageResult, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    copy = _copy(package, tmp_path)
    (copy / "datapackage.json.sig").unlink()
    code, output = _verify(copy)
    assert code == 2 and "--trust PUB" in output and "OK" not in output
    code, output = _verify(copy, "--integrity-only")
    assert code == 0 and "signature: unsigned" in output and "NOT checked" in output
    code, output = _verify(copy, "--trust", keys[1])
    _assert_named(code, output, "datapackage.json.sig", "署名がありません")
    code, output = _verify(copy, "--trust", keys[1], "--integrity-only")
    assert code == 2 and "not both" in output


# --- the bounds themselves --------------------------------------------------------------------


def test_a_table_piece_without_a_record_end_stops_growing() -> None:
    fields = (FieldRule("a", "string"),)
    with ThreadPoolExecutor(2) as pool:
        stream = TableStream(fields, (), "utf-8", pool, piece=1 << 16, record_max=1 << 20)
        stream.feed(b"a\n1\n")  # then one record without end
        for _ in range(64):
            stream.feed(b"x" * (1 << 16))
            assert len(stream.buffer) <= (1 << 20) + (1 << 16)
        stream.close()
        (message,) = stream.problems()
    assert "4 バイト目から" in message and "区切りが見つかりません" in message


def _json_nesting(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_json_nesting(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_json_nesting(v) for v in value), default=0)
    return 0


_TEXT = st.text(alphabet=st.sampled_from('ab"\\[]{}\n 日'), max_size=8)
_JSON = st.recursive(
    st.none() | st.integers() | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(value=_JSON, window=st.sampled_from([1, 3, 64, 1 << 20]), indent=st.sampled_from([None, 1]))
def test_json_depth_is_the_nesting_of_any_json(
    value: object, window: int, indent: int | None
) -> None:
    text = json.dumps(value, ensure_ascii=False, indent=indent).encode()
    assert json_depth(text, window) == _json_nesting(value)


@settings(max_examples=300, deadline=None)
@given(rel=st.text(alphabet=st.sampled_from("ab./\\:C\x00"), max_size=12))
def test_an_accepted_resource_path_is_normal_and_inside(rel: str) -> None:
    if path_problem(rel) is None:
        assert posixpath.normpath(rel) == rel and not posixpath.isabs(rel)
        assert ".." not in rel.split("/") and "\\" not in rel and "\x00" not in rel


def test_bounded_reading_of_a_good_package_changes_nothing(
    package: PackageResult, keys: tuple[Path, Path]
) -> None:
    from etl.package.verify import UNLIMITED

    for path in (package.package_dir, package.archive):
        bounded = verify_package(path, trust=keys[1])
        unbounded = verify_package(path, trust=keys[1], limits=UNLIMITED)
        assert bounded.ok and unbounded.ok and bounded.signer_checked
        assert (bounded.files, bounded.bytes) == (unbounded.files, unbounded.bytes)


def test_io_helpers_are_what_they_claim(tmp_path: Path) -> None:
    bomb = tmp_path / "check.gz"
    _gzip_bomb(bomb, b"head", b"0123456789" * 1000, 50, b"tail")
    assert gzip.decompress(bomb.read_bytes()) == b"head" + b"0123456789" * 50_000 + b"tail"
    assert len(_end(0)) % RECORD == 0 and (700 + len(_end(700))) % RECORD == 0
    assert io.BytesIO(_member(_info("a/b", 3), b"xyz")).read(BLOCK)[:3] == b"a/b"


@settings(max_examples=80, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(["a", "b", "c", ""]), st.sampled_from(["", "x", "yy"])),
        max_size=60,
    ),
    key=st.sampled_from([("k",), ("k", "v")]),
    piece=st.integers(1, 80),
    fold_rows=st.integers(1, 8),
)
def test_repeated_keys_count_as_in_the_whole_file(
    rows: list[tuple[str, str]], key: tuple[str, ...], piece: int, fold_rows: int
) -> None:
    """Pieces that repeat keys keep only distinct keys (folded across pieces): the count and
    first row of duplicated keys stay those of one check over the whole file."""
    fields = (FieldRule("k", "string"), FieldRule("v", "string"))
    data = ("k,v\n" + "".join(f"{k},{v}\n" for k, v in rows)).encode()
    whole = check_table(read_table(data, "utf-8"), (), key) if rows else []
    with ThreadPoolExecutor(3) as pool:
        stream = TableStream(fields, key, "utf-8", pool, piece=piece, fold_rows=fold_rows)
        for i in range(0, len(data), 7):
            stream.feed(data[i : i + 7])
        stream.close()
        streamed = [v for v in stream.outcome().violations if v.constraint == "primaryKey"]
    assert streamed == whole


def test_a_table_repeating_one_key_keeps_one_key(package: PackageResult, tmp_path: Path) -> None:
    """A bomb of one repeated key (2 bytes a record): bounded by its distinct keys."""
    rel, count = "data/juki/jumin.csv", 512  # 512 MiB, 268M records of one key
    prefix = package.package_dir.name
    doc = json.loads((package.package_dir / "datapackage.json").read_bytes())
    for res in doc["resources"]:
        if res["path"] == rel:
            res["bytes"] = 2 + count * MIB
            res["schema"] = {"fields": [{"name": "a", "type": "string"}], "primaryKey": ["a"]}
    manifest = json.dumps(doc, ensure_ascii=False).encode()
    head = _member(_info(prefix + "/", 0, tarfile.DIRTYPE))
    head += _member(_info(f"{prefix}/datapackage.json", len(manifest)), manifest)
    head += _member(_info(f"{prefix}/{rel}", 2 + count * MIB)) + b"a\n"
    bomb = tmp_path / "keys.tar.gz"
    _gzip_bomb(bomb, head, b"1\n" * (MIB // 2), count, bytes(BLOCK - 2) + _end(0))
    run = _chukan("verify", bomb, "--integrity-only")
    _assert_named(run.code, run.output, rel, "キーの重複 268,435,456 件", "最初はデータ 1 行目")
    _assert_bounded(run)
