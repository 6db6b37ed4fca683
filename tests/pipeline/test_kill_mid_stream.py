"""A run killed while its V2.1 files are being appended leaves nothing visible, and the next
run into the same folder removes what it left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from etl.pipeline import JobOptions, run_job
from etl.resources import data_dir
from fixtures.generate import generate_vendor_a

VENDOR = data_dir("mappings") / "vendor-a"


def _staged_record_files(parent: Path) -> list[Path]:
    """The V2.1 files being appended in a hidden staging folder (not yet published)."""
    return list(parent.glob(".out.partial-*/juki/.jumin.csv.*.tmp"))


def test_a_run_killed_mid_stream_leaves_nothing_visible(tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    generate_vendor_a(dump, 40_000, seed=3, broken=False)
    out = tmp_path / "runs" / "out"
    command = [sys.executable, "-c", "from etl.cli import main; main()", "run"]
    command += ["--vendor", "vendor-a", "--dump", str(dump), "--out", str(out)]
    command += ["--gyomu", "juki", "--chunk-records", "500"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not _staged_record_files(out.parent) and time.monotonic() < deadline:
        assert proc.poll() is None, "the run ended before its files were being written"
        time.sleep(0.02)
    assert _staged_record_files(out.parent), "no V2.1 file was being appended within 60 s"
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    assert not out.exists()
    assert all(p.name.startswith(".") for p in out.parent.iterdir())  # only the hidden stage
    run_job(JobOptions(vendor_folder=VENDOR, dump_dir=dump, out_dir=out, gyomu=("juki",)))
    assert [p.name for p in out.parent.iterdir()] == ["out"]  # the leftover was swept
    assert (out / "manifest.json").is_file()
