"""build_package: Frictionless-valid, deterministic, owner-only, with dictionary and gaiji list."""

from __future__ import annotations

import hashlib
import json
import stat
import subprocess
from pathlib import Path

import openpyxl
import pytest

from etl.layout import load_layouts
from etl.package import FindingsNotAccepted, PackageResult, build_package
from tests.golden import assert_golden
from tests.package.conftest import make_package


def test_frictionless_validate_passes(package: PackageResult, frictionless_cmd: list[str]) -> None:
    done = subprocess.run(
        [*frictionless_cmd, "validate", "--json", "datapackage.json"],
        cwd=package.package_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(done.stdout)
    assert report["valid"], json.dumps(report["errors"] or report["tasks"], ensure_ascii=False)
    assert done.returncode == 0
    assert report["stats"]["errors"] == 0
    assert {t["name"] for t in report["tasks"]} >= {"juki-jumin", "juki-setai", "inkan-inkan"}


def test_same_run_twice_gives_identical_archives(
    sample_run: Path, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    a = make_package(sample_run, tmp_path / "a" / "pkg", keys[0])
    b = make_package(sample_run, tmp_path / "b" / "other-name", keys[0])
    digest = [hashlib.sha256(r.archive.read_bytes()).hexdigest() for r in (a, b)]
    assert digest[0] == digest[1] == a.archive_sha256 == b.archive_sha256


def test_files_are_owner_only(package: PackageResult) -> None:
    paths = [package.archive, package.package_dir, *package.package_dir.rglob("*")]
    for p in paths:
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode == (0o700 if p.is_dir() else 0o600), (p, oct(mode))


def test_manifest_schema_and_chukan_metadata(package: PackageResult, update_golden: bool) -> None:
    doc = json.loads((package.package_dir / "datapackage.json").read_bytes())
    res = {r["path"]: r for r in doc["resources"]}
    jumin = res["data/juki/jumin.csv"]
    assert jumin["hash"].startswith("sha256:") and jumin["bytes"] > 0
    assert jumin["dialect"]["lineTerminator"] == "\n"
    assert jumin["schema"]["primaryKey"] == ["宛名番号"]
    assert jumin["chukan"]["records"] == 196
    chukan = doc["chukan"]
    assert chukan["municipality"]["code"] == "012343"
    assert chukan["layoutVersion"] == "v2.1"
    assert chukan["gyomu"] == [
        "inkan", "jidoteate", "juki", "juminzei", "jutogai", "kaigo", "kokuho", "kokunen", "kotei",
    ]  # fmt: skip
    assert chukan["controlTotals"]
    # The sample's broken cells are recorded findings, handed over with a reason; their
    # constraints are listed as relaxed.
    accepted = chukan["acceptedFindings"]
    assert accepted["blocking"] == chukan["findings"]["blocking"] > 0 and accepted["reason"]
    relaxed = {(r["field"], r["constraint"]) for r in chukan["relaxedConstraints"]}
    # (性別 "X" is kept; the records whose date does not exist are rejected, not written empty)
    assert relaxed == {("性別", "enum")}
    schemas = {r["path"]: r["schema"] for r in doc["resources"] if r["path"].startswith("data/")}
    text = json.dumps(schemas, ensure_ascii=False, indent=2) + "\n"
    assert_golden(text.encode("utf-8"), "package/schemas.json", update_golden)


def test_unmapped_gaiji_listed_with_vendor_code(package: PackageResult) -> None:
    text = (package.package_dir / "gaiji" / "unmapped.csv").read_text("utf-8")
    assert text.splitlines()[0].startswith("外字コード,業務,ファイル")
    assert "F0A0,juki,jumin,134" in text
    assert (package.package_dir / "gaiji" / "gaiji_table.csv").read_text("utf-8").startswith("code")


def test_data_dictionary_html_and_xlsx(package: PackageResult) -> None:
    html = (package.package_dir / "dictionary" / "data_dictionary.html").read_text("utf-8")
    assert ("住民基本台帳 / 住民情報" in html and "性別コード" not in html) or "seibetsu" in html
    assert "<script src" not in html and "<link" not in html
    wb = openpyxl.load_workbook(package.package_dir / "dictionary" / "data_dictionary.xlsx")
    assert wb.sheetnames == ["項目定義", "コード表"]
    cells = [c for row in wb["項目定義"].iter_rows(values_only=True) for c in row if c]
    assert "宛名番号" in cells and "必須" in cells


def test_run_with_blocking_findings_needs_a_reason(sample_run: Path, tmp_path: Path) -> None:
    with pytest.raises(FindingsNotAccepted) as refused:
        build_package(sample_run, tmp_path / "pkg", layouts=load_layouts(), gaiji_table=None)
    assert refused.value.exit_code == 1 and "accept_findings" in str(refused.value)
    assert not (tmp_path / "pkg").exists() and not (tmp_path / "pkg.tar.gz").exists()
    blank = "  "  # a reason must say something
    with pytest.raises(FindingsNotAccepted):
        build_package(
            sample_run,
            tmp_path / "pkg",
            layouts=load_layouts(),
            gaiji_table=None,
            accept_findings=blank,
        )
