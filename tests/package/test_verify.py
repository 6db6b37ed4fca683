"""verify_package: ok when untouched; names the file for every kind of damage."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import shutil
import stat
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl import events
from etl.package import (
    PackageError,
    PackageResult,
    SignatureStatus,
    generate_keys,
    verify_package,
)
from tests.package.conftest import make_package


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _named(report_files: set[str], rel: str) -> bool:
    if rel == "datapackage.json":  # a changed manifest breaks its signature
        return bool(report_files & {"datapackage.json", "datapackage.json.sig"})
    return rel in report_files


def test_untouched_package_is_ok(package: PackageResult, keys: tuple[Path, Path]) -> None:
    for path in (package.package_dir, package.archive):
        report = verify_package(path, trust=keys[1])
        assert report.ok, report.problems
        assert report.signature is SignatureStatus.VALID
        assert report.files == len(package.resources)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_flipped_byte_in_the_folder_is_named(
    package: PackageResult, keys: tuple[Path, Path], data: st.DataObject
) -> None:
    rel = data.draw(st.sampled_from(_files(package.package_dir)))
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "pkg"
        shutil.copytree(package.package_dir, copy)
        target = copy / rel
        raw = bytearray(target.read_bytes())
        offset = data.draw(st.integers(0, len(raw) - 1))
        raw[offset] ^= data.draw(st.integers(1, 255))
        target.write_bytes(raw)
        report = verify_package(copy, trust=keys[1])
    assert not report.ok
    assert _named({p.file for p in report.problems}, rel), (rel, offset, report.problems)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_flipped_byte_in_the_archive_is_found(
    package: PackageResult, keys: tuple[Path, Path], data: st.DataObject
) -> None:
    sealed = package.archive.read_bytes()
    raw = bytearray(sealed)
    offset = data.draw(st.integers(0, len(raw) - 1))
    raw[offset] ^= data.draw(st.integers(1, 255))
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / package.archive.name
        copy.write_bytes(raw)
        report = verify_package(copy, trust=keys[1])
    if report.ok:
        # Only a bit no inflater reads may change unnoticed: the padding after a deflate block
        # (flush points, the stream's end). What the archive holds is then byte for byte the
        # same, so nothing a receiver gets was changed.
        assert gzip.decompress(bytes(raw)) == gzip.decompress(sealed), offset
        return
    # Damage is named by member where it can be placed, else by the archive itself.
    members = set(_files(package.package_dir)) | {copy.name}
    assert {p.file for p in report.problems} & members, report.problems


def _copy(package: PackageResult, tmp_path: Path) -> Path:
    copy = tmp_path / "pkg"
    shutil.copytree(package.package_dir, copy)
    return copy


def test_deleted_file_is_named(package: PackageResult, tmp_path: Path) -> None:
    copy = _copy(package, tmp_path)
    (copy / "data" / "juki" / "setai.csv").unlink()
    report = verify_package(copy)
    assert [p.file for p in report.problems] == ["data/juki/setai.csv"]
    assert "missing" in report.problems[0].message


def test_added_file_is_named(package: PackageResult, tmp_path: Path) -> None:
    copy = _copy(package, tmp_path)
    (copy / "data" / "juki" / "extra.csv").write_text("a\n1\n")
    report = verify_package(copy)
    assert [p.file for p in report.problems] == ["data/juki/extra.csv"]
    assert "extra" in report.problems[0].message


def test_manifest_rehashed_without_the_key_fails_the_signature(
    package: PackageResult, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    copy = _copy(package, tmp_path)
    data = copy / "data" / "kokunen" / "kokunen.csv"
    raw = bytearray(data.read_bytes())
    raw[-2] = ord("9") if raw[-2] != ord("9") else ord("8")  # a digit of the last record
    data.write_bytes(raw)
    doc = json.loads((copy / "datapackage.json").read_bytes())
    for res in doc["resources"]:
        if res["path"] == "data/kokunen/kokunen.csv":
            res["hash"] = "sha256:" + hashlib.sha256(bytes(raw)).hexdigest()
            res["bytes"] = len(raw)
    (copy / "datapackage.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    report = verify_package(copy, trust=keys[1])
    assert report.signature is SignatureStatus.INVALID
    assert "datapackage.json.sig" in {p.file for p in report.problems}
    assert not verify_package(copy).ok  # invalid even without a trusted key


def test_unsigned_and_untrusted(
    sample_run: Path, package: PackageResult, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    unsigned = make_package(sample_run, tmp_path / "u" / "pkg", None)
    assert verify_package(unsigned.package_dir).ok
    report = verify_package(unsigned.archive, trust=keys[1])
    assert report.signature is SignatureStatus.UNSIGNED and not report.ok
    other = generate_keys(tmp_path / "other.pem", tmp_path / "other.pub.pem")
    report = verify_package(package.package_dir, trust=other.public_path)
    assert report.signature is SignatureStatus.UNTRUSTED
    assert [p.file for p in report.problems] == ["datapackage.json.sig"]


def test_private_key_is_owner_only_and_never_logged(
    sample_run: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    pair = generate_keys(tmp_path / "k" / "seal.pem", tmp_path / "k" / "seal.pub.pem")
    assert stat.S_IMODE(pair.private_path.stat().st_mode) == 0o600
    result = make_package(sample_run, tmp_path / "p" / "pkg", pair.private_path)
    verify_package(result.archive, trust=pair.public_path)
    secret = "".join(pair.private_path.read_text().splitlines()[1:-1])
    out = capsys.readouterr()
    for text in (caplog.text, out.out, out.err, repr(result), repr(pair)):
        assert secret not in text
    for path in result.package_dir.rglob("*"):
        assert not path.is_file() or secret.encode() not in path.read_bytes()
    with pytest.raises(PackageError, match="already exists"):
        generate_keys(pair.private_path, tmp_path / "k" / "x.pub.pem")


def test_a_damaged_schema_pattern_is_a_problem_not_a_crash(
    package: PackageResult, tmp_path: Path
) -> None:
    copy = _copy(package, tmp_path)
    manifest = copy / "datapackage.json"
    text = manifest.read_text("utf-8")
    assert '"pattern": "[0-9]+"' in text
    manifest.write_text(text.replace('"pattern": "[0-9]+"', '"pattern": "([0-9]+"', 1), "utf-8")
    report = verify_package(copy)
    assert not report.ok
    assert any("スキーマ定義を検査に使えません" in p.message for p in report.problems)


def test_progress_reaches_the_bytes_the_manifest_lists(package: PackageResult) -> None:
    heard: list[tuple[str, int, int | None]] = []

    def hear(event: events.Event) -> None:
        if isinstance(event, events.Progress):
            heard.append((event.label, event.done, event.total))

    with events.listening(hear):
        report = verify_package(package.archive)
    assert report.ok and heard
    label, done, total = heard[-1]
    assert label == "verify" and done == total == report.bytes
    assert [d for _, d, _ in heard] == sorted(d for _, d, _ in heard)
