"""etl.write record file writers: the CSV writer behind the interface, and Parquet beside it.

A Parquet run of the vendor-a sample holds the same values as its CSV run, file for file; the
commands that hand the CSV on (package, load) refuse it in one line, the diff reads it.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner

from etl.cli import cli
from etl.dbload import LoadError, load_run
from etl.diff import diff_runs
from etl.errors import WriteError
from etl.layout import RecordFile, load_layouts
from etl.package import PackageError, build_package
from etl.passes import ProjectError, load_project
from etl.pipeline import JobOptions, JobResult, run_job
from etl.resources import data_dir
from etl.run_folder import Manifest
from etl.write import (
    PARQUET_SUFFIX,
    CsvFormat,
    CsvRecordWriter,
    CsvSink,
    LineEnding,
    OutputFormat,
    ParquetRecordWriter,
    ParquetSink,
    RecordFileWriter,
    RecordSink,
    record_file_writer,
    sha256_file,
    write_csv,
)

SAMPLE = data_dir("fixtures") / "vendor-a" / "sample"
VENDOR = data_dir("mappings") / "vendor-a"
LAYOUTS = load_layouts()
JUMIN: RecordFile = LAYOUTS["juki"].record_file("jumin")
FRAME = pl.DataFrame({"宛名番号": ["0001", "0002", None], "氏名": ["竹井　春代", "", "山田"]})


def _run(out: Path, fmt: OutputFormat) -> JobResult:
    return run_job(
        JobOptions(vendor_folder=VENDOR, dump_dir=SAMPLE, out_dir=out, output_format=fmt)
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[JobResult, JobResult]:
    root = tmp_path_factory.mktemp("runs")
    return _run(root / "csv", OutputFormat.CSV), _run(root / "parquet", OutputFormat.PARQUET)


@pytest.mark.parametrize("writer", [CsvRecordWriter(), ParquetRecordWriter()])
def test_writers_write_atomically_owner_only_and_read_back(
    writer: RecordFileWriter, tmp_path: Path
) -> None:
    path = writer.path_for(tmp_path / "juki", JUMIN)
    assert path.name == f"jumin.{writer.format.value}"
    path.parent.mkdir()
    written = writer.write(FRAME, path)
    assert (written.path, written.bytes) == (path, path.stat().st_size)
    assert written.sha256 == sha256_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    back = writer.read_columns(path, ["氏名", "宛名番号"])
    assert back.schema == pl.Schema({"氏名": pl.String, "宛名番号": pl.String})
    assert back["宛名番号"].to_list() == ["0001", "0002", None]


ROWS = pl.DataFrame(
    {
        "宛名番号": [f"{i:04d}" for i in range(23)],
        "氏名": [None if i % 5 == 0 else f"氏名{i}" for i in range(23)],
    }
)
SINKS = {
    "csv": lambda path: CsvSink(path, ROWS.columns, CsvFormat("utf-8-sig", LineEnding.CRLF)),
    # row groups of 5 rows, so chunks of 1, 3, 7 and 23 cut them in every way
    "parquet": lambda path: ParquetSink(path, ROWS.columns, row_group=5),
}


@pytest.mark.parametrize("kind", list(SINKS))
def test_a_sink_writes_the_same_bytes_whatever_the_chunks(kind: str, tmp_path: Path) -> None:
    digests = set()
    for size in (1, 3, 7, 23):
        path = tmp_path / f"{size}" / "jumin.out"
        sink: RecordSink = SINKS[kind](path)
        assert not path.exists()  # staged until closed
        for start in range(0, ROWS.height, size):
            sink.append(ROWS.slice(start, size))
        written = sink.close()
        assert written.sha256 == sha256_file(path) and written.bytes == path.stat().st_size
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert [p.name for p in path.parent.iterdir()] == ["jumin.out"]  # no temp file left
        digests.add(written.sha256)
    assert len(digests) == 1


@pytest.mark.parametrize("kind", list(SINKS))
def test_a_discarded_sink_leaves_nothing(kind: str, tmp_path: Path) -> None:
    sink: RecordSink = SINKS[kind](tmp_path / "jumin.out")
    sink.append(ROWS)
    sink.discard()
    assert list(tmp_path.iterdir()) == []


def test_the_csv_writer_is_the_v21_csv(tmp_path: Path) -> None:
    fmt = CsvFormat(encoding="cp932", line_ending=LineEnding.CRLF)
    through = CsvRecordWriter(fmt).write(FRAME, tmp_path / "a.csv")
    direct = write_csv(FRAME, tmp_path / "b.csv", fmt)
    assert through.sha256 == direct.sha256


def test_writer_selection_refuses_what_does_not_apply() -> None:
    assert isinstance(record_file_writer("parquet", CsvFormat()), ParquetRecordWriter)
    assert record_file_writer("csv", CsvFormat(encoding="cp932")).format is OutputFormat.CSV
    with pytest.raises(WriteError, match="output format 'xml' not supported; use csv, parquet"):
        record_file_writer("xml")
    with pytest.raises(WriteError, match="apply to CSV only, not parquet"):
        record_file_writer("parquet", CsvFormat(encoding="cp932"))


def test_manifest_names_the_format_only_when_not_csv(runs: tuple[JobResult, JobResult]) -> None:
    csv_run, parquet_run = runs
    csv_doc, parquet_doc = (json.loads((r.out_dir / "manifest.json").read_bytes()) for r in runs)
    assert csv_doc["output"] == {"encoding": "utf-8", "line_ending": "lf"}
    assert parquet_doc["output"]["format"] == "parquet"
    assert csv_run.manifest.output.written_as is OutputFormat.CSV
    assert parquet_run.manifest.output.written_as is OutputFormat.PARQUET
    assert all(o.path.endswith(PARQUET_SUFFIX) for o in parquet_run.manifest.outputs)


def _without_paths(manifest: Manifest) -> list[dict[str, Any]]:
    drop = {"path", "bytes", "sha256"}
    return [o.model_dump(exclude=drop) for o in manifest.outputs]


def test_parquet_run_holds_the_csv_runs_values(runs: tuple[JobResult, JobResult]) -> None:
    csv_run, parquet_run = runs
    assert _without_paths(csv_run.manifest) == _without_paths(parquet_run.manifest)
    assert csv_run.manifest.reconciliation == parquet_run.manifest.reconciliation
    assert csv_run.findings.equals(parquet_run.findings)
    pairs = zip(csv_run.manifest.outputs, parquet_run.manifest.outputs, strict=True)
    for csv_file, parquet_file in pairs:
        from_csv = pl.read_csv(csv_run.out_dir / csv_file.path, infer_schema=False)
        parquet_path = parquet_run.out_dir / parquet_file.path
        from_parquet = pl.read_parquet(parquet_path)
        assert from_parquet.schema == from_csv.schema  # 項目名 in order, all text
        assert from_parquet.equals(from_csv), parquet_path.name
        assert parquet_file.sha256 == sha256_file(parquet_path)
        assert stat.S_IMODE(parquet_path.stat().st_mode) == 0o600


def test_diff_of_a_csv_run_and_a_parquet_run_is_empty(runs: tuple[JobResult, JobResult]) -> None:
    csv_run, parquet_run = runs
    diff = diff_runs(csv_run.out_dir, parquet_run.out_dir, LAYOUTS)
    assert diff.files and all(f.identical for f in diff.files)


def test_package_and_load_refuse_a_parquet_run_in_one_line(
    runs: tuple[JobResult, JobResult], tmp_path: Path
) -> None:
    run_dir = runs[1].out_dir
    hint = "wrote its V2.1 files as parquet; .* \\(run again with --output-format csv\\)"
    with pytest.raises(PackageError, match=hint):
        build_package(run_dir, tmp_path / "pkg", layouts=LAYOUTS, accept_findings="test")
    with pytest.raises(LoadError, match=hint):
        load_run(run_dir, f"duckdb:{tmp_path / 'load.duckdb'}", LAYOUTS)
    assert not (tmp_path / "pkg").exists() and not (tmp_path / "load.duckdb").exists()


def test_cli_run_writes_parquet_and_package_load_refuse(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "run"
    args = ["run", "--vendor", "vendor-a", "--dump", str(SAMPLE), "--out", str(out)]
    done = runner.invoke(cli, [*args, "--output-format", "parquet"])
    assert done.exit_code == 1, done.output  # the sample's blocking findings, as with CSV
    assert sorted(p.name for p in (out / "juki").iterdir()) == ["jumin.parquet", "setai.parquet"]
    assert json.loads((out / "manifest.json").read_text("utf-8"))["output"]["format"] == "parquet"
    for command in (["package", str(out)], ["load", str(out), "--to", f"duckdb:{tmp_path}/x"]):
        refused = runner.invoke(cli, command)
        assert refused.exit_code == 2, refused.output
        lines = refused.output.strip().splitlines()
        assert len(lines) == 1 and "--output-format csv" in lines[0], refused.output


def _project(root: Path, output: str) -> Path:
    root.mkdir()
    (root / "chukan.toml").write_text(
        '[municipality]\ncode = "011002"\nname = "札幌市"\n[source]\nvendor = "vendor-a"\n'
        f'[scope]\ngyomu = ["juki"]\n[output]\n{output}\n',
        encoding="utf-8",
    )
    return root


def test_project_output_format(tmp_path: Path) -> None:
    assert load_project(_project(tmp_path / "a", 'encoding = "utf-8"')).output_format == "csv"
    project = load_project(_project(tmp_path / "b", 'format = "parquet"'))
    assert project.output_format is OutputFormat.PARQUET
    with pytest.raises(ProjectError, match="apply to csv only, not parquet"):
        load_project(_project(tmp_path / "c", 'format = "parquet"\nencoding = "cp932"'))
    with pytest.raises(ProjectError, match=r"output\.format"):
        load_project(_project(tmp_path / "d", 'format = "xml"'))
