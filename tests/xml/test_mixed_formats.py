"""One 業務 from three formats: juki's 住民 from a fixed-width file, its 世帯 from an XML
export, their 世帯人数 from a CSV, in one profile and one run (tests/xml/mixed/)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from etl.cli import cli
from etl.extract import load_profile
from etl.extract.xml import XmlOptions
from fixtures._population import build_population
from fixtures._vendor_xml import write_setai_xml
from fixtures.generate import generate_vendor_mixed
from tests.vendor_folder import vendor_folder

HERE = Path(__file__).parent / "mixed"


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("mixed-xml")
    vendor = vendor_folder(HERE, root / "vendor")
    expected = generate_vendor_mixed(root / "dump", 200, seed=1, broken=False)
    expected["setai_xml"] = write_setai_xml(build_population(200, 1), root / "dump")
    return vendor, root / "dump", expected


def test_each_file_keeps_its_format(mixed: tuple[Path, Path, dict[str, Any]]) -> None:
    profile = load_profile(mixed[0])
    formats = [profile.format_of(f) for f in profile.files]
    assert formats == ["fixed_width", "xml", "delimited"]
    assert isinstance(profile.file("setai").options, XmlOptions)


def test_one_run_reads_the_three_formats_into_one_gyomu(
    mixed: tuple[Path, Path, dict[str, Any]], tmp_path: Path
) -> None:
    vendor, dump, expected = mixed
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["run", "--vendor", str(vendor), "--dump", str(dump), "--out", str(out)]
    )
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    sources = {s["name"]: s for s in manifest["sources"]}
    assert set(sources) == {"jumin", "setai", "ninzu"}
    assert all(s["balanced"] for s in sources.values())
    xml = expected["setai_xml"]
    assert sources["setai"]["records_in"] == xml["records_in"] == sources["setai"]["data_records"]
    with (out / "juki" / "setai.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == xml["records_in"]
    assert all(r["世帯主氏名"] and r["世帯員数"] for r in rows)  # from JUMIN.DAT and setai.csv
    assert all(r["郵便番号"].isdigit() and len(r["郵便番号"]) == 7 for r in rows)
    with (out / "juki" / "jumin.csv").open(encoding="utf-8", newline="") as f:
        assert sum(1 for _ in f) - 1 == expected["expected_rows"]["juki/jumin"]
    with (out / "rejects" / "setai.csv").open(encoding="utf-8", newline="") as f:
        assert next(csv.reader(f)) == ["source", "record_no", "line", "item", "reason", "raw"]
