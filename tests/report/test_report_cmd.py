"""`chukan report` renders a finished run's reports again, identical to the ones the run wrote."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from etl.cli import cli
from etl.report import REPORT_FILES
from etl.resources import data_dir

NAMES = tuple(REPORT_FILES.values())


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample run as `chukan run` leaves it. Not the shared ``sample_run``: the report
    tests rewrite its manifest's created_at after the run, so its reports no longer match it."""
    out = tmp_path_factory.mktemp("report-cmd") / "run"
    sample = data_dir("fixtures") / "vendor-a" / "sample"
    ran = CliRunner().invoke(
        cli, ["run", "--vendor", "vendor-a", "--dump", str(sample), "--out", str(out)]
    )
    assert ran.exit_code == 1, ran.output  # the sample's broken records block; reports written
    return out


def _copy(run: Path, dest: Path) -> Path:
    shutil.copytree(run, dest)
    return dest


def _report(*args: str) -> Result:
    return CliRunner().invoke(cli, ["report", *args])


def _one_line(result: Result) -> str:
    return result.output.replace("\n", "")  # rich wraps long paths


def test_reports_come_back_byte_for_byte(finished_run: Path, tmp_path: Path) -> None:
    run = _copy(finished_run, tmp_path / "run")
    original = {name: (run / name).read_bytes() for name in NAMES}
    assert json.loads(original["report.json"])["created_at"]  # the run's time, not the render's
    for name in NAMES:
        (run / name).unlink()
    result = _report(str(run))
    assert result.exit_code == 0, result.output
    assert "report.html, report.xlsx, report.json" in result.output
    for name in NAMES:
        assert (run / name).read_bytes() == original[name], name
        assert stat.S_IMODE((run / name).stat().st_mode) == 0o600
    assert not [p.name for p in run.iterdir() if p.name.startswith(".")]  # no temp files left


def test_out_writes_elsewhere_and_leaves_the_run_alone(finished_run: Path, tmp_path: Path) -> None:
    run = _copy(finished_run, tmp_path / "run")
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    result = _report(str(run), "--out", str(tmp_path / "again"))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "again").iterdir()) == sorted(NAMES)
    for name in NAMES:
        assert (tmp_path / "again" / name).read_bytes() == before[name], name
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before


def test_not_a_finished_run_exits_2_naming_what_is_missing(
    finished_run: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = _report(str(empty))
    assert result.exit_code == 2
    assert str(empty) in _one_line(result) and "manifest.json is missing" in _one_line(result)

    run = _copy(finished_run, tmp_path / "run")
    (run / "findings.csv").unlink()
    kept = (run / "report.html").read_bytes()
    result = _report(str(run))
    assert result.exit_code == 2
    assert str(run) in _one_line(result) and "findings.csv is missing" in _one_line(result)
    assert (run / "report.html").read_bytes() == kept  # nothing written on failure

    (run / "manifest.json").write_text("{", "utf-8")
    result = _report(str(run))
    assert result.exit_code == 2 and "manifest.json: invalid JSON" in _one_line(result)

    partial = _copy(finished_run, tmp_path / ".run.partial-x1")
    result = _report(str(partial))
    assert result.exit_code == 2 and "interrupted run" in _one_line(result)

    assert _report(str(tmp_path / "nope")).exit_code == 2  # click: does not exist


def test_help_teaches() -> None:
    result = _report("--help")
    assert result.exit_code == 0
    for word in ("manifest.json", "findings.csv", "--out", "0600", "Exit 0"):
        assert word in result.output, word
