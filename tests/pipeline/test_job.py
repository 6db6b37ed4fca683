"""End to end on the bundled samples: accounting, broken records, gaiji, outputs, golden files."""

from __future__ import annotations

import json
import shutil
import stat
import threading
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from etl.errors import WriteError
from etl.extract import load_profile
from etl.findings import FINDING_SCHEMA
from etl.layout import DEFAULT_LAYOUT_VERSION
from etl.pipeline import JobOptions, JobResult, run_job
from etl.pipeline.chunks import compile_all, layout_checks
from etl.pipeline.job import _one_per_unknown_code
from etl.resources import data_dir
from etl.run_folder import STANDARD_SNAPSHOT, VENDOR_SNAPSHOT
from etl.text.gaiji import load_gaiji_table
from etl.validate import KeptFile, LayoutChecks, OwnFindings, digest_frame, kept_digests
from etl.write import CsvFormat, LineEnding, encode_csv
from tests.golden import assert_golden

SAMPLES = data_dir("fixtures")


def _expected(vendor: str) -> dict[str, Any]:
    return json.loads((SAMPLES / vendor / "sample" / "expected.json").read_text("utf-8"))


def _run(vendor: str, out: Path, **kw: Any) -> JobResult:
    opts = JobOptions(
        vendor_folder=data_dir("mappings") / vendor,
        dump_dir=SAMPLES / vendor / "sample",
        out_dir=out,
        **kw,
    )
    return run_job(opts)


@pytest.fixture(scope="module")
def vendor_a(tmp_path_factory: pytest.TempPathFactory) -> JobResult:
    return _run("vendor-a", tmp_path_factory.mktemp("a") / "out")


def _findings(result: JobResult) -> pl.DataFrame:
    return result.findings


def test_every_record_accounted_for(vendor_a: JobResult) -> None:
    exp = _expected("vendor-a")
    by_source = {s.name: s for s in vendor_a.manifest.sources}
    for file, facts in exp["files"].items():
        s = by_source[facts["source"]]
        assert s.file == file
        assert s.records_in == facts["records_in"]
        assert s.records_in == s.data_records + s.rejected + sum(s.filtered.values())
        assert s.balanced is True
    for o in vendor_a.manifest.outputs:
        key = f"{o.gyomu}/{o.record_file}"
        assert o.written == exp["expected_rows"][key], key
        assert o.source_data_records == o.written + sum(o.filtered.values()) + o.rejected_total
    jumin = next(o for o in vendor_a.manifest.outputs if o.record_file == "jumin")
    filt = exp["filtered"]["juki/jumin"]
    assert jumin.filtered == {filt["reason"]: filt["count"]}


def test_broken_records_are_found_where_they_are(vendor_a: JobResult) -> None:
    findings = _findings(vendor_a)
    rejects = {s.source.name: s.rejects for s in vendor_a.sources}
    for b in _expected("vendor-a")["broken_records"]:
        if b["stage"] == "extract":
            r = rejects[b["source"]].filter(pl.col("record_no") == b["record_no"])
            assert r.height == 1, b
            assert r["byte_offset"][0] == b["offset"], b
            assert r["item"][0] == b["field"], b
            assert r["raw"][0], "raw bytes are kept"
            assert str(b["record_no"]) in r["reason"][0] or r["reason"][0]
        else:
            rule = b.get("rule")
            hits = findings.filter(pl.col("file") != "")
            hits = hits.filter(pl.col("rule") == rule) if rule else hits
            hits = hits.filter(pl.col("record_no") == b["record_no"])
            assert hits.height >= 1, b
            assert hits["message"][0], "a Japanese message"
    # the reject reason names item and byte offset
    jumin = rejects["jumin"]
    assert "shimei" in jumin["reason"][0] and "29158" in jumin["reason"][0]


def test_nothing_else_is_reported(vendor_a: JobResult) -> None:
    exp = _expected("vendor-a")
    expected_records = {(b["source"], b["record_no"]) for b in exp["broken_records"]}
    expected_records |= {(g["source"], g["record_no"]) for g in exp["gaiji"]["unmapped"]}
    per_record = _findings(vendor_a).filter(pl.col("record_no").is_not_null())
    source_of = {"jumin": "jumin", "setai": "setai", "inkan": "inkan", "kokunen": "nenkin"}
    seen = {(source_of.get(f, f), n) for f, n in per_record.select("file", "record_no").iter_rows()}
    assert seen == expected_records
    file_level = _findings(vendor_a).filter(pl.col("record_no").is_null())
    assert file_level["rule"].to_list() == ["extract.trailer_missing"]


