"""Acceptance: template → filled the way a clerk fills it (fixtures/_setup_sheet.py) → chukan run
→ the V2.1 file the generator expects, every typical mistake a finding naming its cell; then the
setup resubmitted whole through the passes: the diff of test1 and test2 names exactly what the
corrected sheet changed (a setup sheet replaces its record file), production, a package.
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
from etl.resources import data_dir
from fixtures._setup_sheet import ITEMS, WORKBOOK, write_setup_sheet

KEY = ("宛名番号", "資格取得年月日")
BOM = "utf-8-sig"  # the diff's lists are opened in Excel


@pytest.fixture(scope="module")
def setups(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict[str, Any]]]:
    root = tmp_path_factory.mktemp("setups")
    return {
        name: (root / name, write_setup_sheet(root / name, 12, 1, corrected=corrected))
        for name, corrected in (("first", False), ("corrected", True))
    }


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code in (0, 1), result.output  # 1: blocking findings
    assert "Traceback" not in result.output
    return result.output


def _rows(path: Path, encoding: str = "utf-8") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as f:
        return list(csv.DictReader(f))


def _findings(run: Path) -> list[dict[str, str]]:
    with (run / "findings.csv").open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_a_filled_template_runs_into_the_expected_v21_file(
    setups: dict[str, tuple[Path, dict[str, Any]]], tmp_path: Path
) -> None:
    dump, expected = setups["first"]
    out = tmp_path / "out"
    vendor = str(data_dir("mappings") / "setup-sheet")
    _invoke("run", "--vendor", vendor, "--dump", str(dump), "--out", str(out), "--gyomu", "kokunen")
    rows = _rows(out / "kokunen" / "kokunen.csv")
    assert list(rows[0]) == list(ITEMS)
    assert rows == expected["rows"]

    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    (source,) = manifest["sources"]
    assert source["balanced"] and source["rejected"] == 0
    assert source["records_in"] == expected["last_row"]  # one physical record per sheet row
    assert source["data_records"] == len(expected["rows"])
    assert source["filtered"] == {"header row": 1, "row above the data rows": 1, "blank row": 1}


def test_every_typical_mistake_is_a_finding_naming_its_cell(
    setups: dict[str, tuple[Path, dict[str, Any]]], tmp_path: Path
) -> None:
    dump, expected = setups["first"]
    out = tmp_path / "out"
    vendor = str(data_dir("mappings") / "setup-sheet")
    _invoke("run", "--vendor", vendor, "--dump", str(dump), "--out", str(out))
    found = _findings(out)
    mistakes = [f for f in expected["findings"] if "cell" in f]
    assert {m["rule"] for m in mistakes} == {
        "sheet.number_cell",
        "sheet.date_as_text",
        "sheet.extra_column",
        "sheet.blank_row",
    }
    for mistake in mistakes:
        hits = [
            f
            for f in found
            if f["ルール"] == mistake["rule"]
            and f["レコード番号"] == str(mistake["row"])
            and f["内容"].startswith(mistake["cell"])
        ]
        assert len(hits) == 1, (mistake, [f["内容"] for f in found])
    sheet_rules = [f for f in found if f["ルール"].startswith("sheet.")]
    assert len(sheet_rules) == len(mistakes)  # nothing else was taken for a mistake
    # the code typed as a number stays what the clerk typed, and the check of the code says so
    (code,) = [f for f in found if f["ルール"] == "schema.code"]
    assert (code["項目"], code["値"], code["重大度"]) == ("取得事由", "1", "error")


def _keyed(rows: list[dict[str, str]]) -> dict[tuple[str, ...], dict[str, str]]:
    return {tuple(r[k] for k in KEY): r for r in rows}


def test_two_setups_go_through_the_passes_and_are_diffed(
    setups: dict[str, tuple[Path, dict[str, Any]]], tmp_path: Path
) -> None:
    root = tmp_path / "mig"
    _invoke("init", str(root), "--code", "012343", "--name", "模擬市", "--vendor", "setup-sheet",
            "--gyomu", "kokunen")  # fmt: skip
    for name, setup in (("test1", "first"), ("test2", "corrected"), ("production", "corrected")):
        shutil.copy(setups[setup][0] / WORKBOOK, root / "dumps" / name / WORKBOOK)
    project = ("--project", str(root))
    _invoke("run", "--pass", "test1", *project)
    _invoke("run", "--pass", "test2", *project)
    output = _invoke("diff", "test1", "test2", *project)
    assert "kokunen/kokunen" in output

    (diff_dir,) = (root / "diffs").iterdir()
    (file,) = json.loads((diff_dir / "diff.json").read_text("utf-8"))["files"]
    old, new = _keyed(setups["first"][1]["rows"]), _keyed(setups["corrected"][1]["rows"])
    added, removed = set(new) - set(old), set(old) - set(new)
    changed = {k for k in set(old) & set(new) if old[k] != new[k]}
    # the second setup replaced the file whole: a person left out of it is removed, not kept
    assert (file["added"], file["removed"], file["changed"]) == (
        len(added),
        len(removed),
        len(changed),
    )
    assert len(removed) == 2 and len(added) == 2 and len(changed) == 2  # (a fixed key: both)
    got_removed = {
        tuple(r[k] for k in KEY) for r in _rows(diff_dir / "removed_kokunen_kokunen.csv", BOM)
    }
    got_added = {
        tuple(r[k] for k in KEY) for r in _rows(diff_dir / "added_kokunen_kokunen.csv", BOM)
    }
    assert (got_added, got_removed) == (added, removed)
    items = {c["item"] for c in file["item_changes"]}
    assert items == {i for k in changed for i in ITEMS if old[k][i] != new[k][i]}

    _invoke(
        "signoff", "--pass", "test2", "--by", "担当者", "--reason", "セットアップ確認済み", *project
    )
    _invoke("run", "--pass", "production", *project)
    (run,) = (root / "runs" / "production").iterdir()
    assert _rows(run / "kokunen" / "kokunen.csv") == setups["corrected"][1]["rows"]
    package = tmp_path / "pkg"
    _invoke("package", str(run), "--out", str(package))
    verified = CliRunner().invoke(cli, ["verify", str(package), "--integrity-only"])
    assert verified.exit_code == 0, verified.output


def test_a_mapping_that_rejects_a_sheet_row_names_it_by_row(
    setups: dict[str, tuple[Path, dict[str, Any]]], tmp_path: Path
) -> None:
    """``on_invalid: reject`` (date_format's default) on a sheet: the row is refused and counted
    by its record number (the sheet row); the mapping had only byte offsets to carry."""
    import openpyxl

    vendor = tmp_path / "vendor"
    shutil.copytree(data_dir("mappings") / "setup-sheet", vendor)
    spec = vendor / "kokunen.yaml"
    spec.write_text(
        spec.read_text("utf-8").replace(
            "資格取得年月日: {take: shutoku_bi, then: [trim]}",
            '資格取得年月日: {take: shutoku_bi, then: [trim, {date_format: "%Y%m%d"}]}',
        ),
        encoding="utf-8",
    )
    dump = tmp_path / "dump"
    dump.mkdir()
    book = openpyxl.load_workbook(setups["corrected"][0] / WORKBOOK)
    book["国民年金被保険者情報"]["D5"] = "令和6年1月5日"  # text no date reading makes a date
    book.save(dump / WORKBOOK)
    out = tmp_path / "out"
    _invoke("run", "--vendor", str(vendor), "--dump", str(dump), "--out", str(out))
    rejected = _rows(out / "rejects" / "mapping" / "kokunen" / "kokunen.csv")
    assert [(r["record_no"], r["byte_offset"]) for r in rejected] == [("5", "")]
    written = _rows(out / "kokunen" / "kokunen.csv")
    assert len(written) == len(setups["corrected"][1]["rows"]) - 1
    found = _findings(out)
    cell = "国民年金被保険者情報!D5"
    assert any(f["ルール"] == "sheet.date_as_text" and f["内容"].startswith(cell) for f in found)
