"""Progress accounting: a bar never says more records done than its total ("122/121")."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from etl.pipeline import JobOptions, run_job
from etl.report.console import progress_display
from etl.resources import data_dir

SAMPLE = data_dir("fixtures") / "vendor-a" / "sample"


def test_run_progress_ends_at_the_record_count(tmp_path: Path) -> None:
    calls: list[tuple[str, int, int | None]] = []
    opts = JobOptions(
        vendor_folder=data_dir("mappings") / "vendor-a", dump_dir=SAMPLE, out_dir=tmp_path / "o"
    )
    result = run_job(opts, lambda label, done, total: calls.append((label, done, total)))
    for s in result.manifest.sources:
        mine = [(done, total) for label, done, total in calls if label == s.name]
        assert mine, s.name
        assert all(total is None or done <= total for done, total in mine), (s.name, mine)
        # NENKIN.DAT ends in a cut-off record: 9717 bytes of 80-byte records are 122 records
        assert mine[-1] == (s.records_in, s.records_in), (s.name, mine)


def test_display_clamps_an_estimate_that_is_too_low() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=100, force_terminal=False)
    with progress_display(console) as update:
        update("nenkin", 122, 121)
        update("map kokunen/kokunen", 0, None)
    text = buffer.getvalue()
    assert "122/122" in text and "122/121" not in text