def test_gaiji_mapped_with_ivs_and_unmapped_kept(vendor_a: JobResult) -> None:
    table = load_gaiji_table(data_dir("mappings") / "vendor-a" / "gaiji.csv")
    exp = _expected("vendor-a")["gaiji"]
    names = {e.code: e.text for e in table.entries}
    out = pl.read_csv(vendor_a.out_dir / "juki" / "jumin.csv", infer_schema=False)
    text = "\n".join(out["氏名"].drop_nulls().to_list())
    for code, count in exp["mapped_occurrences"].items():
        assert text.count(names[code]) >= count, code
    assert any(len(names[c]) == 2 for c in exp["mapped_occurrences"]), "an IVS sequence is mapped"
    for u in exp["unmapped"]:
        pua = bytes.fromhex(u["code"]).decode("cp932")
        f = _findings(vendor_a).filter(
            (pl.col("rule") == "gaiji.unmapped") & (pl.col("record_no") == u["record_no"])
        )
        assert f.height == 1 and u["code"] in f["message"][0]
        assert f["key"][0] in out["宛名番号"].to_list()
        assert pua in text, "the original code is preserved in the output"


def test_outputs_are_private_and_atomic(vendor_a: JobResult, tmp_path: Path) -> None:
    for path in vendor_a.out_dir.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), path
    assert not list(vendor_a.out_dir.parent.glob(".*partial*"))
    assert not list(vendor_a.out_dir.rglob(".kept-*")), "the spill is never published"
    with pytest.raises(WriteError, match="already exists"):
        _run("vendor-a", vendor_a.out_dir)


