"""One profile, two formats: a fixed-width file and a delimited file read in one run.

The dump is generated (fixtures/_vendor_mixed.py); the profile and mapping are
tests/extract/mixed/. The vendor folder is assembled in a temporary folder with vendor A's code
tables and gaiji table, so nothing bundled changes.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from etl.cli import cli
from etl.extract import DelimitedOptions, FixedWidthOptions, load_profile
from fixtures.generate import generate_vendor_mixed
from tests.vendor_folder import vendor_folder

HERE = Path(__file__).parent / "mixed"
REJECT_COLUMNS = ["source", "record_no", "byte_offset", "item", "reason", "raw"]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("mixed")
    vendor = vendor_folder(HERE, root / "vendor-mixed")
    expected = generate_vendor_mixed(root / "dump", 200, seed=1, broken=True)
    return vendor, root / "dump", expected


def test_each_file_has_its_format_and_typed_options(
    mixed: tuple[Path, Path, dict[str, Any]],
) -> None:
    vendor, _, _ = mixed
    profile = load_profile(vendor)
    jumin, setai = profile.file("jumin"), profile.file("setai")
    assert profile.format_of(jumin) == "fixed_width" and jumin.format is None
    assert profile.format_of(setai) == "delimited"
    assert isinstance(jumin.options, FixedWidthOptions) and jumin.options.record_length == 300
    assert isinstance(setai.options, DelimitedOptions) and setai.options.header


def test_run_writes_v21_files_and_accounts_for_every_record_per_file(
    mixed: tuple[Path, Path, dict[str, Any]], tmp_path: Path
) -> None:
    vendor, dump, expected = mixed
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["run", "--vendor", str(vendor), "--dump", str(dump), "--out", str(out)]
    )
    assert result.exit_code in (0, 1), result.output  # 1: the broken records' findings block
    assert "Traceback" not in result.output

    for target, rows in expected["expected_rows"].items():
        with (out / f"{target}.csv").open(encoding="utf-8", newline="") as f:
            assert sum(1 for _ in csv.reader(f)) - 1 == rows, target

    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    sources = {s["name"]: s for s in manifest["sources"]}
    assert set(sources) == {"jumin", "setai"}
    for name, s in sources.items():
        info = expected["files"][s["file"]]
        assert s["balanced"], name
        assert s["records_in"] == info["records_in"]
        assert s["records_in"] == s["data_records"] + s["rejected"] + sum(s["filtered"].values())
    assert sources["setai"]["filtered"] == {"header row": 1}

    for name, file in (("jumin", "JUMIN.DAT"), ("setai", "setai.csv")):
        with (out / "rejects" / f"{name}.csv").open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
            assert list(rows[0]) == REJECT_COLUMNS  # the byte-offset columns, as ever
        broken = [
            (b["record_no"], b["offset"])
            for b in expected["broken_records"]
            if b["file"] == file and b["stage"] == "extract"
        ]
        assert broken, file
        got = [(int(r["record_no"]), int(r["byte_offset"])) for r in rows]
        assert got == broken, name
        assert sources[name]["rejected"] == len(broken)

    with (out / "findings.csv").open(encoding="utf-8-sig", newline="") as f:
        messages = [r["内容"] for r in csv.DictReader(f) if r["ルール"] == "extract.rejected"]
    for record_no, offset in broken:  # setai.csv: located by byte offset like fixed width
        assert f"レコード{record_no}（ファイル先頭から{offset}バイトの位置、0起点）" in "".join(
            messages
        )
