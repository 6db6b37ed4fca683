"""One 業務 (juki) from three formats in one profile (tests/mixed/): 住民 from vendor A's
fixed-width JUMIN.DAT, 世帯 from an XML export, 世帯人数 from a setup workbook staff filled
(fixtures/_vendor_mixed_sheet.py). Through `chukan run`, the three passes and a package; the
accounting holds per file and every finding names its place the way its format counts: a byte
offset, a line, a cell.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from etl.cli import cli
from etl.extract import load_profile
from etl.extract.sheet import SheetOptions
from etl.extract.xml import XmlOptions
from etl.passes import PassName, init_project, load_project, run_pass, sign_off
from fixtures.generate import generate_vendor_mixed_sheet
from tests.vendor_folder import vendor_folder

HERE = Path(__file__).parent
PERSONS = 200


def _rows(path: Path, encoding: str = "utf-8") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as f:
        return list(csv.DictReader(f))


def _vendor(folder: Path) -> Path:
    """tests/mixed's profile and mapping beside vendor A's code tables and 外字 table."""
    return vendor_folder(HERE, folder)


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("mixed-sheet")
    vendor = _vendor(root / "vendor")
    expected = generate_vendor_mixed_sheet(root / "dump", PERSONS, seed=1, broken=True)
    out = root / "out"
    args = ["run", "--vendor", str(vendor), "--dump", str(root / "dump"), "--out", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output  # the broken records are blocking findings
    assert "Traceback" not in result.output
    return out, expected


def test_each_file_keeps_its_format(tmp_path: Path) -> None:
    profile = load_profile(_vendor(tmp_path / "vendor"))
    assert [profile.format_of(f) for f in profile.files] == ["fixed_width", "xml", "sheet"]
    assert isinstance(profile.file("setai").options, XmlOptions)
    assert isinstance(profile.file("ninzu").options, SheetOptions)


def test_the_accounting_holds_per_file(ran: tuple[Path, dict[str, Any]]) -> None:
    out, expected = ran
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    sources = {s["file"]: s for s in manifest["sources"]}
    assert set(sources) == set(expected["files"])
    for file, want in expected["files"].items():
        got = sources[file]
        assert got["balanced"], file
        assert got["records_in"] == want["records_in"], file
        filtered = sum(got["filtered"].values())
        assert got["records_in"] == got["data_records"] + got["rejected"] + filtered, file
    # one record of each text file is unreadable; the workbook's mistakes are findings only
    assert {f: s["rejected"] for f, s in sources.items()} == {
        "JUMIN.DAT": 1,
        "setai.xml": 1,
        "setai_ninzu.xlsx": 0,
    }
    sheet = sources["setai_ninzu.xlsx"]
    assert sheet["data_records"] == expected["files"]["setai_ninzu.xlsx"]["data_records"]
    assert sheet["filtered"] == {"header row": 1, "blank row": 1}
    assert len(_rows(out / "juki" / "jumin.csv")) == expected["expected_rows"]["juki/jumin"]
    setai = _rows(out / "juki" / "setai.csv")
    assert len(setai) == expected["files"]["setai.xml"]["records_in"] - 1  # one rejected
    assert all(r["世帯主氏名"] and r["世帯員数"].isdigit() for r in setai)  # fixed width, sheet


def test_findings_name_a_byte_offset_a_line_and_a_cell(ran: tuple[Path, dict[str, Any]]) -> None:
    out, expected = ran
    broken = expected["broken_records"]
    (fixed,) = [b for b in broken if b["file"] == "JUMIN.DAT" and b["stage"] == "extract"]
    (reject,) = _rows(out / "rejects" / "jumin.csv")
    assert (int(reject["record_no"]), int(reject["byte_offset"])) == (
        fixed["record_no"],
        fixed["offset"],
    )
    (xml,) = [b for b in broken if b["file"] == "setai.xml"]
    (reject,) = _rows(out / "rejects" / "setai.csv")
    assert (int(reject["record_no"]), int(reject["line"]), reject["item"]) == (
        xml["record_no"],
        xml["line"],
        xml["field"],
    )
    with (out / "rejects" / "ninzu.csv").open(encoding="utf-8", newline="") as f:
        assert next(csv.reader(f))[2:4] == ["sheet", "cell"]
    findings = _rows(out / "findings.csv", "utf-8-sig")
    rejected = " ".join(f["内容"] for f in findings if f["ルール"] == "extract.rejected")
    assert f"ファイル先頭から{fixed['offset']}バイトの位置" in rejected
    assert f"レコード{xml['record_no']}（{xml['line']}行目）" in rejected
    mistakes = [b for b in broken if "cell" in b]
    assert {m["rule"] for m in mistakes} == {"sheet.number_cell", "sheet.blank_row"}
    for m in mistakes:
        hits = [
            f
            for f in findings
            if f["ルール"] == m["rule"]
            and f["レコード番号"] == str(m["record_no"])
            and f["内容"].startswith(m["cell"])
        ]
        assert len(hits) == 1, (m, [f["内容"] for f in findings if f["ルール"] == m["rule"]])


def test_three_passes_and_a_package(tmp_path: Path) -> None:
    root = tmp_path / "mig"
    root.mkdir()
    gaiji = _vendor(root / "vendor") / "gaiji.csv"
    # vendor A's dumps hold one 外字 its table lacks (fixtures/_vendor_a.py): registered here
    gaiji.write_text(gaiji.read_text("utf-8") + "F0A0,U+9AD9,髙 (はしごだか)\n", "utf-8")
    init_project(root, code="012343", name="模擬市", vendor="vendor", gyomu=("juki",))
    for seed, passes in ((2, ("test1",)), (1, ("test2", "production"))):
        clean = tmp_path / f"clean{seed}"
        generate_vendor_mixed_sheet(clean, 120, seed=seed, broken=False)
        for p in passes:
            shutil.rmtree(root / "dumps" / p)
            shutil.copytree(clean, root / "dumps" / p)
    project = load_project(root)
    run_pass(project, PassName.TEST1, started_by="tester")
    test2 = run_pass(project, PassName.TEST2, started_by="tester")
    assert test2.result.blocking == 0
    sources = {s.name: s for s in test2.result.manifest.sources}
    assert set(sources) == {"jumin", "setai", "ninzu"}
    runner = CliRunner()
    diffed = runner.invoke(cli, ["diff", "test1", "test2", "--project", str(root)])
    assert diffed.exit_code == 0, diffed.output
    assert "juki/setai" in diffed.output
    sign_off(project, PassName.TEST2, "山田", "件数の突合を確認")
    production = run_pass(project, PassName.PRODUCTION, started_by="山田")
    assert production.run.gate_warnings == ()
    run_dir = root / production.run.path
    packed = runner.invoke(cli, ["package", str(run_dir), "--out", str(tmp_path / "pkg")])
    assert packed.exit_code == 0, packed.output
    verified = runner.invoke(cli, ["verify", str(tmp_path / "pkg"), "--integrity-only"])
    assert verified.exit_code == 0, verified.output
    package = json.loads((tmp_path / "pkg" / "datapackage.json").read_text("utf-8"))
    names = {r["path"] for r in package["resources"]}
    assert {"data/juki/jumin.csv", "data/juki/setai.csv"} <= names


def test_the_generator_is_byte_identical(tmp_path: Path) -> None:
    for name in ("one", "two"):
        generate_vendor_mixed_sheet(tmp_path / name, 30, seed=3, broken=True)
    for file in ("JUMIN.DAT", "setai.xml", "setai_ninzu.xlsx", "expected.json"):
        assert (tmp_path / "one" / file).read_bytes() == (tmp_path / "two" / file).read_bytes()
