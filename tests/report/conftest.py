"""A finished vendor-a sample run, shared by the report tests (the job runs once per session)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from etl.report import RunReport, load_run_report

FIXED_CREATED_AT = "2026-04-01T09:00:00+09:00"  # the only volatile field a report shows


@pytest.fixture(scope="session")
def sample_run(sample_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared sample run, copied, with the volatile manifest fields fixed for golden files."""
    out = tmp_path_factory.mktemp("report") / "run"
    shutil.copytree(sample_run, out)
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text("utf-8"))
    manifest["created_at"] = FIXED_CREATED_AT
    manifest["dump_dir"] = "fixtures/vendor-a/sample"  # absolute in a real run
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), "utf-8")
    return out


def copy_run(sample_run: Path, dest: Path, run_meta: dict[str, Any] | None = None) -> Path:
    """A private copy of the sample run, optionally with a pass's run.json."""
    shutil.copytree(sample_run, dest)
    if run_meta is not None:
        (dest / "run.json").write_text(json.dumps(run_meta, ensure_ascii=False), "utf-8")
    return dest


@pytest.fixture(scope="session")
def sample_report(sample_run: Path) -> RunReport:
    return load_run_report(sample_run)


PASS_META: dict[str, Any] = {
    "pass": "test1",
    "run_id": "test1-20260401-0900",
    "started_by": "移行 太郎",
    "started_at": "2026-04-01T08:59:30+09:00",
    "override": None,
    "gate_warnings": [],
}
