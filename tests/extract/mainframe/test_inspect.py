"""`chukan inspect` on mainframe dumps: EBCDIC told from ASCII, RDWs found (with and without
BDWs), the fixed record length guessed, a preview decoded with --vendor, sensitive masked."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from click.testing import CliRunner

from etl.cli import cli
from etl.extract import inspect_file, load_profile
from etl.extract.inspect import find_rdws, guess_family
from etl.resources import data_dir
from fixtures.generate import generate_mainframe


@pytest.fixture(scope="module")
def dumps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for vendor in ("vendor-jef", "vendor-ibm930"):
        folder = tmp_path_factory.mktemp(vendor)
        generate_mainframe(vendor, folder, 60, seed=4, broken=False)
        out[vendor] = folder
    return out


def test_families_rdws_and_record_lengths(dumps: dict[str, Path]) -> None:
    jef = inspect_file(dumps["vendor-jef"] / "JUKI.DAT")
    assert jef.family is not None and jef.family.family == "ebcdic"
    assert "KI/KO (JEF)" in jef.family.shift_codes
    assert jef.rdw is not None and not jef.rdw.block_descriptors and jef.rdw.records > 60
    ibm = inspect_file(dumps["vendor-ibm930"] / "JUMIN.DAT")
    assert ibm.family is not None and ibm.family.family == "ebcdic" and ibm.rdw is None
    assert ibm.record_lengths[0][0] == 320
    sample = data_dir("fixtures") / "vendor-a" / "sample" / "JUMIN.DAT"
    ascii_ = inspect_file(sample)
    assert ascii_.family is not None and ascii_.family.family == "ascii" and ascii_.rdw is None


def test_block_descriptors_are_found() -> None:
    records = b"".join(struct.pack(">HH", 10, 0) + b"\xf1" * 6 for _ in range(5))
    blocks = (struct.pack(">HH", len(records) + 4, 0) + records) * 3
    found = find_rdws(blocks)
    assert found is not None and found.block_descriptors and found.records == 15
    assert find_rdws(b"\x40" * 400) is None and find_rdws(b"") is None
    assert guess_family(b"").family == "ascii"


def test_preview_with_vendor_masks_sensitive_fields(dumps: dict[str, Path]) -> None:
    vendor = data_dir("mappings") / "vendor-jef"
    profile = load_profile(vendor)
    report = inspect_file(dumps["vendor-jef"] / "JUKI.DAT", profile, profile.files[0], n=3)
    assert report.preview is not None and report.preview.height == 3
    assert report.encoding_used == "jef + ebcdik"
    assert report.preview["KOJIN-NO"].str.starts_with("*****").all()
    result = CliRunner().invoke(
        cli,
        ["inspect", str(dumps["vendor-jef"] / "NENKIN.DAT"), "--vendor", str(vendor), "-n", "2"],
        terminal_width=200,
    )
    assert result.exit_code == 0, result.output
    assert "RDW records (V/VB)" in result.output and "SHUTOKU-YMD" in result.output
    assert "KISO-NENKIN-NO" in result.output
    ibm = CliRunner().invoke(cli, ["inspect", str(dumps["vendor-ibm930"] / "JUMIN.DAT")])
    assert ibm.exit_code == 0 and "ebcdic" in ibm.output and "SHIMEI" not in ibm.output


def test_encoding_row_names_the_ebcdic_family_not_an_ascii_codec(dumps: dict[str, Path]) -> None:
    for dump, name in ((dumps["vendor-jef"], "JUKI.DAT"), (dumps["vendor-ibm930"], "JUMIN.DAT")):
        guess = inspect_file(dump / name).encoding
        assert guess.encoding == "EBCDIC family" and "cp932" not in guess.reason
        assert "jef" in guess.reason and "ibm930" in guess.reason
    result = CliRunner().invoke(cli, ["inspect", str(dumps["vendor-jef"] / "JUKI.DAT")])
    assert result.exit_code == 0, result.output
    assert "EBCDIC family" in result.output and "cp932" not in result.output
    sample = data_dir("fixtures") / "vendor-a" / "sample" / "JUMIN.DAT"
    assert inspect_file(sample).encoding.encoding == "cp932"