def test_manifest_hashes_match_files(vendor_a: JobResult) -> None:
    import hashlib

    for o in vendor_a.manifest.outputs:
        data = (vendor_a.out_dir / o.path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == o.sha256
        assert len(data) == o.bytes


def _manifest_golden(result: JobResult) -> bytes:
    """manifest.json as written, without what differs per run (when, from where)."""
    m = json.loads((result.out_dir / "manifest.json").read_bytes())
    m.pop("created_at")
    m.pop("dump_dir")
    return json.dumps(m, ensure_ascii=False, indent=2).encode() + b"\n"


@pytest.mark.parametrize("vendor", ["vendor-a", "vendor-b"])
def test_golden_outputs(vendor: str, tmp_path: Path, update_golden: bool) -> None:
    result = _run(vendor, tmp_path / "out")
    # the run's copies of its inputs are not outputs: the golden manifest holds their hashes
    kept = {VENDOR_SNAPSHOT, STANDARD_SNAPSHOT}
    for path in sorted(result.out_dir.rglob("*.csv")):
        if path.relative_to(result.out_dir).parts[0] in kept:
            continue
        rel = path.relative_to(result.out_dir).as_posix()
        assert_golden(path.read_bytes(), f"pipeline/{vendor}/{rel}", update_golden)
    assert_golden(_manifest_golden(result), f"pipeline/{vendor}/manifest.json", update_golden)


def test_vendor_b_needs_no_engine_change(tmp_path: Path) -> None:
    result = _run("vendor-b", tmp_path / "out")
    exp = _expected("vendor-b")
    for o in result.manifest.outputs:
        assert o.written == exp["expected_rows"][f"{o.gyomu}/{o.record_file}"]
    assert all(s.balanced for s in result.manifest.sources)
    assert result.blocking == 0


def test_chunking_does_not_change_results(vendor_a: JobResult, tmp_path: Path) -> None:
    small = _run("vendor-a", tmp_path / "out", chunk_records=7)
    for lay, mt, wf in small.targets:
        other = vendor_a.out_dir / lay / f"{mt.record_file.id}.csv"
        assert wf.path.name == other.name
        assert (small.out_dir / lay / other.name).read_bytes() == other.read_bytes()
    assert small.findings.equals(vendor_a.findings)


def test_output_encoding_and_line_endings(tmp_path: Path) -> None:
    fmt = CsvFormat(encoding="cp932", line_ending=LineEnding.CRLF)
    data = encode_csv(pl.DataFrame({"氏名": ["山田　ﾀﾛｳ", None]}), fmt)
    assert data == "氏名\r\n山田　ﾀﾛｳ\r\n\r\n".encode("cp932")
    # an IVS sequence has no CP932 form: say which row, do not write a lossy file
    with pytest.raises(
        WriteError, match=r"jumin.csv: .* in data row \d+ cannot be written as cp932"
    ):
        _run("vendor-a", tmp_path / "out-a", csv=fmt)
    assert not (tmp_path / "out-a").exists()


def test_an_unknown_vendor_code_is_one_finding_not_two() -> None:
    def row(rule: str, record_no: int, item: str) -> dict[str, Any]:
        return {
            "rule": rule,
            "severity": "error",
            "gyomu": "juki",
            "file": "jumin",
            "record_no": record_no,
            "item": item,
        }

    findings = pl.DataFrame(
        [
            row("mapping.unknown_code", 57, "性別"),
            row("schema.code", 57, "性別"),  # the same cell: dropped
            row("schema.code", 58, "性別"),  # another record: kept
            row("schema.code", 57, "続柄"),  # another item: kept
        ],
        schema={k: v for k, v in FINDING_SCHEMA.items() if k in row("", 0, "")},
    )
    kept = _one_per_unknown_code(findings).sort("record_no", "item")
    assert kept.select("rule", "record_no", "item").rows() == [
        ("mapping.unknown_code", 57, "性別"),
        ("schema.code", 57, "続柄"),
        ("schema.code", 58, "性別"),
    ]


def test_a_key_shared_by_records_of_different_chunks_is_found(tmp_path: Path) -> None:
    """Key uniqueness is a check of the whole file: the two copies of 宛名番号 land in different
    chunks at chunk size 1 and are reported exactly as in one chunk."""
    dump = tmp_path / "dump"
    shutil.copytree(SAMPLES / "vendor-a" / "sample", dump)
    jumin = dump / "JUMIN.DAT"
    data = jumin.read_bytes()
    jumin.write_bytes(data[:600] + data[300:600] + data[600:])  # data record 1 twice
    found = []
    for chunk in (1, 100_000):
        out = tmp_path / f"run-{chunk}"
        run_job(
            JobOptions(
                data_dir("mappings") / "vendor-a",
                dump,
                out,
                gyomu=("juki",),
                chunk_records=chunk,
            )
        )
        findings = (out / "findings.csv").read_bytes()
        assert findings.decode("utf-8-sig").count("schema.key_unique") == 2, chunk
        found.append(findings)
    assert found[0] == found[1]


def test_digests_made_chunk_by_chunk_are_those_of_the_written_file(tmp_path: Path) -> None:
    """The whole-file checks' digests, made as each chunk's kept columns are spilled, equal
    the digests made at once from the values of the file as written (read back from the CSV:
    an oracle that knows neither chunks nor the spill)."""
    vendor = data_dir("mappings") / "vendor-a"
    profile = load_profile(vendor)
    checks = layout_checks(compile_all(vendor, ("juki",), DEFAULT_LAYOUT_VERSION, profile))
    result = _run("vendor-a", tmp_path / "out", gyomu=("juki",), chunk_records=7)
    for lay, mt, wf in result.targets:
        digests = kept_digests(checks.values(), lay, mt.record_file.id)
        written = pl.read_csv(result.out_dir / lay / wf.path.name, infer_schema=False)
        assert written.height > 7 and digests  # several chunks, something to compare
        assert mt.frame.equals(digest_frame(written, digests), null_equal=True), lay


def test_a_v21_file_that_cannot_be_published_stops_the_run_with_nothing_visible(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the V2.1 files are published on a thread beside the whole-file checks: a failure there
    # is the run's, and the files published before it go with the stage
    from etl.write import atomic

    publish = atomic.StagedFile.publish

    def failing(self: atomic.StagedFile) -> Any:
        if self.path.name == "setai.csv":
            raise WriteError(f"{self.path}: cannot write: disk full")
        return publish(self)

    monkeypatch.setattr(atomic.StagedFile, "publish", failing)
    out = tmp_path / "out"
    with pytest.raises(WriteError, match=r"setai\.csv"):
        _run("vendor-a", out)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [], "no staging folder or temp file is left"


def test_a_file_checked_alone_as_its_stream_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checks of 住民 alone (its key, 個人番号, one head per 世帯) run on the side thread
    once its stream ends; those of the last source stream's files in the tail. The findings
    are the goldens' either way (test_golden_outputs)."""
    called: list[tuple[str, str]] = []
    own_findings = LayoutChecks.own_findings

    def recorded(self: LayoutChecks, record_file: str, kept: KeptFile) -> OwnFindings:
        called.append((record_file, threading.current_thread().name.split("_")[0]))
        return own_findings(self, record_file, kept)

    monkeypatch.setattr(LayoutChecks, "own_findings", recorded)
    result = _run("vendor-a", tmp_path / "out", gyomu=("juki",), chunk_records=7)
    assert ("jumin", "own-checks") in called
    assert all(thread == "MainThread" for rf, thread in called if rf != "jumin")
    assert {rf for rf, _ in called} == {mt.record_file.id for _, mt, _ in result.targets}
