"""Records refused at mapping (a date that does not exist, an unknown 年号) are nowhere lost:
counted in the manifest, listed in rejects/mapping/, shown by the console, the reports and the
package summary, and the numbers add up (records_in = written + rejected + filtered)."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner

from etl.cli import cli
from etl.package.contents import run_summary
from etl.pipeline import JobOptions, JobResult, run_job
from etl.pipeline.manifest import MAPPING_REJECT_SCHEMA, mapping_rejects
from etl.resources import data_dir
from etl.run_folder import OutputEntry
from etl.write import CsvFormat, write_csv
from tests.mapping.test_mapping_hostile import _household_spec, _map, _person_spec

VENDOR_A = data_dir("mappings") / "vendor-a"
SAMPLE_A = data_dir("fixtures") / "vendor-a" / "sample"
JUMIN_REJECTS = "rejects/mapping/juki/jumin.csv"


def _run(out: Path, vendor: Path = VENDOR_A, **kw: object) -> JobResult:
    return run_job(
        JobOptions(vendor_folder=vendor, dump_dir=SAMPLE_A, out_dir=out, gyomu=("juki",), **kw)  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def juki(tmp_path_factory: pytest.TempPathFactory) -> JobResult:
    return _run(tmp_path_factory.mktemp("juki") / "out")


def _written_manifest(result: JobResult) -> dict[str, Any]:
    """manifest.json as the run wrote it (the file, not the model)."""
    doc: dict[str, Any] = json.loads((result.out_dir / "manifest.json").read_bytes())
    return doc


def _output(result: JobResult, record_file: str) -> dict[str, Any]:
    outputs = _written_manifest(result)["outputs"]
    return next(o for o in outputs if o["record_file"] == record_file)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_the_bundled_spec_rejects_dates_that_do_not_exist(juki: JobResult) -> None:
    jumin = _output(juki, "jumin")
    assert jumin["rejected"] == {"住定日: 存在しない日付": 1, "生年月日: 存在しない日付": 1}
    assert jumin["written"] == 196 and jumin["balanced"] is True
    rejected = juki.findings.filter(pl.col("message").str.ends_with("レコードを除外しました"))
    assert rejected.select("rule", "record_no", "item", "value").sort("record_no").rows() == [
        ("mapping.invalid_date", 85, "住定日", "H310501"),
        ("mapping.invalid_date", 129, "生年月日", "H310230"),
    ]
    # a rejected record is in no V2.1 file
    written = pl.read_csv(juki.out_dir / "juki" / "jumin.csv", infer_schema=False)
    assert not set(rejected["key"]) & set(written["宛名番号"])


def test_mapping_rejects_are_listed_with_reason_record_and_masked_key(juki: JobResult) -> None:
    jumin = _output(juki, "jumin")
    listed = jumin["rejects"]
    assert isinstance(listed, dict) and listed["path"] == JUMIN_REJECTS
    path = juki.out_dir / JUMIN_REJECTS
    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == listed["sha256"] and len(data) == listed["bytes"]
    assert (path.stat().st_mode & 0o777) == 0o600
    rows = _rows(path)
    assert list(rows[0]) == list(MAPPING_REJECT_SCHEMA)
    expected = json.loads((SAMPLE_A / "expected.json").read_text("utf-8"))
    broken = {
        b["record_no"]: b
        for b in expected["broken_records"]
        if b["kind"] in ("nonexistent_date", "date_outside_era")
    }
    assert [int(r["record_no"]) for r in rows] == sorted(broken)
    for r in rows:
        b = broken[int(r["record_no"])]
        assert r["source"] == "jumin" and int(r["byte_offset"]) == b["record_offset"]
        assert r["item"] == b["item"] and r["reason"] == f"{b['item']}: 存在しない日付"
        assert r["key"] and r["value"] in ("H310230", "H310501")
    # nothing personal beyond the key: the 個人番号 of the rejected records is not in the file
    raw = (SAMPLE_A / "JUMIN.DAT").read_bytes()
    for r in rows:
        b = broken[int(r["record_no"])]
        kojin = raw[b["record_offset"] + 42 : b["record_offset"] + 54].decode()
        assert kojin.isdigit() and kojin not in data.decode("utf-8")


def test_every_record_not_written_is_in_one_place(juki: JobResult) -> None:
    """Per source: records_in = written + rows of rejects/<source>.csv + rows of
    rejects/mapping/*/<file>.csv from it + filtered (control records and mapping filters)."""
    src = next(s for s in _written_manifest(juki)["sources"] if s["name"] == "jumin")
    jumin = _output(juki, "jumin")
    extract_rejects = _rows(juki.out_dir / "rejects" / "jumin.csv")
    mapping_rejects = [
        r for p in (juki.out_dir / "rejects" / "mapping").rglob("*.csv") for r in _rows(p)
    ]
    assert len(extract_rejects) == src["rejected"] == 1
    filtered = sum(src["filtered"].values()) + sum(jumin["filtered"].values())
    assert src["records_in"] == (
        jumin["written"] + len(extract_rejects) + len(mapping_rejects) + filtered
    )
    not_written = {int(r["record_no"]) for r in extract_rejects + mapping_rejects}
    assert len(not_written) == len(extract_rejects) + len(mapping_rejects)  # each once


def test_files_without_rejects_get_no_list_and_keep_their_manifest(juki: JobResult) -> None:
    setai = _output(juki, "setai")
    assert "rejected" not in setai and "rejects" not in setai
    lists = (juki.out_dir / "rejects" / "mapping").rglob("*.csv")
    assert sorted(p.relative_to(juki.out_dir).as_posix() for p in lists) == [JUMIN_REJECTS]


def test_keep_empty_writes_no_mapping_rejects(tmp_path: Path) -> None:
    vendor = tmp_path / "vendor"
    shutil.copytree(VENDOR_A, vendor)
    spec = vendor / "juki.yaml"
    text = spec.read_text("utf-8")
    for field in ("birth", "juteibi"):
        era = f"era: {field}_era, date: {field}_ymd, era_table: era"
        assert era in text
        text = text.replace(era, era + ", on_invalid: keep_empty")
    spec.write_text(text, "utf-8")
    result = _run(tmp_path / "out", vendor)
    jumin = _output(result, "jumin")
    assert "rejected" not in jumin and jumin["written"] == 198 and jumin["balanced"]
    assert not (result.out_dir / "rejects" / "mapping").exists()


def test_the_handover_summary_keeps_mapping_rejects(juki: JobResult) -> None:
    outputs = run_summary(juki.manifest)["accounting"]["outputs"]
    jumin = next(o for o in outputs if o["record_file"] == "jumin")
    assert jumin["rejected"] == {"住定日: 存在しない日付": 1, "生年月日: 存在しない日付": 1}
    assert jumin["source_data_records"] == (
        jumin["written"] + sum(jumin["rejected"].values()) + sum(jumin["filtered"].values())
    )
    setai = next(o for o in outputs if o["record_file"] == "setai")
    assert "rejected" not in setai


def test_aggregated_records_reach_the_handover_summary(juki: JobResult) -> None:
    setai = OutputEntry(
        gyomu="juki", record_file="setai", name="世帯情報", path="juki/setai.csv", bytes=1,
        sha256="0" * 64, source="jumin", source_data_records=10, written=4,
        filtered={"削除": 1}, rejected={"世帯主氏名: x": 2}, aggregated_records=7, balanced=True,
    )  # fmt: skip
    manifest = juki.manifest.model_copy(update={"outputs": (setai,)})
    (out,) = run_summary(manifest)["accounting"]["outputs"]
    assert out == {
        "gyomu": "juki", "record_file": "setai", "source_data_records": 10, "written": 4,
        "filtered": {"削除": 1}, "aggregated_records": 7, "rejected": {"世帯主氏名: x": 2},
        "balanced": True,
    }  # fmt: skip


def test_console_summary_counts_mapping_rejects(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["run", "--vendor", "vendor-a", "--dump", str(SAMPLE_A), "--out", str(out),
            "--gyomu", "juki"]  # fmt: skip
    ran = CliRunner().invoke(cli, args)
    assert ran.exit_code == 1, ran.output  # the rejects' findings block production
    assert "Traceback" not in ran.output
    assert "data = written + rejected + filtered" in ran.output
    line = next(x for x in ran.output.splitlines() if x.startswith("│ juki/jumin"))
    cells = [c.strip() for c in line.split("│")[1:-1]]
    assert cells[2:] == ["199", "196", "2", "1", "yes"], line  # data, written, rejected, filtered


def test_a_rejected_group_lists_each_of_its_records(tmp_path: Path) -> None:
    spec = _household_spec(生年月日={"wareki": {"era": "setai", "date": "setai"}})  # never a date
    mt = _map(tmp_path, spec)
    listed = mapping_rejects("t", mt, mt.findings)
    assert listed.schema == pl.Schema(MAPPING_REJECT_SCHEMA)
    assert listed.height == mt.rejected.height == 5 and mt.balanced  # 5 members, 1 filtered
    assert set(listed["reason"]) == {"生年月日: 年号コード不明"}
    assert set(listed["item"]) == {"生年月日"}
    # the group's finding sits on its first record: that row names the group's key and value
    firsts = listed.filter(pl.col("key").is_not_null())
    assert firsts.select("record_no", "key", "value").sort("record_no").rows() == [
        (1, "A", "AA"),
        (2, "B", "BB"),
    ]


def test_a_sensitive_value_that_rejects_its_record_is_listed_masked(tmp_path: Path) -> None:
    spec = _person_spec(
        {"era": "era", "date": "ymd", "era_table": "era", "on_invalid": "keep_empty"}
    )
    spec["record_files"]["p"]["items"]["個人番号"] = {
        "take": "mynum",
        "then": [{"date_format": "%Y%m%d"}],
    }
    mt = _map(tmp_path, spec)
    listed = mapping_rejects("t", mt, mt.findings)
    assert listed.height == 5 and set(listed["reason"]) == {"個人番号: 存在しない日付"}
    assert set(listed["value"]) == {"**********12"}  # 123456789012, masked as in findings.csv
    assert listed["key"].to_list() == ["1", "2", "3", "4", "5"]
    out = tmp_path / "rejects.csv"
    write_csv(listed, out, CsvFormat())
    assert b"123456789012" not in out.read_bytes()
