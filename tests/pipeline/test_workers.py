"""Chunk tasks in worker processes and on Dask: a killed run leaves nothing visible and no
worker behind, and every way to ask for an engine that cannot run says so in one line, exit 2.
(That the outputs are the same bytes: tests/test_output_identity.py.)"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, cast

import pytest
from click.testing import CliRunner

from etl.cli import cli
from etl.errors import ChukanError, ExtractError
from etl.pipeline import MAX_WORKERS, EngineError, JobOptions, engines, run_job
from etl.pipeline.chunks import ChunkTask, ChunkTaskError, run_chunk
from etl.resources import data_dir
from fixtures.generate import generate_vendor_a

VENDOR = data_dir("mappings") / "vendor-a"
SAMPLE = data_dir("fixtures") / "vendor-a" / "sample"


def _children(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line
            )
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(pid):
            found.append(int(status.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table in /proc")
def test_a_run_with_workers_killed_mid_stream_leaves_nothing_visible(tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    generate_vendor_a(dump, 20_000, seed=3, broken=False)
    out = tmp_path / "runs" / "out"
    command = [sys.executable, "-c", "from etl.cli import main; main()", "run"]
    command += ["--vendor", "vendor-a", "--dump", str(dump), "--out", str(out)]
    command += ["--gyomu", "juki", "--chunk-records", "500", "--workers", "2"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90

    def appending() -> bool:  # a chunk task's part appended to a staged V2.1 file
        return any(out.parent.glob(".out.partial-*/juki/.jumin.csv.*.tmp")) and any(
            out.parent.glob(".out.partial-*/.kept-*/.chunks-*/*.arrow")
        )

    while not appending() and time.monotonic() < deadline:
        assert proc.poll() is None, "the run ended before its chunk tasks were written"
        time.sleep(0.02)
    assert appending(), "no chunk task had written within 90 s"
    workers = [p for p in _children(proc.pid) if _alive(p)]
    assert workers, "no worker process"
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    assert not out.exists()
    assert all(p.name.startswith(".") for p in out.parent.iterdir())  # only the hidden stage
    deadline = time.monotonic() + 20
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(p) for p in workers), "a worker outlived its killed driver"
    run_job(JobOptions(vendor_folder=VENDOR, dump_dir=dump, out_dir=out, gyomu=("juki",)))
    assert [p.name for p in out.parent.iterdir()] == ["out"]  # the leftover was swept
    assert (out / "manifest.json").is_file()


def _run(args: list[str], tmp_path: Path) -> Any:
    base = ["run", "--vendor", "vendor-a", "--dump", str(SAMPLE), "--out", str(tmp_path / "o")]
    return CliRunner().invoke(cli, [*base, *args])


@pytest.mark.parametrize("value", ["0", "-1", str(MAX_WORKERS + 1), "1000000000", "two", ""])
def test_workers_out_of_range_is_a_usage_error(value: str, tmp_path: Path) -> None:
    result = _run(["--workers", value], tmp_path)
    assert result.exit_code == 2
    assert "--workers" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_workers_and_scheduler_together_are_refused(tmp_path: Path) -> None:
    result = _run(["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], tmp_path)
    assert result.exit_code == 2
    assert "not both" in result.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("address", ["", "   "])
def test_an_empty_scheduler_address_is_a_usage_error(address: str, tmp_path: Path) -> None:
    result = _run(["--scheduler", address], tmp_path)
    assert result.exit_code == 2
    assert "--scheduler needs the address" in result.output
    assert not (tmp_path / "o").exists()


def test_workers_beyond_the_limit_are_refused_by_the_job(tmp_path: Path) -> None:
    opts = JobOptions(VENDOR, SAMPLE, tmp_path / "o", workers=MAX_WORKERS + 1)
    with pytest.raises(EngineError, match="--workers must be between 1 and"):
        run_job(opts)
    with pytest.raises(EngineError, match="--workers must be between 1 and"):
        run_job(JobOptions(VENDOR, SAMPLE, tmp_path / "o", workers=0))
    assert not (tmp_path / "o").exists()


def test_an_unreachable_scheduler_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setattr(engines, "CONNECT_TIMEOUT", "1s")
    result = _run(["--scheduler", "tcp://127.0.0.1:1"], tmp_path)
    assert result.exit_code == 2, result.output
    assert "cannot reach the Dask scheduler tcp://127.0.0.1:1" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("address", ["not an address", "gopher://x:1", "tcp://:notaport"])
def test_a_malformed_scheduler_address_exits_2(
    address: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setattr(engines, "CONNECT_TIMEOUT", "1s")
    result = _run(["--scheduler", address], tmp_path)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_scheduler_without_dask_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed → ImportError
    result = _run(["--scheduler", "tcp://127.0.0.1:8786"], tmp_path)
    assert result.exit_code == 2
    assert "--scheduler needs Dask: pip install 'chukan-etl[dask]'" in result.output
    assert not (tmp_path / "o").exists()


def test_a_cluster_that_cannot_see_the_stage_is_named(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=None) as local:
        engine = engines.DaskCluster(local.scheduler_address)
        try:
            engine.check_shared([tmp_path])  # seen
            with pytest.raises(EngineError, match="shared filesystem") as raised:
                engine.check_shared([tmp_path, tmp_path / "elsewhere"])
            assert str(tmp_path / "elsewhere") in str(raised.value)
        finally:
            engine.close()


def test_a_chunk_tasks_error_crosses_processes_as_one_line(tmp_path: Path) -> None:
    task = cast(Any, type("Task", (), {"folder": tmp_path / "gone"}))()
    with pytest.raises(ChunkTaskError, match="shared filesystem") as raised:
        run_chunk(cast(ChunkTask, task))
    back = pickle.loads(pickle.dumps(raised.value))
    assert isinstance(back, ChukanError) and back.exit_code == 2
    assert str(back) == str(raised.value)
    # the stage errors' own arguments do not survive pickling; their message does, wrapped
    wrapped = ChunkTaskError(str(ExtractError(tmp_path / "x", "bad", byte_offset=3)))
    assert "byte offset 3" in str(pickle.loads(pickle.dumps(wrapped)))
