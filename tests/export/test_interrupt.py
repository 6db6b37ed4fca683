"""An export killed with SIGKILL mid-way leaves no partial version visible; a rerun succeeds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from etl.export import ExportStatus, export_fiscal_year
from etl.passes import load_project

from .conftest import make_project

SCRIPT = "from etl.cli.export_cmd import export; export()"


def _staging(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(".v1.partial-")]


@pytest.mark.slow
def test_kill_mid_export_then_rerun(tmp_path: Path) -> None:
    root = make_project(tmp_path / "mig", persons=60_000, seed=5)
    folder = root / "exports" / "FY2025" / "012343"
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, "--fiscal-year", "2025", "--project", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # wait until the pipeline is writing into the hidden staging folder, then a bit more
    deadline = time.monotonic() + 60
    while not (folder.is_dir() and _staging(folder)):
        assert proc.poll() is None, "the export ended before it could be killed"
        assert time.monotonic() < deadline, "the export never started staging"
        time.sleep(0.02)
    time.sleep(0.5)
    assert proc.poll() is None, "the export ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL

    # killed mid-run: its staging folder is left, but no version and no latest.json is visible
    assert _staging(folder)
    assert [p.name for p in folder.iterdir() if not p.name.startswith(".")] == []

    done = export_fiscal_year(load_project(root), 2025, key=None)
    assert done.version == 1 and done.status is not ExportStatus.UP_TO_DATE
    assert any(p.name.startswith(".v1.partial-") for p in done.swept)
    assert sorted(p.name for p in folder.iterdir()) == ["latest.json", "v1"]
    assert done.counts.records_in > 60_000
