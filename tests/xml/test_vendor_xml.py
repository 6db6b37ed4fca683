"""Vendor XML end to end: the generated XML export goes through `chukan run`, the three
passes and a handover package like any dump (fixtures/_vendor_xml.py, mappings/vendor-xml/)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from etl.cli import cli
from etl.passes import PassName, init_project, load_project, run_pass, sign_off
from etl.resources import data_dir
from fixtures.generate import generate_vendor_xml

VENDOR = data_dir("mappings") / "vendor-xml"
GYOMU = ("inkan", "kokunen")


def _rows(path: Path, encoding: str = "utf-8") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("vendor-xml") / "dump"
    return folder, generate_vendor_xml(folder, 300, seed=3, broken=True)


@pytest.fixture(scope="module")
def ran(dump: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "out"
    args = ["run", "--vendor", "vendor-xml", "--dump", str(dump[0]), "--out", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output  # the broken records' findings block
    return out


def test_the_generator_is_deterministic(tmp_path: Path) -> None:
    generate_vendor_xml(tmp_path / "a", 80, seed=5)
    generate_vendor_xml(tmp_path / "b", 80, seed=5)
    for name in ("nenkin.xml", "inkan.xml", "expected.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    head = (tmp_path / "a" / "nenkin.xml").read_bytes().split(b"\n", 1)[0]
    assert head == b'<?xml version="1.0" encoding="Shift_JIS"?>'


def test_run_writes_the_expected_rows_and_accounts_per_source(
    dump: tuple[Path, dict[str, Any]], ran: Path
) -> None:
    expected = dump[1]
    for target, rows in expected["expected_rows"].items():
        assert len(_rows(ran / f"{target}.csv")) == rows, target
    manifest = json.loads((ran / "manifest.json").read_text("utf-8"))
    sources = {s["name"]: s for s in manifest["sources"]}
    for name, want in expected["sources"].items():
        got = sources[name]
        assert got["balanced"] and got["records_in"] == want["records_in"], name
        assert got["rejected"] == want["rejected"], name


def test_rejects_and_findings_name_the_line(dump: tuple[Path, dict[str, Any]], ran: Path) -> None:
    broken = dump[1]["broken_records"]
    assert "extract.trailer_count" not in (ran / "findings.csv").read_text("utf-8-sig")
    for b in (b for b in broken if b["stage"] == "extract"):
        (reject,) = _rows(ran / "rejects" / f"{b['source']}.csv")
        assert (int(reject["record_no"]), int(reject["line"])) == (b["record_no"], b["line"])
        assert reject["item"] == b["field"]
    findings = _rows(ran / "findings.csv", "utf-8-sig")
    messages = " ".join(r["内容"] for r in findings if r["ルール"] == "extract.rejected")
    for b in (b for b in broken if b["stage"] == "extract"):
        assert f"レコード{b['record_no']}（{b['line']}行目）" in messages
    (date,) = [b for b in broken if b["stage"] == "mapping"]
    (refused,) = _rows(ran / "rejects" / "mapping" / "kokunen" / "kokunen.csv")
    assert int(refused["record_no"]) == date["record_no"] and refused["byte_offset"] == ""
    (order,) = [b for b in broken if b["stage"] == "validate"]
    rules = {(r["ルール"], r["レコード番号"]) for r in findings}
    assert (order["rule"], str(order["record_no"])) in rules


def test_three_passes_and_a_package(tmp_path: Path) -> None:
    root = tmp_path / "mig"
    root.mkdir()
    shutil.copytree(VENDOR, root / "vendor")
    init_project(root, code="012343", name="模擬市", vendor="vendor", gyomu=GYOMU)
    clean = tmp_path / "clean"
    generate_vendor_xml(clean, 120, seed=2, broken=False)
    for p in ("test1", "test2", "production"):
        shutil.rmtree(root / "dumps" / p)
        shutil.copytree(clean, root / "dumps" / p)
    project = load_project(root)
    run_pass(project, PassName.TEST1, started_by="tester")
    test2 = run_pass(project, PassName.TEST2, started_by="tester")
    assert test2.result.blocking == 0
    sign_off(project, PassName.TEST2, "山田", "件数・金額の突合を確認")
    production = run_pass(project, PassName.PRODUCTION, started_by="山田")
    assert production.run.gate_warnings == ()
    run_dir = root / production.run.path
    runner = CliRunner()
    packed = runner.invoke(cli, ["package", str(run_dir), "--out", str(tmp_path / "pkg")])
    assert packed.exit_code == 0, packed.output
    verified = runner.invoke(cli, ["verify", str(tmp_path / "pkg"), "--integrity-only"])
    assert verified.exit_code == 0, verified.output
    package = json.loads((tmp_path / "pkg" / "datapackage.json").read_text("utf-8"))
    names = {r["path"] for r in package["resources"]}
    assert {"data/inkan/inkan.csv", "data/kokunen/kokunen.csv"} <= names


HOSTILE = {
    "xxe": b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<x/>',
    "laughs": b'<!DOCTYPE x [<!ENTITY a "1"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><x>&b;</x>',
    "external-dtd": b'<!DOCTYPE x SYSTEM "http://127.0.0.1:9/x.dtd"><x/>',
    "utf16": '<?xml version="1.0" encoding="UTF-16"?><x/>'.encode("utf-16"),
    "not-xml": b"\x01\x02\x03 this is no XML",
    "declared-utf8-is-sjis": '<?xml version="1.0" encoding="UTF-8"?>\n<x>山田太郎</x>\n'.encode(
        "cp932"
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_nenkin_xml_is_one_error_line(
    case: str, dump: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    bad = tmp_path / "dump"
    shutil.copytree(dump[0], bad)
    (bad / "nenkin.xml").write_bytes(HOSTILE[case])
    out = tmp_path / "out"
    args = ["run", "--vendor", "vendor-xml", "--dump", str(bad), "--out", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "root:" not in result.output
    (line,) = [x for x in result.output.splitlines() if x.strip()]
    assert "nenkin.xml" in line
    assert not out.exists()  # nothing published


def test_a_truncated_nenkin_xml_keeps_what_came_before(
    dump: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    bad = tmp_path / "dump"
    shutil.copytree(dump[0], bad)
    data = (bad / "nenkin.xml").read_bytes()
    (bad / "nenkin.xml").write_bytes(data[: len(data) // 2])
    out = tmp_path / "out"
    args = ["run", "--vendor", "vendor-xml", "--dump", str(bad), "--out", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output  # blocking: the rest of the file is unread
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    sources = {s["name"]: s for s in manifest["sources"]}
    assert all(s["balanced"] for s in sources.values())
    assert 0 < sources["shikaku"]["records_in"] < dump[1]["sources"]["shikaku"]["records_in"]
    rules = {r["ルール"] for r in _rows(out / "findings.csv", "utf-8-sig")}
    assert {"extract.xml_not_well_formed", "extract.trailer_count"} <= rules  # fewer than declared


def test_an_empty_nenkin_xml_is_a_blocking_finding(
    dump: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    bad = tmp_path / "dump"
    shutil.copytree(dump[0], bad)
    (bad / "nenkin.xml").write_bytes(b"")
    out = tmp_path / "out"
    args = ["run", "--vendor", "vendor-xml", "--dump", str(bad), "--out", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    findings = _rows(out / "findings.csv", "utf-8-sig")
    empty = [r for r in findings if r["ルール"] == "extract.empty_file"]
    assert {r["ファイル"] for r in empty} == {"hihokensha", "shikaku"}
