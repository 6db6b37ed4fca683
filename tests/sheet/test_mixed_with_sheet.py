"""One profile, two formats for one migration: vendor A's fixed-width 住民基本台帳 and a setup
sheet for 国民年金, read in one run; the cross-業務 rule (国民年金 → 住民基本台帳) runs on both.

The vendor folder is assembled in a temporary folder from the bundled ones, so nothing bundled
changes.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from etl.cli import cli
from etl.extract import load_profile
from etl.extract.sheet import SheetOptions
from etl.resources import data_dir
from fixtures._setup_sheet import WORKBOOK, write_setup_sheet


def _sheet_entry() -> str:
    """The kokunen entry of mappings/setup-sheet/source.yaml, with its own format."""
    text = (data_dir("mappings") / "setup-sheet" / "source.yaml").read_text("utf-8")
    entry = text[text.index("  - name: kokunen") :]
    return entry.replace("    path: kokunen.xlsx\n", "    path: kokunen.xlsx\n    format: sheet\n")


def test_a_fixed_width_dump_and_a_setup_sheet_in_one_run(tmp_path: Path) -> None:
    vendor = tmp_path / "vendor"
    shutil.copytree(data_dir("mappings") / "vendor-a", vendor)
    source = vendor / "source.yaml"
    text = source.read_text("utf-8")
    text = text[: text.index("  - name: nenkin")] + _sheet_entry()  # 国民年金 from the sheet
    source.write_text(text, encoding="utf-8")
    shutil.copy(data_dir("mappings") / "setup-sheet" / "kokunen.yaml", vendor / "kokunen.yaml")
    profile = load_profile(vendor)
    assert profile.format_of(profile.file("jumin")) == "fixed_width"
    assert isinstance(profile.file("kokunen").options, SheetOptions)

    dump = tmp_path / "dump"
    shutil.copytree(data_dir("fixtures") / "vendor-a" / "sample", dump)
    expected = write_setup_sheet(tmp_path / "sheet", 12, 1, corrected=True)
    shutil.copy(tmp_path / "sheet" / WORKBOOK, dump / WORKBOOK)

    out = tmp_path / "out"
    args = ["run", "--vendor", str(vendor), "--dump", str(dump), "--out", str(out)]
    result = CliRunner().invoke(cli, [*args, "--gyomu", "juki", "--gyomu", "kokunen"])
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    sources = {s["name"]: s for s in manifest["sources"]}
    assert {"jumin", "setai", "kokunen"} <= set(sources)
    assert all(s["balanced"] for s in sources.values())
    with (out / "kokunen" / "kokunen.csv").open(encoding="utf-8", newline="") as f:
        assert list(csv.DictReader(f)) == expected["rows"]
    with (out / "findings.csv").open(encoding="utf-8-sig", newline="") as f:
        rules = {r["ルール"] for r in csv.DictReader(f)}
    # the rule ran against the fixed-width residents (the sheet's people are not among them)
    assert "kokunen.person_in_juki" in rules and "rule.target_missing" not in rules
    with (out / "rejects" / "jumin.csv").open(encoding="utf-8", newline="") as f:
        assert next(csv.reader(f))[2] == "byte_offset"  # each file keeps its own location
    with (out / "rejects" / "kokunen.csv").open(encoding="utf-8", newline="") as f:
        assert next(csv.reader(f))[2:4] == ["sheet", "cell"]
